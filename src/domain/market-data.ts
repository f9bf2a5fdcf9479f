import type { MacroSeries, PriceSeries } from './signals';
import { DAY_MS, type Candle } from './types';

/**
 * Bars of `barMs` (a day by default) from bars of any length that divides it, by UTC period. A bar
 * closes when its last sub-bar closes, so a period still in progress is a partial bar known only up
 * to its last sub-bar.
 */
export function barSeries(candles: Candle[], intervalMs: number, barMs = DAY_MS): PriceSeries {
  const s = { time: [] as number[], open: [] as number[], high: [] as number[], low: [] as number[], close: [] as number[], volume: [] as number[] };
  let period = Number.NaN;
  for (const c of candles) {
    const d = Math.floor(c.timestamp / barMs);
    const end = c.timestamp + intervalMs;
    const i = s.time.length - 1;
    if (d !== period) {
      period = d;
      s.time.push(end); s.open.push(c.open); s.high.push(c.high); s.low.push(c.low); s.close.push(c.close); s.volume.push(c.volume);
    } else {
      s.time[i] = end;
      s.high[i] = Math.max(s.high[i], c.high);
      s.low[i] = Math.min(s.low[i], c.low);
      s.close[i] = c.close;
      s.volume[i] += c.volume;
    }
  }
  return s satisfies PriceSeries;
}

/** Daily bars: what the strategies decide on live. */
export const dailySeries = (candles: Candle[], intervalMs: number): PriceSeries => barSeries(candles, intervalMs, DAY_MS);

/** A daily macro observation is treated as known at the UTC midnight after its date. */
export function macroSeriesFrom(rows: Array<{ date: string; value: number }>): MacroSeries {
  return {
    time: rows.map((r) => Date.parse(`${r.date}T00:00:00Z`) + DAY_MS),
    date: rows.map((r) => r.date),
    value: rows.map((r) => r.value),
  };
}
