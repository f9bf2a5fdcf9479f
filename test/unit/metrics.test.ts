import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { kthSmallestReturn, performanceMetrics, type SelectTuning } from '../../src/domain/metrics';

const DAY = 86_400_000;
const curve = (values: number[]) => ({ time: values.map((_, i) => i * DAY), equity: values });

describe('performanceMetrics, by hand', () => {
  it('computes returns, risk ratios and drawdown on a short curve', () => {
    // Returns: +10%, −10%, +5%.
    const m = performanceMetrics(curve([100, 110, 99, 103.95]), [10, -11, 4.95], { periodsPerYear: 365 });
    expect(m.totalReturn).toBeCloseTo(0.0395, 12);
    expect(m.annualizedReturn).toBeCloseTo(1.0395 ** (365 / 3) - 1, 9);
    const r = [0.1, -0.1, 0.05];
    const mean = 0.05 / 3;
    const std = Math.sqrt(r.reduce((s, x) => s + (x - mean) ** 2, 0) / 2);
    expect(m.volatility).toBeCloseTo(std * Math.sqrt(365), 12);
    expect(m.sharpe).toBeCloseTo((mean / std) * Math.sqrt(365), 12);
    const downside = Math.sqrt(0.01 / 3);
    expect(m.sortino).toBeCloseTo((mean / downside) * Math.sqrt(365), 12);
    // Peak 110 → trough 99: $11, 10%, from day 1 to day 3 (not recovered).
    expect(m.maxDrawdown).toBeCloseTo(11, 12);
    expect(m.maxDrawdownPct).toBeCloseTo(0.1, 12);
    expect(m.maxDrawdownDurationMs).toBe(2 * DAY);
    expect(m.calmar).toBeCloseTo(m.annualizedReturn! / 0.1, 9);
    expect(m.var95).toBeCloseTo(0.1, 12);
    expect(m).toMatchObject({ tradeCount: 3, winRate: 2 / 3, largestWin: 10, largestLoss: -11, averageLoss: -11 });
    expect(m.profitFactor).toBeCloseTo(14.95 / 11, 12);
    expect(m.averageWin).toBeCloseTo(7.475, 12);
    expect(m.expectancy).toBeCloseTo(3.95 / 3, 12);
  });

  it('gives clean empty values, never NaN, with no trades and a flat curve', () => {
    const m = performanceMetrics(curve([1000, 1000, 1000]), [], { periodsPerYear: 365 });
    expect(m).toMatchObject({
      totalReturn: 0, sharpe: null, sortino: null, calmar: null, maxDrawdown: 0, tradeCount: 0, winRate: null,
      profitFactor: null, averageWin: null, averageLoss: null, largestWin: null, largestLoss: null, expectancy: null,
    });
    expect(JSON.stringify(m)).not.toMatch(/NaN|Infinity/);
    const empty = performanceMetrics(curve([]), [], { periodsPerYear: 365 });
    expect(JSON.parse(JSON.stringify(empty))).toEqual(empty);
  });

  it('subtracts the risk-free rate per period', () => {
    // Returns +3%, −1%, +3%; 2% a year over 2 periods a year is 1% a period: excess +2%, −2%, +2%.
    const m = performanceMetrics(curve([100, 103, 101.97, 105.0291]), [], { periodsPerYear: 2, riskFreeRate: 0.02 });
    const raw = [0.03, -0.01, 0.03];
    const mean = raw.reduce((a, b) => a + b) / 3;
    const std = Math.sqrt(raw.reduce((s, x) => s + (x - mean) ** 2, 0) / 2);
    expect(m.sharpe).toBeCloseTo(((0.02 / 3) / std) * Math.sqrt(2), 9);
    expect(m.sortino).toBeCloseTo(((0.02 / 3) / Math.sqrt(0.0004 / 3)) * Math.sqrt(2), 9);
  });
});

describe('performanceMetrics with one period', () => {
  it('leaves the ratios that need two periods empty', () => {
    const m = performanceMetrics(curve([100, 99]), [], { periodsPerYear: 365 });
    expect(m).toMatchObject({ sharpe: null, sortino: null, calmar: null, maxDrawdownPct: 0.01 });
    expect(m.totalReturn).toBeCloseTo(-0.01, 12);
  });
});

