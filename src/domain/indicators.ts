import { RollingPearson, RollingSum, RollingVolatility } from './rolling';

/**
 * Technical indicators over plain number arrays, as windowed definitions. Every function returns an
 * array aligned with its input, NaN where the window is not yet full, and uses only values at or
 * before each index. The strategies decide through the incremental forms in `rolling.ts`; these are
 * the definitions those streams are checked against (test/unit/streaming, test/unit/indicators).
 */

export function sma(values: ArrayLike<number>, period: number): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  const window = new RollingSum(period);
  for (let i = 0; i < values.length; i++) {
    window.push(values[i]);
    if (window.full) out[i] = window.sum / period;
  }
  return out;
}

/** Exponential moving average, α = 2/(period+1), seeded with the SMA of the first `period` values. */
export function ema(values: ArrayLike<number>, period: number): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  if (values.length < period) return out;
  const alpha = 2 / (period + 1);
  let prev = 0;
  for (let i = 0; i < period; i++) prev += values[i];
  prev /= period;
  out[period - 1] = prev;
  for (let i = period; i < values.length; i++) {
    prev = alpha * values[i] + (1 - alpha) * prev;
    out[i] = prev;
  }
  return out;
}

/**
 * Wilder's RSI: the first average gain/loss is the simple mean of the first `period` changes, then
 * each is smoothed as avg = (avg·(period−1) + current)/period. 100 when there are no losses.
 */
export function wilderRsi(closes: ArrayLike<number>, period = 14): Float64Array {
  const out = new Float64Array(closes.length).fill(Number.NaN);
  wilderRun(closes, period, out);
  return out;
}

/** Wilder's RSI at the last close (what `wilderRsi` gives there) with no array allocated: NaN with `period` closes or fewer. */
export const lastWilderRsi = (closes: ArrayLike<number>, period = 14): number => wilderRun(closes, period);

/** The RSI of Wilder's smoothed average gain and loss. */
const rsiOf = (gain: number, loss: number): number => (loss === 0 ? 100 : 100 - 100 / (1 + gain / loss));

function wilderRun(closes: ArrayLike<number>, period: number, out?: Float64Array): number {
  if (closes.length <= period) return Number.NaN;
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= period; i++) {
    const d = closes[i] - closes[i - 1];
    if (d > 0) gain += d; else loss -= d;
  }
  gain /= period;
  loss /= period;
  if (out) out[period] = rsiOf(gain, loss);
  for (let i = period + 1; i < closes.length; i++) {
    const d = closes[i] - closes[i - 1];
    gain = (gain * (period - 1) + Math.max(d, 0)) / period;
    loss = (loss * (period - 1) + Math.max(-d, 0)) / period;
    // The RSI of every close only when asked for: at the last alone, two divisions a close are saved.
    if (out) out[i] = rsiOf(gain, loss);
  }
  return rsiOf(gain, loss);
}

/** Log returns; element 0 is NaN. */
export function logReturns(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  for (let i = 1; i < values.length; i++) out[i] = Math.log(values[i] / values[i - 1]);
  return out;
}

/**
 * Pearson correlation of x and y over the trailing `window` points, from exact rolling sums (the
 * strategies' streams keep the same sums, so they agree to the bit). Values must be finite.
 */
export function rollingPearson(x: ArrayLike<number>, y: ArrayLike<number>, window: number): Float64Array {
  const n = Math.min(x.length, y.length);
  const out = new Float64Array(n).fill(Number.NaN);
  const pearson = new RollingPearson(window);
  for (let i = 0; i < n; i++) {
    pearson.push(x[i], y[i]);
    if (pearson.full) out[i] = pearson.value;
  }
  return out;
}

/** Sample standard deviation (n−1) of the trailing `window` values, times √annualization. */
export function rollingVolatility(returns: ArrayLike<number>, window: number, annualization = 1): Float64Array {
  const out = new Float64Array(returns.length);
  const vol = new RollingVolatility(window, annualization);
  for (let i = 0; i < returns.length; i++) out[i] = vol.push(returns[i]);
  return out;
}

/**
 * Percentile rank (0..1) of each value within its trailing `window` values, itself included:
 * the share of the window at or below it. NaN values are left out of the window.
 */
export function percentileRank(values: ArrayLike<number>, window: number): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  for (let i = window - 1; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    let below = 0; let count = 0;
    for (let j = i - window + 1; j <= i; j++) {
      if (Number.isNaN(values[j])) continue;
      count += 1;
      if (values[j] <= values[i]) below += 1;
    }
    out[i] = below / count;
  }
  return out;
}

/** Fall from the highest close of the trailing `window` (0.25 = 25% below that high). */
export function drawdownFromRollingHigh(closes: ArrayLike<number>, window: number): Float64Array {
  const out = new Float64Array(closes.length).fill(Number.NaN);
  for (let i = window - 1; i < closes.length; i++) {
    let high = -Infinity;
    for (let j = i - window + 1; j <= i; j++) if (closes[j] > high) high = closes[j];
    out[i] = 1 - closes[i] / high;
  }
  return out;
}
