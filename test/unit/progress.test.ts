import { describe, expect, it } from 'vitest';
import { progressCount } from '../../src/temporal/progress';
import type { BacktestProgress, BackfillProgress, GenerateSignalsProgress } from '../../src/workflows/types';

describe('progressCount: what each long workflow\'s progress query answers, as done of total', () => {
  it('reads every long workflow\'s own progress type', () => {
    const backfill: BackfillProgress = { chunksDone: 21, chunksTotal: 50, rowsWritten: 1234, assets: [] };
    const signals: GenerateSignalsProgress = {
      stepsDone: 30, stepsTotal: 120, signals: 4, aggregated: 2, alerts: 2, deliveries: { delivered: 2, failed: 0 }, sagasStarted: 1, sagaOutcomes: {},
    };
    const backtest: BacktestProgress = { barsDone: 250, barsTotal: 1000, equity: 10_250, resumedFromCheckpoint: false };
    expect(progressCount(backfill)).toEqual({ done: 21, total: 50, unit: 'chunks' });
    expect(progressCount(signals)).toEqual({ done: 30, total: 120, unit: 'decision times' });
    expect(progressCount(backtest)).toEqual({ done: 250, total: 1000, unit: 'bars' });
    expect(progressCount({ done: 3, total: 24 })).toEqual({ done: 3, total: 24, unit: 'combinations' });
    expect(progressCount({ foldsDone: 1, folds: 3 })).toEqual({ done: 1, total: 3, unit: 'folds' });
  });

  it('has nothing to count before a run reports, or for nothing it knows', () => {
    expect(progressCount(null)).toBeUndefined();
    expect(progressCount({ chunksDone: 0, chunksTotal: 0 })).toBeUndefined();
    expect(progressCount({ foldsDone: '1', folds: 3 })).toBeUndefined();
    expect(progressCount('progress')).toBeUndefined();
  });
});
