/**
 * A trading worker in its own process, so a test can kill it with SIGKILL mid-saga.
 * Env: TEMPORAL_ADDRESS, DATABASE_URL, PORTFOLIO_ID.
 */
// First: the same quiet Temporal logger as the test process (expected activity failures are not printed).
import './quiet-temporal';
import { NativeConnection } from '@temporalio/worker';
import { loadRiskConfig } from '../../src/config/risk';
import { connectDatabase } from '../../src/db/client';
import { createTradingWorker } from '../../src/workers/trading';
import { sourceWorkflowBundle } from '../../src/workers/workflow-bundle';

const db = connectDatabase(process.env.DATABASE_URL!, 4, { planOnce: true });
const worker = await createTradingWorker({
  connection: await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
  namespace: 'default',
  workflowBundle: await sourceWorkflowBundle(),
  deps: {
    // A hundred sagas queue here for four connections: the 5 s staleness rule is tested on its own, not by load.
    db: db.db, risk: { ...loadRiskConfig(), processingTimeoutMs: 60_000 }, fillModel: { fixedSlippageBps: 10, volatilitySlippageFactor: 0, takerFeeBps: 10 },
    portfolioId: process.env.PORTFOLIO_ID!, initialCapital: 10_000,
  },
});
console.log('worker ready');
await worker.run();
