import type { NativeConnection } from '@temporalio/worker';
import { createMarketStreamActivities, type MarketStreamDeps } from '../activities/market-stream';
import { TASK_QUEUES } from '../temporal/task-queues';
import { createWorker } from './interceptors';

/**
 * The market stream consumer on `mts-market-stream`. Run it on two machines and the stream survives
 * either: Temporal moves the consumer to the other one after its heartbeat timeout.
 */
export function createMarketStreamWorker(opts: { connection: NativeConnection; namespace: string; deps: MarketStreamDeps }) {
  return createWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUES.marketStream,
    activities: createMarketStreamActivities(opts.deps),
    // The consumer is one long activity; a second slot lets a successor start while a shutdown drains.
    maxConcurrentActivityTaskExecutions: 2,
  });
}
