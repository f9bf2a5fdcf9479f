import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { StreamsConfig } from '../config/streams';
import { TASK_QUEUES } from '../temporal/task-queues';
import { MARKET_STREAM_WORKFLOW_ID, type MarketStreamInput, marketStreamWorkflow } from '../workflows/market-stream';

/** The stream workflow's input from config/streams.json. */
export const marketStreamInput = (config: StreamsConfig): MarketStreamInput => ({
  assets: config.assets, runForMs: config.runMinutes * 60_000, heartbeatTimeoutMs: config.heartbeatTimeoutSeconds * 1000,
});

/**
 * Starts the market stream workflow unless it runs already (one per namespace). Safe to repeat:
 * `mts dev` and `mts schedules sync` both call it, unless MARKET_STREAM=none.
 */
export async function ensureMarketStream(client: Client, input: MarketStreamInput): Promise<void> {
  await client.workflow.start(marketStreamWorkflow, {
    workflowId: MARKET_STREAM_WORKFLOW_ID, taskQueue: TASK_QUEUES.pipeline, args: [input], workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}
