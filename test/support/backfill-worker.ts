/**
 * A market-data worker in its own process, so a test can kill it with SIGKILL mid-backfill.
 * Env: TEMPORAL_ADDRESS, DATABASE_URL, SIM_SEED, SIM_LATENCY_MS.
 */
// First: the same quiet Temporal logger as the test process (expected activity failures are not printed).
import './quiet-temporal';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { connectDatabase } from '../../src/db/client';
import { simulatedSources } from '../../src/providers/simulated';
import { createMarketDataWorkers } from '../../src/workers/market-data';
import { backfillProgressSignal } from '../../src/workflows/collection';

const address = process.env.TEMPORAL_ADDRESS!;
const db = connectDatabase(process.env.DATABASE_URL!, 2);
const client = new Client({ connection: await Connection.connect({ address }) });
const workers = await createMarketDataWorkers({
  connection: await NativeConnection.connect({ address }),
  namespace: 'default',
  deps: {
    db: db.db,
    ...simulatedSources(Number(process.env.SIM_SEED), Number(process.env.SIM_LATENCY_MS)),
    reportBackfillProgress: (workflowId, progress) => client.workflow.getHandle(workflowId).signal(backfillProgressSignal, progress),
  },
});
console.log('worker ready');
await Promise.all(workers.map((w) => w.run()));