describe('VaR(95%) without a full sort', () => {
  /** The k-th smallest return by sorting them all, written here: what every path of the select must give. */
  const sortedReturn = (values: number[], k: number) => values.slice(1).map((v, i) => v / values[i] - 1).sort((a, b) => a - b)[k];
  const var95Rank = (values: number[]) => Math.floor(0.05 * (values.length - 2));
  // Every path: the sorted copy (short curves), the sample's bracket with the radix select behind it
  // (a tiny sample misleads often, so both run), the radix select alone.
  const paths: Array<[string, SelectTuning | undefined]> = [
    ['as shipped', undefined],
    ['bracketed by a sample', { sortUpTo: 0, sampleSize: 8 }],
    ['radix select', { sortUpTo: 0, sampleSize: 0 }],
  ];

  it('is the loss at the 5th percentile of the sorted returns, for any curve', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 50, max: 150, noNaN: true }), { minLength: 2, maxLength: 300 }), (values) => {
      const m = performanceMetrics(curve(values), [], { periodsPerYear: 365 });
      expect(m.var95).toBe(-sortedReturn(values, var95Rank(values)));
    }));
  });

  it.each(paths)('any rank, by every path (%s), with flat stretches and repeated levels', (_, tuning) => {
    const levels = fc.oneof(fc.constantFrom(90, 100, 100, 100, 110, 100.5, 1e-9, 3e5), fc.double({ min: 50, max: 150, noNaN: true }));
    fc.assert(fc.property(fc.array(levels, { minLength: 2, maxLength: 2000 }), fc.nat(), (values, seed) => {
      const k = seed % (values.length - 1);
      expect(kthSmallestReturn(values, undefined, k, tuning)).toBe(sortedReturn(values, k));
    }), { numRuns: 300 });
  });

  it('when hundreds of thousands of returns share their leading bits or are equal, by every path', () => {
    // 600,000 points alternating 100 and 101.00…101.01: the falls (about −1 %) are one bucket of the
    // radix select's first pass, many of its second; a sample of every other return sees only rises.
    const narrow = Array.from({ length: 600_001 }, (_, i) => (i % 2 ? 101 + ((i * 7919) % 1000) * 1e-5 : 100));
    // Alternating 100 and 101: 300,000 equal falls, which every radix pass narrows down to one key.
    const steady = Array.from({ length: 600_001 }, (_, i) => (i % 2 ? 101 : 100));
    for (const values of [narrow, steady]) {
      const sorted = values.slice(1).map((v, i) => v / values[i] - 1).sort((a, b) => a - b);
      for (const [, tuning] of paths) {
        for (const k of [0, var95Rank(values), 299_999, 300_000, 599_999]) expect(kthSmallestReturn(values, undefined, k, tuning)).toBe(sorted[k]);
      }
    }
  });

  it('counts the start point as the first, on every path', () => {
    const values = Array.from({ length: 5001 }, (_, i) => 100 + 10 * Math.sin(i / 40) + (i % 3));
    const start = { time: -1, equity: 50 };
    for (const [, tuning] of paths) {
      for (const k of [0, 250, 4999, 5000]) expect(kthSmallestReturn(values, start, k, tuning)).toBe(sortedReturn([50, ...values], k));
    }
  });
});

describe('performanceMetrics on a long backtest', () => {
  it('takes half a million trades and a million-point curve', () => {
    const pnls = Array.from({ length: 500_000 }, (_, i) => (i % 3 === 0 ? -1 : 2) * (1 + (i % 7)));
    const values = Array.from({ length: 1_000_001 }, (_, i) => 1000 + Math.sin(i / 1000) * 100);
    const m = performanceMetrics(curve(values), pnls, { periodsPerYear: 8760 });
    expect(m.tradeCount).toBe(500_000);
    expect(m.largestWin).toBe(14);
    expect(m.largestLoss).toBe(-7);
    expect(m.maxDrawdownPct).toBeCloseTo(200 / 1100, 6);
  });
});

