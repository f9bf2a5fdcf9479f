import { executeChild, workflowInfo } from '@temporalio/workflow';
import { TASK_QUEUES } from '../temporal/task-queues';
import { backfillWorkflow } from './collection';
import { generateSignalsWorkflow } from './signals';
import type { BackfillProgress, CollectionTarget, GenerateSignalsSummary } from './types';

export interface WarmUpInput {
  /** Every collected asset, as the tiers collect it. */
  targets: CollectionTarget[];
  /** Epoch ms: the history to backfill starts here (long enough for every strategy's window). */
  historyFrom: number;
  /** Epoch ms: daily decisions from here to the start of the run are made and paper-traded. */
  decideFrom: number;
}

export interface WarmUpSummary {
  backfill: BackfillProgress;
  signals: GenerateSignalsSummary;
}

/**
 * A first start on the simulated market, so the dashboard has something to show at once: the tiers'
 * history is backfilled, then the strategies decide at each daily close of the last days and every
 * new aggregated signal goes through the risk-and-execute saga one after the other, as the live
 * pipeline trades them — filled at today's price, not the day's: a demonstration, not a replay.
 */
export async function warmUpWorkflow(input: WarmUpInput): Promise<WarmUpSummary> {
  const { workflowId, startTime } = workflowInfo();
  const now = startTime.getTime();
  const backfill = await executeChild(backfillWorkflow, {
    workflowId: `${workflowId}-backfill`,
    taskQueue: TASK_QUEUES.pipeline,
    args: [{ targets: input.targets, from: input.historyFrom, to: now }],
  });
  const signals = await executeChild(generateSignalsWorkflow, {
    workflowId: `${workflowId}-signals`,
    taskQueue: TASK_QUEUES.pipeline,
    args: [{ from: input.decideFrom, to: now, stepMinutes: 1440, execute: true }],
  });
  return { backfill, signals };
}
