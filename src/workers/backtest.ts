import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import { type BacktestDeps, createBacktestActivities } from '../activities/backtest';
import { TASK_QUEUES } from '../temporal/task-queues';
import { workflowsPath } from './pipeline';
import { createWorker } from './interceptors';

/**
 * How often a running backtest's heartbeat reaches the server at most (each report heartbeats, about
 * once a second). The SDK's default holds them back for 0.8 × the heartbeat timeout (48 s): a cancel,
 * which comes back with a heartbeat's answer, went unseen that long, and a retry resumed from a
 * checkpoint that old.
 */
const HEARTBEAT_THROTTLE = '1s';

/**
 * Backtests on `mts-backtest`, `concurrency` at once. A replay is CPU-bound on the process's one
 * thread: more backtests at once only overlap one's database and Temporal waits with another's
 * work (on the bench's sweeps two did better than one and about as well as four: README,
 * BACKTESTS_PER_WORKER). More cores take more processes, on this machine or others, all polling
 * the same queue. Not the machine's core count: in a container that is the host's, and each
 * running backtest holds its bars in memory.
 */
export function createBacktestWorker(opts: {
  connection: NativeConnection; namespace: string; deps: BacktestDeps; concurrency: number; workflowBundle?: WorkflowBundle;
}) {
  return createWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUES.backtest,
    activities: createBacktestActivities(opts.deps),
    maxConcurrentActivityTaskExecutions: opts.concurrency,
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
  });
}
