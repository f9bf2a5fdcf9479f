/**
 * The long workflows' progress, as every reader shows it (the API, the dashboard, `mts runs`): which
 * workflow types answer a progress query, the count of done against total in what they answer, and its wording.
 * No imports: the dashboard's bundle takes it as it is.
 */

/** The query that answers progress, by workflow type. */
export const PROGRESS_QUERIES: Readonly<Record<string, string>> = {
  backfillWorkflow: 'progress', generateSignalsWorkflow: 'progress', backtestWorkflow: 'progress', sweepWorkflow: 'progress', walkForwardWorkflow: 'progress',
};

/** The done/total pairs the progress queries answer with (src/workflows), and what each counts. */
const COUNTS: ReadonlyArray<readonly [done: string, total: string, unit: string]> = [
  ['chunksDone', 'chunksTotal', 'chunks'], ['stepsDone', 'stepsTotal', 'decision times'], ['barsDone', 'barsTotal', 'bars'],
  ['done', 'total', 'combinations'], ['foldsDone', 'folds', 'folds'],
];

export interface ProgressCount {
  done: number;
  total: number;
  /** What is counted: chunks, decision times, bars, combinations, folds. */
  unit: string;
}

/** What a progress query answered, as done of total; undefined before the run has anything to count. */
export function progressCount(progress: unknown): ProgressCount | undefined {
  if (typeof progress !== 'object' || progress === null) return undefined;
  const fields = progress as Record<string, unknown>;
  for (const [doneKey, totalKey, unit] of COUNTS) {
    const done = fields[doneKey];
    const total = fields[totalKey];
    if (typeof done === 'number' && typeof total === 'number' && total > 0) return { done, total, unit };
  }
  return undefined;
}

/** A running long workflow's progress in words ("42 % (21 of 50 chunks)"), as the dashboard and `mts runs` print it. */
export function progressText(progress: unknown): string {
  const count = progressCount(progress);
  if (!count) return 'no progress reported yet';
  const en = (x: number) => x.toLocaleString('en');
  return `${Math.round((count.done / count.total) * 100)} % (${en(count.done)} of ${en(count.total)} ${count.unit})`;
}
