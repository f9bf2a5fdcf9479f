/** Fewer points for a chart, keeping what the eye looks for: troughs and peaks, and each bar's range. */
import type { Candle } from './types';

/**
 * At most ~2 points per bucket: each bucket keeps its lowest and highest point, in time order, so
 * troughs and peaks survive; the first and last points are kept too (where a curve starts and ends).
 * `points` are in time order.
 */
export function thinSeries<P extends { t: number; v: number }>(points: P[], buckets: number): P[] {
  if (points.length <= 2 * buckets) return points;
  return thinnedIndices(points.map((p) => p.v), buckets).map((i) => points[i]);
}

/**
 * `thinSeries` over a column of values in time order: the indices of the points it keeps, ascending.
 * A stored curve is thinned from its columns, without an object per point.
 */
export function thinnedIndices(values: ArrayLike<number>, buckets: number): number[] {
  const n = values.length;
  if (n <= 2 * buckets) return Array.from({ length: n }, (_, i) => i);
  const size = Math.ceil(n / buckets);
  const out: number[] = [];
  for (let i = 0; i < n; i += size) {
    let lo = i;
    let hi = i;
    for (let j = i; j < Math.min(i + size, n); j++) {
      if (values[j] < values[lo]) lo = j;
      if (values[j] > values[hi]) hi = j;
    }
    if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  if (out[0] !== 0) out.unshift(0);
  if (out.at(-1) !== n - 1) out.push(n - 1);
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
