import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import { createHealthActivities } from '../activities/health';
import { createSignalActivities, type SignalDeps } from '../activities/signals';
import type { CollectionConfig } from '../config/collection';
import { fromRoot } from '../paths';
import { TASK_QUEUES } from '../temporal/task-queues';
import { createWorker } from './interceptors';

export const workflowsPath = fromRoot('src', 'workflows', 'index.ts');

/**
 * Runs the orchestration workflows (collection, backfill, signals, data health) and the signal,
 * alert and health activities. Pass a prebuilt bundle to skip bundling.
 */
export function createPipelineWorker(opts: {
  connection: NativeConnection; namespace: string; signals: SignalDeps; workflowBundle?: WorkflowBundle;
  /** The collection config for the data health check; the signals' channels carry its alerts. */
  collection?: CollectionConfig;
}) {
  return createWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUES.pipeline,
    activities: {
      ...createSignalActivities(opts.signals),
      ...(opts.collection ? createHealthActivities({ db: opts.signals.db, collection: opts.collection, channels: opts.signals.channels }) : {}),
    },
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
  });
}
