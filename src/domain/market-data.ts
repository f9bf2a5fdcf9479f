import type { MacroSeries, PriceSeries } from './signals';
import { DAY_MS, type Candle } from './types';

/**
 * Daily bars from bars of any length ≤ a day, by UTC day. A day's bar closes when its last
 * sub-bar closes, so a day still in progress is a partial bar known only up to its last sub-bar.
 */
export function dailySeries(candles: Candle[], intervalMs: number): PriceSeries {
  const s = { time: [] as number[], open: [] as number[], high: [] as number[], low: [] as number[], close: [] as number[], volume: [] as number[] };
  let day = Number.NaN;
  for (const c of candles) {
    const d = Math.floor(c.timestamp / DAY_MS);
    const end = c.timestamp + intervalMs;
    const i = s.time.length - 1;
    if (d !== day) {
      day = d;
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

/** A daily macro observation is treated as known at the UTC midnight after its date. */
export function macroSeriesFrom(rows: Array<{ date: string; value: number }>): MacroSeries {
  return {
    time: rows.map((r) => Date.parse(`${r.date}T00:00:00Z`) + DAY_MS),
    date: rows.map((r) => r.date),
    value: rows.map((r) => r.value),
  };
}
