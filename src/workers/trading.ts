import { type NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createTradingActivities, type TradingDeps } from '../activities/trading';
import { TASK_QUEUES } from '../temporal/task-queues';
import { workflowsPath } from './pipeline';

/** The per-signal sagas and their risk and execution activities, on `mts-trading`. */
export function createTradingWorker(opts: { connection: NativeConnection; namespace: string; deps: TradingDeps; workflowBundle?: WorkflowBundle }) {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUES.trading,
    activities: createTradingActivities(opts.deps),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
  });
}
