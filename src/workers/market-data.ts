import type { NativeConnection, Worker } from '@temporalio/worker';
import { type CollectionDeps, createCollectionActivities } from '../activities/collection';
import { TASK_QUEUES } from '../temporal/task-queues';
import { createWorker } from './interceptors';

export interface MarketDataWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  deps: CollectionDeps;
  /**
   * Provider limits, per second, for the whole task queue (every worker process on it together):
   * Temporal's server enforces `maxTaskQueueActivitiesPerSecond`, so adding workers never exceeds them.
   */
  cryptoCallsPerSecond?: number;
  macroCallsPerSecond?: number;
}

/** Two workers: crypto collection on `mts-market-data`, macro on `mts-market-data-macro`, each capped at its provider's rate. */
export async function createMarketDataWorkers(opts: MarketDataWorkerOptions): Promise<Worker[]> {
  const activities = createCollectionActivities(opts.deps);
  return Promise.all([
    createWorker({
      connection: opts.connection,
      namespace: opts.namespace,
      taskQueue: TASK_QUEUES.marketData,
      activities,
      maxTaskQueueActivitiesPerSecond: opts.cryptoCallsPerSecond,
    }),
    createWorker({
      connection: opts.connection,
      namespace: opts.namespace,
      taskQueue: TASK_QUEUES.macroData,
      activities,
      maxTaskQueueActivitiesPerSecond: opts.macroCallsPerSecond,
    }),
  ]);
}
