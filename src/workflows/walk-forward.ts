import { ApplicationFailure, defineQuery, executeChild, setHandler } from '@temporalio/workflow';
import { foldSweepId, sweepWorkflowId } from '../temporal/analysis-ids';
import { TASK_QUEUES } from '../temporal/task-queues';
import { backtestWorkflow } from './backtest';
import { settleAll } from './settle';
import { sweepWorkflow } from './sweep';
import type { WalkForwardFold, WalkForwardRequest, WalkForwardResult } from './types';

const DAY_MS = 86_400_000;

export const walkForwardProgressQuery = defineQuery<{ foldsDone: number; folds: number }>('progress');

/** Rolling windows: fold k optimises on [start_k, start_k + IS) and tests on the next OOS stretch. */
export function walkForwardWindows(from: number, to: number, folds: number, inSampleDays: number) {
  const inSample = inSampleDays * DAY_MS;
  const outOfSample = Math.floor((to - from - inSample) / folds);
  if (outOfSample < DAY_MS) throw new Error(`the range leaves ${Math.max(0, outOfSample / DAY_MS).toFixed(1)} days per out-of-sample fold; widen it or use fewer folds`);
  return Array.from({ length: folds }, (_, k) => {
    const isFrom = from + k * outOfSample;
    const oosFrom = isFrom + inSample;
    return { fold: k, isFrom, isTo: oosFrom - 1, oosFrom, oosTo: k === folds - 1 ? to : oosFrom + outOfSample - 1 };
  });
}

/**
 * Walk-forward: every in-sample sweep runs at once; then each out-of-sample fold is backtested with
 * its window's best parameters, in order, starting from the equity the previous fold ended with.
 */
export async function walkForwardWorkflow(req: WalkForwardRequest): Promise<WalkForwardResult> {
  let windows;
  try {
    windows = walkForwardWindows(req.from, req.to, req.folds, req.inSampleDays);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidWalkForward');
  }
  let foldsDone = 0;
  setHandler(walkForwardProgressQuery, () => ({ foldsDone, folds: windows.length }));
  // Every fold's sweep settles before a failed or cancelled walk-forward closes. (Sweeps from before
  // `sweep-ends-when-cancelled` never reject, so for their walk-forwards this is `Promise.all`.)
  const sweeps = await settleAll(windows.map((w) => executeChild(sweepWorkflow, {
    workflowId: sweepWorkflowId(foldSweepId(req.id, w.fold)),
    taskQueue: TASK_QUEUES.backtest,
    args: [{ id: foldSweepId(req.id, w.fold), base: { ...req.base, from: w.isFrom, to: w.isTo, initialCapital: req.initialCapital }, grid: req.grid, metric: req.metric }],
  })));
  const folds: WalkForwardFold[] = [];
  let capital = req.initialCapital;
  for (const w of windows) {
    const best = sweeps[w.fold].ranked.find((e) => e.summary !== null) ?? null;
    const backtestId = `${req.id}-oos${w.fold}`;
    const summary = best
      ? await executeChild(backtestWorkflow, {
        workflowId: `backtest-${backtestId}`,
        taskQueue: TASK_QUEUES.backtest,
        args: [{ ...req.base, id: backtestId, params: best.params, from: w.oosFrom, to: w.oosTo, initialCapital: capital }],
      })
      : null;
    folds.push({
      fold: w.fold,
      inSample: { from: w.isFrom, to: w.isTo, best },
      outOfSample: { from: w.oosFrom, to: w.oosTo, backtestId, initialCapital: capital, summary },
    });
    if (summary) capital = summary.finalEquity;
    foldsDone += 1;
  }
  return { id: req.id, folds, stitched: { initialCapital: req.initialCapital, finalEquity: capital, totalReturn: capital / req.initialCapital - 1 } };
}
