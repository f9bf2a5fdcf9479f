import { CancellationScope, defineQuery, executeChild, patched, setHandler } from '@temporalio/workflow';
import { innermostMessage } from '../temporal/failures';
import { TASK_QUEUES } from '../temporal/task-queues';
import { backtestWorkflow } from './backtest';
import { settleAll } from './settle';
import type { SweepEntry, SweepRequest, SweepResult } from './types';

export const sweepProgressQuery = defineQuery<{ done: number; total: number }>('progress');

/** Every combination of the grid, in a stable order. */
export function gridCombinations(grid: Record<string, Array<number | string>>): Array<Record<string, number | string>> {
  return Object.entries(grid).reduce<Array<Record<string, number | string>>>(
    (combos, [name, values]) => combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v }))),
    [{}],
  );
}

/**
 * A parameter sweep: one child backtestWorkflow per combination on `mts-backtest`, so every worker
 * process on that queue (on any machine) takes a share; results ranked by the chosen metric.
 */
export async function sweepWorkflow(req: SweepRequest): Promise<SweepResult> {
  const combos = gridCombinations(req.grid);
  const entries: SweepEntry[] = combos.map((params, k) => ({ backtestId: `${req.id}-${k}`, params, summary: null }));
  let done = 0;
  setHandler(sweepProgressQuery, () => ({ done, total: entries.length }));
  // Sweeps started before this ran on when cancelled: every child left failed at once as cancelled,
  // and the sweep completed with their errors; their histories replay that way.
  const endsWhenCancelled = patched('sweep-ends-when-cancelled');
  let next = 0;
  const lane = async () => {
    while (next < entries.length) {
      const entry = entries[next++];
      try {
        entry.summary = await executeChild(backtestWorkflow, {
          workflowId: `backtest-${entry.backtestId}`,
          taskQueue: TASK_QUEUES.backtest,
          args: [{ ...req.base, id: entry.backtestId, params: entry.params, dataScope: req.id }],
        });
      } catch (err) {
        // A cancelled sweep ends cancelled (its running children cancelled with it), starting no more;
        // a child cancelled on its own is one combination without a result.
        if (endsWhenCancelled && CancellationScope.current().consideredCancelled) throw err;
        entry.error = innermostMessage(err);
      }
      done += 1;
    }
  };
  // Only a cancellation rejects a lane (a sweep from before `endsWhenCancelled` never saw one).
  await settleAll(Array.from({ length: Math.min(req.concurrency ?? 8, entries.length) }, lane));
  const score = (e: SweepEntry) => {
    const v = e.summary?.[req.metric];
    if (v === null || v === undefined) return -Infinity;
    return req.metric === 'maxDrawdownPct' ? -v : v;
  };
  return { id: req.id, metric: req.metric, ranked: [...entries].sort((a, b) => score(b) - score(a)) };
}
