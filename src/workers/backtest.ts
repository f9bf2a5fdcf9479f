import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import { type BacktestActivities, type BacktestDeps, createBacktestActivities } from '../activities/backtest';
import { backtestSlotsAvailable } from '../metrics';
import { TASK_QUEUES } from '../temporal/task-queues';
import { workflowsPath } from './pipeline';
import { createWorker } from './interceptors';
import { replaySlots } from './replay-slots';

/**
 * How often a running backtest's heartbeat reaches the server at most (each report heartbeats, about
 * once a second). The SDK's default holds them back for 0.8 × the heartbeat timeout (48 s): a cancel,
 * which comes back with a heartbeat's answer, went unseen that long, and a retry resumed from a
 * checkpoint that old.
 */
const HEARTBEAT_THROTTLE = '1s';

/** The SDK's defaults for the slots a tuner must name besides the activities'. */
const WORKFLOW_TASK_SLOTS = 40;
const LOCAL_ACTIVITY_SLOTS = 100;
const NEXUS_TASK_SLOTS = 100;

/**
 * Backtests on `mts-backtest`, `concurrency` at once. A replay is CPU-bound on the process's one
 * thread: more backtests at once only overlap one's database and Temporal waits with another's
 * work (on the bench's sweeps two did better than one and about as well as four: README,
 * BACKTESTS_PER_WORKER), and the next one is taken only once the running replays share the thread
 * (`replaySlots`). More cores take more processes, on this machine or others, all polling the same
 * queue. Not the machine's core count: in a container that is the host's, and each running
 * backtest holds its bars in memory.
 */
export function createBacktestWorker(opts: {
  connection: NativeConnection; namespace: string; deps: BacktestDeps; concurrency: number; workflowBundle?: WorkflowBundle;
}) {
  const slots = replaySlots({
    maxRuns: opts.concurrency,
    replayActivity: 'runBacktest' satisfies keyof BacktestActivities,
    onAvailable: (available) => backtestSlotsAvailable.set(available),
  });
  return createWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUES.backtest,
    activities: createBacktestActivities({ ...opts.deps, threadShared: slots.threadShared }),
    tuner: {
      activityTaskSlotSupplier: slots,
      workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: WORKFLOW_TASK_SLOTS },
      localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: LOCAL_ACTIVITY_SLOTS },
      nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: NEXUS_TASK_SLOTS },
    },
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
  });
}
