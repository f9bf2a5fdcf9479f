/**
 * A backtest worker in its own process, so a test can kill it mid-run. Progress reports are slowed
 * by PROGRESS_PAUSE_MS so the run lasts long enough to be interrupted; the runs whose workflow id
 * contains SLOW_RUNS pause SLOW_PAUSE_MS instead (they notice a cancellation that much later).
 * Env: TEMPORAL_ADDRESS, DATABASE_URL, PROGRESS_PAUSE_MS, SLOW_RUNS, SLOW_PAUSE_MS, BACKTESTS_PER_WORKER.
 */
// First: the same quiet Temporal logger as the test process (expected activity failures are not printed).
import './quiet-temporal';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadEnv } from '../../src/config/env';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { loadStrategyConfigs } from '../../src/config/strategies';
import { connectDatabase } from '../../src/db/client';
import { createBacktestWorker } from '../../src/workers/backtest';
import { sourceWorkflowBundle } from '../../src/workers/workflow-bundle';
import { backtestProgressSignal } from '../../src/workflows/backtest';

const address = process.env.TEMPORAL_ADDRESS!;
const pauseOf = (workflowId: string) => Number(
  (process.env.SLOW_RUNS && workflowId.includes(process.env.SLOW_RUNS) ? process.env.SLOW_PAUSE_MS : process.env.PROGRESS_PAUSE_MS) ?? 0,
);
const client = new Client({ connection: await Connection.connect({ address }) });
const worker = await createBacktestWorker({
  connection: await NativeConnection.connect({ address }),
  namespace: 'default',
  concurrency: loadEnv().BACKTESTS_PER_WORKER,
  workflowBundle: await sourceWorkflowBundle(),
  deps: {
    db: connectDatabase(process.env.DATABASE_URL!, 2).db, risk: loadRiskConfig(), signals: loadSignalsConfig(), strategies: loadStrategyConfigs(),
    async reportProgress(workflowId, progress) {
      await client.workflow.getHandle(workflowId).signal(backtestProgressSignal, progress);
      await new Promise((r) => setTimeout(r, pauseOf(workflowId)));
    },
  },
});
console.log('worker ready');
await worker.run();
