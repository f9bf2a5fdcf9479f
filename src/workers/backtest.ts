import { availableParallelism } from 'node:os';
import { type NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { type BacktestDeps, createBacktestActivities } from '../activities/backtest';
import { TASK_QUEUES } from '../temporal/task-queues';
import { workflowsPath } from './pipeline';

/** Backtests on `mts-backtest`: CPU-bound, so one activity per core; add workers on other machines to go wider. */
export function createBacktestWorker(opts: { connection: NativeConnection; namespace: string; deps: BacktestDeps; workflowBundle?: WorkflowBundle }) {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUES.backtest,
    activities: createBacktestActivities(opts.deps),
    maxConcurrentActivityTaskExecutions: availableParallelism(),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
  });
}
