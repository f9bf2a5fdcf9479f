import { continueAsNew, log, proxyActivities } from '@temporalio/workflow';
import type { MarketStreamActivities } from '../activities/market-stream';
import { TASK_QUEUES } from '../temporal/task-queues';

export interface MarketStreamInput {
  assets: string[];
  /** The consumer hands over after this long; the workflow then continues as new, so its history stays short. */
  runForMs: number;
  /** Past this without a heartbeat the consumer is retried on another worker of the market-stream role. */
  heartbeatTimeoutMs: number;
}

export const MARKET_STREAM_WORKFLOW_ID = 'market-stream';

/**
 * Owns the real-time market stream (workflow id `market-stream`): runs the consumer activity on
 * `mts-market-stream`, retried for ever with backoff (a dead worker, a database outage), and
 * continues as new after each run. The exchange is the worker's MARKET_STREAM.
 */
export async function marketStreamWorkflow(input: MarketStreamInput): Promise<never> {
  const { consumeMarketStream } = proxyActivities<MarketStreamActivities>({
    taskQueue: TASK_QUEUES.marketStream,
    startToCloseTimeout: input.runForMs + 10 * 60_000,
    heartbeatTimeout: input.heartbeatTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
  const summary = await consumeMarketStream({ assets: input.assets, runForMs: input.runForMs });
  log.info('market stream run ended', { ...summary });
  return continueAsNew<typeof marketStreamWorkflow>(input);
}
