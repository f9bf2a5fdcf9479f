import {
  ActivityCancellationType, CancellationScope, defineQuery, defineSignal, patched, proxyActivities, setHandler,
} from '@temporalio/workflow';
import type { BacktestActivities } from '../activities/backtest';
import { TASK_QUEUES } from '../temporal/task-queues';
import type { BacktestProgress, BacktestRequest, BacktestSummary } from './types';

export const backtestProgressQuery = defineQuery<BacktestProgress | null>('progress');
export const backtestProgressSignal = defineSignal<[BacktestProgress]>('backtestProgress');

/**
 * A run started before this patch ended at once when cancelled, its replay left to fail at its next
 * report and what it had stored left behind; its history replays that way.
 */
const DISCARDS_WHEN_CANCELLED = 'backtest-discards-when-cancelled';
/** A run started before this patch left what it stored when its replay failed for good; its history replays that way. */
const DISCARDS_WHEN_FAILED = 'backtest-discards-when-failed';

/**
 * One backtest: the engine runs in a long activity that checkpoints its state through heartbeats;
 * progress (bars done, total, equity so far) is the `progress` query. Cancelling the workflow cancels
 * the replay at its next checkpoint; once it has stopped, what it stored (curve, trades, past signals)
 * is discarded and the workflow ends cancelled. A replay that fails for good (after its retries) is
 * discarded the same way: a run without a result keeps nothing.
 */
export async function backtestWorkflow(req: BacktestRequest): Promise<BacktestSummary> {
  let progress: BacktestProgress | null = null;
  setHandler(backtestProgressSignal, (p) => { progress = p; });
  setHandler(backtestProgressQuery, () => progress);
  const discards = patched(DISCARDS_WHEN_CANCELLED);
  const { runBacktest } = proxyActivities<BacktestActivities>({
    taskQueue: TASK_QUEUES.backtest,
    startToCloseTimeout: '24h',
    heartbeatTimeout: req.heartbeatTimeoutMs ?? 60_000,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
    // The replay stops at its next checkpoint, still able to report, before anything is discarded.
    cancellationType: discards ? ActivityCancellationType.WAIT_CANCELLATION_COMPLETED : ActivityCancellationType.TRY_CANCEL,
  });
  const { discardBacktest } = proxyActivities<BacktestActivities>({
    taskQueue: TASK_QUEUES.backtest,
    startToCloseTimeout: '1m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
  try {
    return await runBacktest(req);
  } catch (err) {
    // Cancelled (whether the replay acknowledged it or its worker was lost meanwhile: a timeout), or failed.
    const cancelled = CancellationScope.current().consideredCancelled;
    if (cancelled ? discards : patched(DISCARDS_WHEN_FAILED)) {
      await CancellationScope.nonCancellable(() => discardBacktest(req.id));
    }
    throw err;
  }
}
