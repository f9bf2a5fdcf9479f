/** Fewer points for a chart, keeping what the eye looks for: troughs and peaks, and each bar's range. */
import type { Candle } from './types';

/**
 * At most ~2 points per bucket: each bucket keeps its lowest and highest point, in time order, so
 * troughs and peaks survive; the first and last points are kept too (where a curve starts and ends).
 */
export function thinSeries<P extends { t: number; v: number }>(points: P[], buckets: number): P[] {
  if (points.length <= 2 * buckets) return points;
  const size = Math.ceil(points.length / buckets);
  const out: P[] = [];
  for (let i = 0; i < points.length; i += size) {
    let lo = points[i];
    let hi = points[i];
    for (let j = i; j < Math.min(i + size, points.length); j++) {
      if (points[j].v < lo.v) lo = points[j];
      if (points[j].v > hi.v) hi = points[j];
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo.t <= hi.t ? [lo, hi] : [hi, lo]));
  }
  if (out[0] !== points[0]) out.unshift(points[0]);
  if (out.at(-1) !== points.at(-1)) out.push(points.at(-1)!);
  return out;
}

/**
 * At most `maxBars` bars: runs of consecutive bars merged into one (first open, highest high, lowest
 * low, last close, summed volume), opening at the run's first bar. Fewer bars are returned as they are.
 */
export function mergeBars(bars: Candle[], maxBars: number): Candle[] {
  if (bars.length <= maxBars) return bars;
  const size = Math.ceil(bars.length / maxBars);
  const out: Candle[] = [];
  for (let i = 0; i < bars.length; i += size) {
    const run = bars.slice(i, i + size);
    out.push({
      timestamp: run[0].timestamp,
      open: run[0].open,
      high: run.reduce((m, b) => Math.max(m, b.high), -Infinity),
      low: run.reduce((m, b) => Math.min(m, b.low), Infinity),
      close: run[run.length - 1].close,
      volume: run.reduce((s, b) => s + b.volume, 0),
    });
  }
  return out;
}
