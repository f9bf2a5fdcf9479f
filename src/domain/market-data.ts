import type { MacroSeries, PriceSeries } from './signals';
import { DAY_MS, type Candle } from './types';

/**
 * Bars of `barMs` (a day by default) from bars of any length that divides it, by UTC period. A bar
 * closes when its last sub-bar closes, so a period still in progress is a partial bar known only up
 * to its last sub-bar.
 */
export function barSeries(candles: CandleColumns, intervalMs: number, barMs = DAY_MS): PriceSeries {
  const s = { time: [] as number[], open: [] as number[], high: [] as number[], low: [] as number[], close: [] as number[], volume: [] as number[] };
  const { timestamp, open, high, low, close, volume } = candles;
  let period = Number.NaN;
  for (let k = 0; k < timestamp.length; k++) {
    const d = Math.floor(timestamp[k] / barMs);
    const end = timestamp[k] + intervalMs;
    const i = s.time.length - 1;
    if (d !== period) {
      period = d;
      s.time.push(end); s.open.push(open[k]); s.high.push(high[k]); s.low.push(low[k]); s.close.push(close[k]); s.volume.push(volume[k]);
    } else {
      s.time[i] = end;
      s.high[i] = Math.max(s.high[i], high[k]);
      s.low[i] = Math.min(s.low[i], low[k]);
      s.close[i] = close[k];
      s.volume[i] += volume[k];
    }
  }
  return s satisfies PriceSeries;
}

/**
 * Candles of `barMs` from candles of `intervalMs` dividing it, oldest first, each at the start of its
 * UTC period: `barSeries`'s bars as a chart draws them.
 */
export function candlesOfBar(candles: Candle[], intervalMs: number, barMs: number): Candle[] {
  const s = barSeries(candleColumns(candles), intervalMs, barMs);
  return Array.from({ length: s.time.length }, (_, i) => ({
    timestamp: Math.floor((s.time[i] - intervalMs) / barMs) * barMs, open: s.open[i], high: s.high[i], low: s.low[i], close: s.close[i], volume: s.volume[i],
  }));
}

/** Candles as columns, oldest first: how the database hands them over for bars. */
export interface CandleColumns {
  timestamp: ArrayLike<number>;
  open: ArrayLike<number>;
  high: ArrayLike<number>;
  low: ArrayLike<number>;
  close: ArrayLike<number>;
  volume: ArrayLike<number>;
}

/** Candles as rows (a provider's or the simulated market's) as columns. */
export const candleColumns = (candles: Candle[]): CandleColumns => ({
  timestamp: candles.map((c) => c.timestamp), open: candles.map((c) => c.open), high: candles.map((c) => c.high),
  low: candles.map((c) => c.low), close: candles.map((c) => c.close), volume: candles.map((c) => c.volume),
});

/** Daily bars from candles as rows. */
export const dailySeries = (candles: Candle[], intervalMs: number): PriceSeries => barSeries(candleColumns(candles), intervalMs, DAY_MS);

/** A daily macro observation is treated as known at the UTC midnight after its date. */
export function macroSeriesFrom(rows: Array<{ date: string; value: number }>): MacroSeries {
  return {
    time: rows.map((r) => Date.parse(`${r.date}T00:00:00Z`) + DAY_MS),
    date: rows.map((r) => r.date),
    value: rows.map((r) => r.value),
  };
}