describe('performanceMetrics over a curve of many chunks', () => {
  it('equals the metrics worked out here from the returns, sorted, and a plain drawdown loop', () => {
    // 30,001 points (the passes run in chunks of 4,096; VaR goes through the sample's bracket): flat
    // stretches as a backtest's flat book gives, moves, a new peak late, a dip below the start.
    const values = Array.from({ length: 30_001 }, (_, i) => (Math.floor(i / 700) % 3 === 0 ? 100 : 100 + 15 * Math.sin(i / 97) + (i % 11) * 0.3 + i / 1500));
    const start = { time: -DAY, equity: 100 };
    const m = performanceMetrics(curve(values), [], { periodsPerYear: 365, riskFreeRate: 0.01, start });
    const all = [start.equity, ...values];
    const returns = all.slice(1).map((v, i) => v / all[i] - 1);
    const n = returns.length;
    const mean = returns.reduce((a, b) => a + b, 0) / n;
    const rf = 0.01 / 365;
    const std = Math.sqrt(returns.reduce((s, r) => s + (r - mean) ** 2, 0) / (n - 1));
    const downside = Math.sqrt(returns.reduce((s, r) => s + Math.min(r - rf, 0) ** 2, 0) / n);
    expect(m.periods).toBe(n);
    expect(m.sharpe).toBeCloseTo(((mean - rf) / std) * Math.sqrt(365), 9);
    expect(m.sortino).toBeCloseTo(((mean - rf) / downside) * Math.sqrt(365), 9);
    expect(m.var95).toBe(-[...returns].sort((a, b) => a - b)[Math.floor(0.05 * (n - 1))]);
    const drawdown = plainDrawdown(all, (i) => (i - 1) * DAY);
    expect(drawdown.maxDrawdown).toBeGreaterThan(0);
    expect(m).toMatchObject(drawdown);
  });
});

/** The drawdown by its definition, point by point: `all` is the curve with its start point first. */
function plainDrawdown(all: number[], timeOf: (i: number) => number) {
  let peak = -Infinity;
  let peakAt = 0;
  let worst = 0;
  let worstPct = 0;
  let longest = 0;
  all.forEach((v, i) => {
    const t = timeOf(i);
    if (v >= peak) [peak, peakAt] = [v, t];
    worst = Math.max(worst, peak - v);
    if (peak > 0) worstPct = Math.max(worstPct, (peak - v) / peak);
    if (peak > v) longest = Math.max(longest, t - peakAt);
  });
  return { maxDrawdown: worst, maxDrawdownPct: worstPct, maxDrawdownDurationMs: longest };
}

describe('the drawdown', () => {
  it('equals the largest fall and the longest time under a peak, point by point (property)', () => {
    // Few distinct levels: ties with the peak, flat stretches, falls still open at the end.
    const level = fc.integer({ min: 1, max: 6 }).map((x) => x * 25);
    fc.assert(fc.property(fc.array(level, { maxLength: 60 }), fc.option(level, { nil: undefined }), (values, capital) => {
      const start = capital === undefined ? undefined : { time: -DAY, equity: capital };
      const m = performanceMetrics(curve(values), [], { periodsPerYear: 365, start });
      const all = start ? [start.equity, ...values] : values;
      expect(m).toMatchObject(plainDrawdown(all, (i) => (i - (start ? 1 : 0)) * DAY));
    }));
  });
});

describe('a start point before the curve', () => {
  it('gives the metrics of the curve with that point in front, to the bit (property)', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 50, max: 150, noNaN: true }), { minLength: 0, maxLength: 200 }), fc.double({ min: 50, max: 150, noNaN: true }),
      fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { maxLength: 30 }), (values, capital, pnls) => {
        const whole = curve([capital, ...values]);
        const rest = { time: whole.time.slice(1), equity: values };
        const opts = { periodsPerYear: 365, riskFreeRate: 0.03 };
        expect(performanceMetrics(rest, pnls, { ...opts, start: { time: whole.time[0], equity: capital } })).toEqual(performanceMetrics(whole, pnls, opts));
      }));
  });
});
