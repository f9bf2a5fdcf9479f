import { describe, expect, it } from 'vitest';
import {
  drawdownFromRollingHigh, ema, logReturns, percentileRank, rollingPearson, rollingVolatility, sma, wilderRsi,
} from '../../src/domain/indicators';

// The classic 14-day RSI worked example (Wilder; the data of StockCharts' RSI article).
const RSI_CLOSES = [
  44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28,
  46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35, 44.03, 44.18, 44.22, 44.57,
  43.42, 42.66, 43.13,
];
// Full-precision values of that example. StockCharts' table prints 70.53, 66.32, … because its
// spreadsheet rounds the averages at each step; unrounded arithmetic gives these.
const RSI_REFERENCE = [
  70.46, 66.25, 66.48, 69.35, 66.29, 57.92, 62.88, 63.21, 56.01, 62.34, 54.67, 50.39, 40.02, 41.49, 41.9,
  45.5, 37.32, 33.09, 37.79,
];

const round = (xs: ArrayLike<number>, dp: number) => Array.from(xs, (x) => (Number.isNaN(x) ? NaN : Math.round(x * 10 ** dp) / 10 ** dp));

describe('indicators', () => {
  it('Wilder RSI matches the published worked example', () => {
    const rsi = wilderRsi(RSI_CLOSES, 14);
    expect(Array.from(rsi.slice(0, 14)).every(Number.isNaN)).toBe(true);
    expect(round(rsi.slice(14), 2)).toEqual(RSI_REFERENCE);
  });

  it('RSI is 100 with no losses and 0 with no gains', () => {
    expect(wilderRsi([1, 2, 3, 4], 3)[3]).toBe(100);
    expect(wilderRsi([4, 3, 2, 1], 3)[3]).toBe(0);
  });

  it('SMA and EMA by hand', () => {
    expect(round(sma([1, 2, 3, 4, 5], 3), 6)).toEqual([NaN, NaN, 2, 3, 4]);
    // α = 0.5; seed = mean(2,4,6) = 4; then 0.5·8 + 0.5·4 = 6; 0.5·2 + 0.5·6 = 4
    expect(round(ema([2, 4, 6, 8, 2], 3), 6)).toEqual([NaN, NaN, 4, 6, 4]);
  });

  it('rolling Pearson correlation by hand', () => {
    const c = rollingPearson([1, 2, 3, 4, 5], [2, 4, 6, 8, 11], 3);
    expect(round(c, 6)).toEqual([NaN, NaN, 1, 1, round([0.9933992677987828], 6)[0]]);
    expect(rollingPearson([1, 2, 3], [3, 2, 1], 3)[2]).toBeCloseTo(-1, 12);
    expect(rollingPearson([1, 1, 1], [3, 2, 1], 3)[2]).toBeNaN();
  });

  it('rolling volatility is the sample std, annualised on request', () => {
    const v = rollingVolatility([0.01, -0.01, 0.02, 0.0], 4);
    // mean 0.005; squared deviations 0.000025+0.000225+0.000225+0.000025 = 0.0005; /3 → √
    expect(v[3]).toBeCloseTo(Math.sqrt(0.0005 / 3), 12);
    expect(rollingVolatility([0.01, -0.01, 0.02, 0.0], 4, 365)[3]).toBeCloseTo(Math.sqrt((0.0005 / 3) * 365), 12);
    expect(round(logReturns([100, 110]), 6)).toEqual([NaN, round([Math.log(1.1)], 6)[0]]);
  });

  it('percentile rank and drawdown from the rolling high', () => {
    expect(Array.from(percentileRank([5, 1, 3, 2, 4], 5)).slice(4)).toEqual([0.8]);
    expect(round(drawdownFromRollingHigh([100, 120, 90, 60, 150], 3), 6)).toEqual([NaN, NaN, 0.25, 0.5, 0]);
  });
});
