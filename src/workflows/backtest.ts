import { defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { BacktestActivities } from '../activities/backtest';
import { TASK_QUEUES } from '../temporal/task-queues';
import type { BacktestProgress, BacktestRequest, BacktestSummary } from './types';

export const backtestProgressQuery = defineQuery<BacktestProgress | null>('progress');
export const backtestProgressSignal = defineSignal<[BacktestProgress]>('backtestProgress');

/**
 * One backtest: the engine runs in a long activity that checkpoints its state through heartbeats;
 * progress (bars done, total, equity so far) is the `progress` query; cancelling the workflow
 * cancels the activity at its next checkpoint.
 */
export async function backtestWorkflow(req: BacktestRequest): Promise<BacktestSummary> {
  let progress: BacktestProgress | null = null;
  setHandler(backtestProgressSignal, (p) => { progress = p; });
  setHandler(backtestProgressQuery, () => progress);
  const { runBacktest } = proxyActivities<BacktestActivities>({
    taskQueue: TASK_QUEUES.backtest,
    startToCloseTimeout: '24h',
    heartbeatTimeout: req.heartbeatTimeoutMs ?? 60_000,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
  });
  return runBacktest(req);
}
