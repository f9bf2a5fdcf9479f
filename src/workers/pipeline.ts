import { type NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createSignalActivities, type SignalDeps } from '../activities/signals';
import { fromRoot } from '../paths';
import { TASK_QUEUES } from '../temporal/task-queues';

export const workflowsPath = fromRoot('src', 'workflows', 'index.ts');

/**
 * Runs the orchestration workflows (collection, backfill, signals) and the signal and alert
 * activities. Pass a prebuilt bundle to skip bundling.
 */
export function createPipelineWorker(opts: {
  connection: NativeConnection; namespace: string; signals: SignalDeps; workflowBundle?: WorkflowBundle;
}) {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUES.pipeline,
    activities: createSignalActivities(opts.signals),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
  });
}
