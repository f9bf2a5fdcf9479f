import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectRegime, type PastSignal, RegimeTracker } from '../../src/domain/aggregation';
import {
  advance, type BacktestInput, checkpointOf, type EngineCheckpoint, type EngineState, eventQueue, finish, initialState, latestEquity, restoreState, runBacktest,
} from '../../src/domain/backtest/engine';
import { barSeries, candleColumns, dailySeries, macroSeriesFrom } from '../../src/domain/market-data';
import { equity } from '../../src/domain/portfolio';
import { drawdownFromRollingHigh, logReturns, percentileRank, rollingPearson, rollingVolatility, wilderRsi } from '../../src/domain/indicators';
import { RingBuffer, RollingSum, SortedWindow } from '../../src/domain/rolling';
import { knownCount, knownCountNear, knownCountSpaced, type MarketData } from '../../src/domain/signals';
import { STRATEGY_DEFINITIONS } from '../../src/domain/strategies';
import { createStrategy, type Strategy } from '../../src/domain/strategies/framework';
import { DAY_MS, HOUR_MS } from '../../src/domain/types';
import { loadExecutionConfig } from '../../src/config/execution';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { loadStrategyConfigs } from '../../src/config/strategies';
import { binanceHourly, binanceHourlyCloses, fredSeries, yfinanceDaily } from '../support/market-files';

const md: MarketData = { prices: { bitcoin: dailySeries(yfinanceDaily('BTC-USD'), DAY_MS), ethereum: dailySeries(yfinanceDaily('ETH-USD'), DAY_MS) }, macro: {} };

describe('incremental state decides as a fresh look at the window (real data)', () => {
  it('a rolling sum streamed over 33,413 hourly BTC closes equals, to the bit, one fed only the window', () => {
    const closes = binanceHourlyCloses('BTCUSDT');
    for (const period of [10, 30, 200]) {
      const streamed = new RollingSum(period);
      let mismatches = 0;
      closes.forEach((close, i) => {
        streamed.push(close);
        if (i < period - 1) return;
        const fresh = new RollingSum(period);
        for (let j = i - period + 1; j <= i; j++) fresh.push(closes[j]);
        if (fresh.sum !== streamed.sum) mismatches += 1;
      });
      expect(mismatches, `period ${period}`).toBe(0);
      // And it is the window's sum: the naive left-to-right sum differs only by its own rounding.
      const last = closes.slice(-period).reduce((a, b) => a + b, 0);
      expect(Math.abs(streamed.sum - last) / last).toBeLessThan(1e-13);
    }
  });

  it('a rolling sum is its window\'s sum exactly rounded, a new value near the one it replaces or far from it', () => {
    // Prices to the cent, a walk that now and then jumps ×3 or ÷3: a value more than twice or less than
    // half the one leaving the window (summed in two steps, not as their difference).
    const values: number[] = [];
    let price = 100;
    for (let i = 0; i < 20_000; i++) {
      price = i % 997 === 0 ? (i % 2 ? price * 3 : price / 3) : price * (1 + Math.sin(i * 0.7) * 0.02);
      values.push(Math.round(price * 100) / 100);
    }
    // Every value here is a whole number of 2⁻⁶⁰: scaled by 2⁶⁰ each is an exact integer, their sum too,
    // and Number() rounds that sum to the nearest double.
    const scale = 2 ** 60;
    const exactSum = (window: number[]) => Number(window.reduce((sum, v) => sum + BigInt(v * scale), 0n)) / scale;
    for (const period of [10, 30]) {
      const rolling = new RollingSum(period);
      let far = 0;
      let mismatches = 0;
      values.forEach((v, i) => {
        rolling.push(v);
        if (i >= period && !(values[i - period] / 2 <= v && v <= 2 * values[i - period])) far += 1;
        if (i >= period - 1 && rolling.sum !== exactSum(values.slice(i - period + 1, i + 1))) mismatches += 1;
      });
      expect(far, `period ${period}`).toBeGreaterThan(100);
      expect(mismatches, `period ${period}`).toBe(0);
    }
  });

  it('a search for the known points started from any guess, or where the bars\' spacing puts it, counts what a pass over the whole series counts', () => {
    const sortedTimes = fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 80 }).map((t) => t.sort((x, y) => x - y));
    fc.assert(fc.property(sortedTimes, fc.integer({ min: -5, max: 65 }), fc.integer({ min: -3, max: 90 }), (time, asOf, near) => {
      let known = 0;
      for (const t of time) if (t <= asOf) known += 1;
      expect(knownCountNear(time, asOf, near)).toBe(known);
      expect(knownCountSpaced(time, asOf, near)).toBe(known);
    }), { numRuns: 5000 });
  });

  it('a search started where the bars\' spacing puts the count reads at most five points on regular bars', () => {
    // Hourly bars, a count found for one time, another asked days before and after it.
    const hour = 3_600_000;
    const hourly = Array.from({ length: 2_000 }, (_, i) => 1_000 * hour + i * hour);
    let reads = 0;
    const counted = new Proxy(hourly, { get: (target, key) => ((typeof key === 'string' && /^\d+$/.test(key) && reads++), Reflect.get(target, key)) });
    for (const [near, asOf] of [[700, hourly[1_400] + 30 * 60_000], [1_400, hourly[30]], [500, hourly[524]], [1_999, hourly[1_999] + 5 * hour]]) {
      reads = 0;
      expect(knownCountSpaced(counted, asOf, near)).toBe(knownCount(hourly, asOf));
      // The last two points' spacing read (three reads), then the count's two neighbours.
      expect(reads, `from ${near} to ${asOf}`).toBeLessThanOrEqual(5);
    }
  });

  it('a sorted window holds, after every push, the last values pushed in order, NaNs left out of the counting', () => {
    const value = fc.oneof(fc.integer({ min: -4, max: 4 }).map((x) => x / 2), fc.constant(Number.NaN));
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(value, { maxLength: 60 }), (window, pushed) => {
      const sorted = new SortedWindow(window);
      pushed.forEach((x, i) => {
        sorted.push(x);
        const kept = pushed.slice(Math.max(0, i + 1 - window), i + 1).filter((y) => !Number.isNaN(y)).sort((a, b) => a - b);
        expect(sorted.size).toBe(kept.length);
        expect(Array.from({ length: kept.length }, (_, k) => sorted.nth(k))).toEqual(kept);
        expect(sorted.countAtOrBelow(x)).toBe(kept.filter((y) => y <= x).length);
      });
    }), { numRuns: 3000 });
  });

  it('a ring tells whether more than a share of its values are at or below a value, as counting them all does', () => {
    // Rings of up to 200 (blocks of 32 and a part), values with ties and NaNs (never at or below anything).
    const value = fc.oneof(fc.integer({ min: -6, max: 6 }).map((x) => x / 2), fc.constant(Number.NaN));
    const share = fc.constantFrom(0, 0.2, 0.5, 0.8, 0.95);
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.array(value, { maxLength: 260 }), value, share, (capacity, pushed, x, s) => {
      const ring = new RingBuffer(capacity);
      for (const v of pushed) ring.push(v);
      const held = pushed.slice(-capacity);
      expect(ring.mostAtOrBelow(x, s)).toBe(held.filter((v) => v <= x).length / held.length > s);
    }), { numRuns: 3000 });
  });

  it('the regime tracked close by close equals its definition and detectRegime on the last 400 closes, every day of BTC 2014–2024', () => {
    const s = md.prices.bitcoin;
    const tracker = new RegimeTracker();
    const seen = { trending: 0, ranging: 0, high_volatility: 0 };
    // The definition over the window: 20-day volatility of log returns ranked in the top 20 % of the
    // last 365 such values → high volatility; else the 30-day move beyond σ·√30 → trending.
    const defined = (closes: number[]) => {
      if (closes.length < 40) return 'ranging';
      const vols = Array.from(rollingVolatility(logReturns(closes).subarray(1), 20)).filter((v) => !Number.isNaN(v)).slice(-365);
      const vol = vols[vols.length - 1];
      if (vols.length >= 60 && vols.filter((v) => v <= vol).length / vols.length > 0.8) return 'high_volatility';
      const n = closes.length;
      return Math.abs(Math.log(closes[n - 1] / closes[n - 31])) > vol * Math.sqrt(30) ? 'trending' : 'ranging';
    };
    for (let i = 0; i < s.time.length; i++) {
      tracker.push(s.close[i]);
      const regime = tracker.regime();
      const day = new Date(s.time[i]).toISOString();
      expect(regime, day).toBe(defined(Array.from(s.close.slice(Math.max(0, i - 399), i + 1))));
      expect(regime, day).toBe(detectRegime(md, 'bitcoin', s.time[i]));
      // Asked again before the next close: the same answer.
      expect(tracker.regime(), day).toBe(regime);
      seen[regime] += 1;
    }
    // The comparison covers every regime, not one that never changes.
    expect(Math.min(seen.trending, seen.ranging, seen.high_volatility)).toBeGreaterThan(100);
  });

  it('the sma_crossover stream fed years of closes gives the live analysis at every bar', () => {
    const s = md.prices.bitcoin;
    const params = { fast: 10, slow: 30, confidence: 0.65 };
    const stream = STRATEGY_DEFINITIONS.sma_crossover.stream!(params, md.macro);
    let signals = 0;
    for (let i = 0; i < s.time.length; i++) {
      const signalled = stream.push(s.close[i], s.time[i]);
      const live = STRATEGY_DEFINITIONS.sma_crossover.analyzeAsset(md, 'bitcoin', s.time[i], params);
      expect(stream.analysis('bitcoin')).toEqual(live);
      expect(signalled).toBe(live.signal !== undefined);
      if (signalled) signals += 1;
    }
    expect(signals).toBeGreaterThan(50);
  });

  it('the sma_crossover stream is its definition at every one of 33,413 hourly BTC and ETH closes: exact means, crossings', () => {
    for (const pair of ['BTCUSDT', 'ETHUSDT']) {
      const closes = binanceHourlyCloses(pair);
      const mismatches = smaMismatches(closes, { fast: 10, slow: 30 });
      expect(mismatches.checked).toBe(closes.length);
      expect(mismatches.signals, pair).toBeGreaterThan(1000);
      expect(mismatches.list, pair).toEqual([]);
    }
  });

  it('the sma_crossover stream is its definition on closes to the cent with long flat runs (equal averages) and NaNs', () => {
    // Flat runs make the two averages exactly equal (a plain running sum drifts off that by its
    // roundings); a NaN makes them unordered until it leaves both windows.
    const run = fc.tuple(fc.oneof(fc.integer({ min: 1, max: 60 }).map((c) => c / 100), fc.constant(Number.NaN)), fc.integer({ min: 1, max: 45 }));
    const lengths = fc.integer({ min: 2, max: 8 }).chain((fast) => fc.tuple(fc.constant(fast), fc.integer({ min: fast + 1, max: 20 })));
    fc.assert(fc.property(lengths, fc.array(run, { minLength: 1, maxLength: 40 }), ([fast, slow], runs) => {
      const closes = runs.flatMap(([close, times]) => Array<number>(times).fill(close));
      expect(smaMismatches(closes, { fast, slow }).list).toEqual([]);
    }), { numRuns: 2000 });
  });
});

/**
 * Feeds `closes` to an sma_crossover stream and lists where its signal or analysis differs from the
 * definition, written here: each average is its window's sum exactly rounded over its length (every
 * close a whole number of 2⁻⁶⁰, so the sum is a BigInt, kept as the window moves), a crossing is the
 * fast average moving from at or below the slow one to above it (LONG), or from at or above to below.
 */
function smaMismatches(closes: number[], p: { fast: number; slow: number }) {
  const stream = STRATEGY_DEFINITIONS.sma_crossover.stream!({ ...p, confidence: 0.65 }, {});
  const scale = 2 ** 60;
  const sums = { fast: 0n, slow: 0n };
  const nans = { fast: 0, slow: 0 };
  const mean = (w: 'fast' | 'slow') => (nans[w] ? Number.NaN : Number(sums[w]) / scale / p[w]);
  const list: string[] = [];
  let previous = { fast: Number.NaN, slow: Number.NaN };
  let signals = 0;
  closes.forEach((close, i) => {
    for (const w of ['fast', 'slow'] as const) {
      for (const [x, sign] of [[close, 1n], [i >= p[w] ? closes[i - p[w]] : 0, -1n]] as const) {
        if (Number.isNaN(x)) nans[w] += sign === 1n ? 1 : -1;
        else sums[w] += sign * BigInt(x * scale);
      }
    }
    const now = { fast: mean('fast'), slow: mean('slow') };
    const cross = i < p.slow ? undefined
      : previous.fast <= previous.slow && now.fast > now.slow ? 'LONG'
        : previous.fast >= previous.slow && now.fast < now.slow ? 'SHORT' : undefined;
    const signalled = stream.push(close, i);
    const expected = i < p.slow ? { asset: 'x', price: null, values: { reason: 'not enough history' } } : {
      asset: 'x', price: close,
      values: { fastSma: now.fast, slowSma: now.slow, previousFastSma: previous.fast, previousSlowSma: previous.slow },
      ...(cross ? { signal: { signalType: cross, confidence: 0.65, sizeScale: 1 } } : {}),
    };
    const analysis = stream.analysis('x');
    if (signalled !== (cross !== undefined) || !isDeepStrictEqual(analysis, expected)) list.push(`close ${i}: ${JSON.stringify(analysis)} ≠ ${JSON.stringify(expected)}`);
    if (cross) signals += 1;
    previous = now;
  });
  return { list: list.slice(0, 5), checked: closes.length, signals };
}

/** volatility_spike as a fresh look at the window (the definition before it had a stream): the reference. */
function windowedVolatilitySpike(closesKnown: number[], p: { volatilityWindow: number; percentileWindow: number; thresholdPercentile: number; rsiPeriod: number; rsiOversold: number }) {
  const closes = closesKnown.slice(-Math.max(p.percentileWindow + p.volatilityWindow + 1, p.rsiPeriod * 10 + 1));
  if (closes.length < p.volatilityWindow + 2) return { price: null, values: { reason: 'not enough history' } };
  const returns = Array.from(logReturns(closes)).slice(1);
  const vol = Array.from(rollingVolatility(returns, p.volatilityWindow, 365)).filter((v) => !Number.isNaN(v)).slice(-p.percentileWindow);
  const percentile = percentileRank(vol, vol.length)[vol.length - 1];
  const sorted = [...vol].sort((a, b) => a - b);
  const rsi = wilderRsi(closes, p.rsiPeriod)[closes.length - 1];
  const values = {
    volatility: vol[vol.length - 1], volatilityThreshold: sorted[Math.min(sorted.length - 1, Math.floor(p.thresholdPercentile * sorted.length))],
    volatilityPercentile: percentile, rsi, oversold: rsi < p.rsiOversold, historyDays: vol.length,
  };
  if (vol.length < p.percentileWindow || percentile < p.thresholdPercentile) return { price: closes[closes.length - 1], values };
  const confidence = Math.min(0.95, 0.5 + 0.5 * (percentile - p.thresholdPercentile) / (1 - p.thresholdPercentile));
  return { price: closes[closes.length - 1], values, signal: { signalType: rsi < p.rsiOversold ? 'LONG' : 'SHORT', confidence, sizeScale: 1 } };
}

describe('volatility_spike streamed', () => {
  it('equals the windowed definition at every bar of BTC and ETH 2014–2024, spikes included', () => {
    const params = { volatilityWindow: 20, percentileWindow: 120, thresholdPercentile: 0.9, rsiPeriod: 14, rsiOversold: 30 };
    let spikes = 0;
    for (const asset of ['bitcoin', 'ethereum']) {
      const s = md.prices[asset];
      const stream = STRATEGY_DEFINITIONS.volatility_spike.stream!(params, md.macro);
      const closes: number[] = [];
      for (let i = 0; i < s.time.length; i++) {
        closes.push(s.close[i]);
        const signalled = stream.push(s.close[i], s.time[i]);
        const expected = windowedVolatilitySpike(closes, params);
        expect(stream.analysis(asset), `${asset} ${new Date(s.time[i]).toISOString()}`).toEqual({ asset, ...expected });
        expect(signalled).toBe('signal' in expected);
        if (signalled) spikes += 1;
      }
    }
    expect(spikes).toBeGreaterThan(100);
  });
});

describe('volatility_spike on its bar', () => {
  it('annualises the volatility by the bars in a year of its bar (8,760 hourly, 365 daily); the decision is the same on either', () => {
    const params = { volatilityWindow: 20, percentileWindow: 365, thresholdPercentile: 0.9, rsiPeriod: 14, rsiOversold: 30 };
    const prices = barSeries(candleColumns(binanceHourly('BTCUSDT')), HOUR_MS, HOUR_MS);
    const data: MarketData = { prices: { bitcoin: prices }, macro: {} };
    const config = { ...loadStrategyConfigs().find((c) => c.name === 'volatility_spike')!, assets: ['bitcoin'], parameters: params };
    const hourly = createStrategy(STRATEGY_DEFINITIONS.volatility_spike, { ...config, bar: '1h' });
    const daily = createStrategy(STRATEGY_DEFINITIONS.volatility_spike, { ...config, bar: '1d' });
    const [hourStream, dayStream] = [hourly.openStream!({}), daily.openStream!({})];
    // The sample deviation of the last 20 log returns, written out here.
    const deviation = (end: number) => {
      const r = Array.from({ length: 20 }, (_, k) => Math.log(prices.close[end - k] / prices.close[end - k - 1]));
      const mean = r.reduce((a, b) => a + b, 0) / r.length;
      return Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / (r.length - 1));
    };
    let checked = 0;
    let spikes = 0;
    for (let i = 0; i < prices.close.length; i++) {
      const spoke = hourStream.push(prices.close[i], prices.time[i]);
      expect(dayStream.push(prices.close[i], prices.time[i])).toBe(spoke);
      if (i < 400 || i % 1000 !== 0) continue;
      const [h, d] = [hourStream.analysis('bitcoin'), dayStream.analysis('bitcoin')];
      expect(h.values.volatility as number).toBeCloseTo(deviation(i) * Math.sqrt(8760), 10);
      expect(d.values.volatility as number).toBeCloseTo(deviation(i) * Math.sqrt(365), 10);
      expect((h.values.volatilityThreshold as number) / (d.values.volatilityThreshold as number)).toBeCloseTo(Math.sqrt(24), 12);
      expect({ ...h.values, volatility: 0, volatilityThreshold: 0 }).toEqual({ ...d.values, volatility: 0, volatilityThreshold: 0 });
      expect(h.signal).toEqual(d.signal);
      // The live path (a fresh look at the closes known then) annualises by the configured bar too.
      expect(hourly.analyze(data, prices.time[i]).assets[0]).toEqual(h);
      checked += 1;
      if (h.signal) spikes += 1;
    }
    expect(checked).toBeGreaterThan(30);
    expect(spikes).toBeGreaterThan(0);
  });
});

/** VIXCLS from FRED beside BTC and ETH: the data the VIX strategies stream over. */
const withVix: MarketData = { prices: md.prices, macro: { VIXCLS: macroSeriesFrom(fredSeries('VIXCLS')) } };
const MAX_PAIR_GAP = 3 * DAY_MS;

/** vix_correlation as a fresh look at the window: the last `count` VIX/close pairs known at asOf, then Pearson per window. */
function windowedVixCorrelation(data: MarketData, asset: string, asOf: number, p: { primaryWindow: number; correlationOn: string; strongNegative: number; strongPositive: number; vixReference: number }) {
  const vix = data.macro.VIXCLS;
  const prices = data.prices[asset];
  const windows = [...new Set([7, 14, 21, 30, p.primaryWindow])].sort((a, b) => a - b);
  const needed = Math.max(...windows) + 1;
  const vixValues: number[] = [];
  const coinCloses: number[] = [];
  for (let i = knownCount(vix.time, asOf) - 1; i >= 0 && vixValues.length < needed; i--) {
    const idx = knownCount(prices.time, vix.time[i]) - 1;
    if (idx < 0) break;
    if (vix.time[i] - prices.time[idx] > MAX_PAIR_GAP) continue;
    vixValues.unshift(vix.value[i]);
    coinCloses.unshift(prices.close[idx]);
  }
  if (vixValues.length < p.primaryWindow + 1) return { price: null, values: { reason: `needs ${p.primaryWindow + 1} VIX/price pairs, has ${vixValues.length}` } };
  const returns = p.correlationOn === 'returns';
  const x = returns ? Array.from(logReturns(vixValues)).slice(1) : vixValues;
  const y = returns ? Array.from(logReturns(coinCloses)).slice(1) : coinCloses;
  const correlations: Record<string, number | null> = {};
  for (const w of windows) {
    const c = x.length < w ? Number.NaN : rollingPearson(x.slice(-w), y.slice(-w), w)[w - 1];
    correlations[`${w}d`] = Number.isNaN(c) ? null : c;
  }
  const current = correlations[`${p.primaryWindow}d`];
  const last = vixValues[vixValues.length - 1];
  const price = prices.close[knownCount(prices.time, asOf) - 1];
  const values = { correlationOn: p.correlationOn, correlations, currentCorrelation: current, vix: last };
  const type = current === null ? undefined : current < p.strongNegative ? 'LONG' : current > p.strongPositive ? 'SHORT' : undefined;
  if (!type) return { price, values };
  const boost = Math.min(1, Math.max(0, (last - p.vixReference) / p.vixReference));
  return { price, values, signal: { signalType: type, confidence: Math.min(0.95, Math.abs(current!) * (1 + 0.25 * boost)), sizeScale: 1 + boost } };
}

/** mean_reversion as a fresh look at the window (the definition before it had a stream). */
function windowedMeanReversion(data: MarketData, asset: string, asOf: number, p: { vixSpike: number; drawdownThreshold: number; drawdownLookback: number; rsiPeriod: number; rsiOversold: number; vixPercentileWindow: number }) {
  const prices = data.prices[asset];
  const vixSeries = data.macro.VIXCLS;
  const end = knownCount(prices.time, asOf);
  const closes = Array.from(prices.close.slice(Math.max(0, end - Math.max(p.drawdownLookback, p.rsiPeriod * 10 + 1)), end));
  const vixEnd = knownCount(vixSeries.time, asOf);
  const vixValues = vixSeries.value.slice(Math.max(0, vixEnd - p.vixPercentileWindow), vixEnd);
  if (closes.length < Math.max(p.drawdownLookback, p.rsiPeriod + 1) || vixValues.length === 0) return { price: null, values: { reason: 'not enough history' } };
  const price = closes[closes.length - 1];
  const rsi = wilderRsi(closes, p.rsiPeriod)[closes.length - 1];
  const drawdown = drawdownFromRollingHigh(closes.slice(-p.drawdownLookback), p.drawdownLookback)[p.drawdownLookback - 1];
  const vix = vixValues[vixValues.length - 1];
  const vixPercentile = percentileRank(vixValues, vixValues.length)[vixValues.length - 1];
  const spike = vix > p.vixSpike;
  const deep = drawdown > p.drawdownThreshold;
  const oversold = rsi < p.rsiOversold;
  const values = { vix, vixSpikeDetected: spike, drawdownFromHigh: drawdown, rsi, oversold, vixPercentile };
  if (!(spike && deep && oversold)) return { price, values };
  const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
  const confidence = Math.min(0.95, 0.6 + 0.2 * clamp01((vix - p.vixSpike) / p.vixSpike) + 0.2 * clamp01((drawdown - p.drawdownThreshold) / p.drawdownThreshold));
  return { price, values, signal: { signalType: 'LONG', confidence, sizeScale: 0.5 + vixPercentile } };
}

/**
 * Feeds a strategy's stream every close of BTC and ETH and compares, at each bar, its analysis with
 * the windowed reference (`toEqual`: numbers to the bit); returns the signal types the reference gave.
 */
function compareWithWindow(
  name: 'vix_correlation' | 'mean_reversion',
  params: Record<string, number | string>,
  reference: (asset: string, asOf: number) => { price: number | null; values: object; signal?: { signalType: string } },
): string[] {
  const types: string[] = [];
  for (const asset of ['bitcoin', 'ethereum']) {
    const s = withVix.prices[asset];
    const stream = STRATEGY_DEFINITIONS[name].stream!(params, withVix.macro);
    for (let i = 0; i < s.time.length; i++) {
      const signalled = stream.push(s.close[i], s.time[i]);
      const expected = reference(asset, s.time[i]);
      expect(stream.analysis(asset), `${name} ${JSON.stringify(params)} ${asset} ${new Date(s.time[i]).toISOString()}`).toEqual({ asset, ...expected });
      expect(signalled).toBe('signal' in expected);
      if (expected.signal) types.push(expected.signal.signalType);
    }
  }
  return types;
}

describe('the VIX strategies streamed (BTC and ETH 2014–2024 with FRED VIXCLS)', () => {
  it('vix_correlation equals its windowed definition to the bit at every bar, on levels and on returns', () => {
    const types = ['levels', 'returns'].flatMap((correlationOn) => {
      const params = { primaryWindow: correlationOn === 'levels' ? 30 : 14, correlationOn, strongNegative: -0.6, strongPositive: 0.6, vixReference: 20 };
      return compareWithWindow('vix_correlation', params, (asset, asOf) => windowedVixCorrelation(withVix, asset, asOf, params));
    });
    // Both directions are decided, many times, on both sides of the comparison.
    expect(Math.min(types.filter((t) => t === 'LONG').length, types.filter((t) => t === 'SHORT').length)).toBeGreaterThan(200);
  });

  it('mean_reversion equals its windowed definition to the bit at every bar (rolling high, RSI, VIX percentile)', () => {
    const signals = [
      { vixSpike: 25, drawdownThreshold: 0.1, drawdownLookback: 30, rsiPeriod: 14, rsiOversold: 30, vixPercentileWindow: 252 },
      { vixSpike: 18, drawdownThreshold: 0.05, drawdownLookback: 200, rsiPeriod: 7, rsiOversold: 45, vixPercentileWindow: 60 },
    ].flatMap((params) => compareWithWindow('mean_reversion', params, (asset, asOf) => windowedMeanReversion(withVix, asset, asOf, params)));
    expect(signals.length).toBeGreaterThan(30);
  });

  it('live analysis (a fresh stream fed what is known at asOf) equals the long-running stream at that bar', () => {
    const s = withVix.prices.bitcoin;
    for (const name of ['vix_correlation', 'mean_reversion'] as const) {
      const def = STRATEGY_DEFINITIONS[name];
      const params = Object.fromEntries(def.parameters.map((p) => [p.name, p.default]));
      const stream = def.stream!(params, withVix.macro);
      for (let i = 0; i < s.time.length; i++) {
        stream.push(s.close[i], s.time[i]);
        if (i % 97 === 0) expect(def.analyzeAsset(withVix, 'bitcoin', s.time[i], params), `${name} ${i}`).toEqual(stream.analysis('bitcoin'));
      }
    }
  });
});

describe('backtest engine: the incremental path and its invariants', () => {
  const signals = loadSignalsConfig();
  const strategy = createStrategy(STRATEGY_DEFINITIONS.sma_crossover, {
    name: 'sma_crossover', enabled: true, assets: ['bitcoin', 'ethereum'], parameters: { fast: 5, slow: 20, confidence: 0.7 },
    risk: { positionSize: 0.05, maxPositionSize: 0.2, stopLossPct: 0.03, riskRewardRatio: 2 },
  });
  const input = (strategies = [strategy]): BacktestInput => ({
    data: md, assets: ['bitcoin', 'ethereum'], strategies, aggregation: signals.aggregation, risk: loadRiskConfig(), initialCapital: 100_000,
    historyDays: signals.historyDays, from: Date.UTC(2018, 0, 1), to: Date.UTC(2024, 0, 1),
    conventions: { fillAt: 'next_open', fillModel: loadExecutionConfig().fillModel, sizing: { kind: 'fixed_fraction', fraction: 0.3 }, units: 'fractional', allowShort: true, protective: true, closeAtEnd: true },
  });

  it('streams and the analyse-at-every-close path (what live runs) give the same trades and equity', () => {
    const streamed = runBacktest(input());
    const { openStream: _, ...withoutStream } = strategy;
    const analysed = runBacktest(input([withoutStream]));
    expect(streamed.trades.length).toBeGreaterThan(50);
    expect(streamed.fills.rows()).toEqual(analysed.fills.rows());
    expect(streamed.trades.rows()).toEqual(analysed.trades.rows());
    expect(Array.from(streamed.equity.value)).toEqual(Array.from(analysed.equity.value));
  });

  it('the live ensemble (all four strategies, the VIX ones included) trades the same streamed as analysed at every close', () => {
    const ensemble = loadStrategyConfigs().filter((c) => c.enabled).map((c) => createStrategy(STRATEGY_DEFINITIONS[c.name], c));
    expect(ensemble.map((s) => s.name).sort()).toEqual(['mean_reversion', 'sma_crossover', 'vix_correlation', 'volatility_spike']);
    // From 2019 (a year and a half of warm-up before 2020-07): analysing at every close re-reads all of it, each time.
    const since = Date.UTC(2019, 0, 1);
    const cut = <T extends { time: ArrayLike<number> }>(x: T): T => {
      const from = knownCount(x.time, since);
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, (v as number[]).slice(from)])) as unknown as T;
    };
    const recent: MarketData = {
      prices: Object.fromEntries(Object.entries(withVix.prices).map(([a, x]) => [a, cut(x)])), macro: { VIXCLS: cut(withVix.macro.VIXCLS) },
    };
    const run = (strategies: Strategy[]) => runBacktest({ ...input(strategies), data: recent, from: Date.UTC(2020, 6, 1), to: Date.UTC(2023, 0, 1) });
    const streamed = run(ensemble);
    const analysed = run(ensemble.map(({ openStream: _, ...withoutStream }) => withoutStream));
    expect(streamed.trades.length).toBeGreaterThan(20);
    expect(streamed.fills.rows()).toEqual(analysed.fills.rows());
    expect(streamed.trades.rows()).toEqual(analysed.trades.rows());
    expect(Array.from(streamed.equity.value)).toEqual(Array.from(analysed.equity.value));
  });

  // BTC and ETH as stored (the same hours: the replay takes every close's bars in one step), and with
  // ETH missing one hour in 50 inside its days (its bars merged by time, close by close); the SMA on
  // its daily bar, and deciding at every hourly close on the same hours.
  it.each([
    { hours: 'the same hours', gap: 0, bar: '1d' },
    { hours: 'ETH missing hours', gap: 50, bar: '1d' },
    { hours: 'the same hours', gap: 0, bar: '1h' },
  ] as const)('on hourly bars ($hours) with a strategy on the $bar bar, the closes passed in one loop (book flat) change nothing', ({ gap, bar }) => {
    // The streamed run passes a flat book's hourly closes in one loop: inside a day with no close to
    // decide at (daily bar), or fed close by close until a stream speaks (hourly bar, the same hours);
    // analysing at every close (a strategy without a stream) processes each of them in full. Risk
    // sizing, shorts, stops trailed at 5 % and a cooldown after each, as the ensemble bench runs.
    const candles = Object.entries({ bitcoin: 'BTCUSDT', ethereum: 'ETHUSDT' }).map(([asset, pair]) => {
      const missing = (t: number, i: number) => asset === 'ethereum' && gap > 0 && i % gap === 7 && (t + HOUR_MS) % DAY_MS !== 0;
      return [asset, candleColumns(binanceHourly(pair).filter((x, i) => !missing(x.timestamp, i)))] as const;
    });
    const prices = Object.fromEntries(candles.map(([a, c]) => [a, barSeries(c, HOUR_MS, HOUR_MS)]));
    const daily = Object.fromEntries(candles.map(([a, c]) => [a, barSeries(c, HOUR_MS)]));
    const daySma = createStrategy(STRATEGY_DEFINITIONS.sma_crossover, { ...strategy.config, bar });
    const hourlyInput = (strategies: Strategy[]): BacktestInput => ({
      ...input(strategies), data: { prices, macro: {} }, barMinutes: 60, dataByBar: { 1440: { prices: daily, macro: {} } },
      from: Date.UTC(2018, 0, 1), to: Date.UTC(2021, 6, 1),
      conventions: { ...input().conventions, sizing: { kind: 'risk' }, trailingStopPct: 0.05, stopCooldownMinutes: 24 * 60 },
    });
    const streamed = runBacktest(hourlyInput([daySma]));
    const { openStream: _, ...withoutStream } = daySma;
    const analysed = runBacktest(hourlyInput([withoutStream]));
    // Flat at a good share of the closes, and trading: both paths are taken many times.
    expect(streamed.trades.length).toBeGreaterThan(30);
    expect(streamed.exposureTime).toBeGreaterThan(0.05);
    expect(streamed.exposureTime).toBeLessThan(0.9);
    expect(streamed.fills.rows()).toEqual(analysed.fills.rows());
    expect(streamed.trades.rows()).toEqual(analysed.trades.rows());
    expect(Array.from(streamed.equity.time)).toEqual(Array.from(analysed.equity.time));
    expect(Array.from(streamed.equity.value)).toEqual(Array.from(analysed.equity.value));
    expect(streamed.metrics).toEqual(analysed.metrics);
    expect([streamed.exposureTime, streamed.rejectionsByRule]).toEqual([analysed.exposureTime, analysed.rejectionsByRule]);

    // Both in chunks of 1,000 bars, each state through JSON (a resumed attempt rebuilds its streams from
    // the history on its first full close): the same checkpoint after every chunk (marks, the day's
    // mark, the peak, …), wherever a chunk ends, and the same run as unchunked.
    const chunked = [[daySma], [withoutStream]].map((strategies) => {
      const inp = hourlyInput(strategies);
      const queue = eventQueue(inp);
      return { inp, queue, state: initialState(inp) as EngineState };
    });
    while (chunked[0].state.cursor < chunked[0].queue.length) {
      const [a, b] = chunked.map((c) => JSON.stringify(checkpointOf(advance(c.inp, c.queue, c.state, 1000))));
      expect(a).toEqual(b);
      for (const c of chunked) c.state = restoreState(JSON.parse(a));
    }
    const resumed = finish(chunked[0].inp, chunked[0].state);
    expect(resumed.trades.rows()).toEqual(streamed.trades.rows());
    expect(Array.from(resumed.equity.value)).toEqual(Array.from(streamed.equity.value));

    // As the backtest activity checkpoints: the past signals left out (stored beside them by number,
    // here in an array) and handed back at each restore. Their track records size the trades.
    const inp = hourlyInput([daySma]);
    const queue = eventQueue(inp);
    let st: EngineState = initialState(inp);
    const stored: PastSignal[] = [];
    let widest = 0;
    while (st.cursor < queue.length) {
      advance(inp, queue, st, 1000);
      st.past.forEach((x, k) => { stored[st.pastTotal - st.past.length + k] = { ...x }; });
      const checkpoint = JSON.parse(JSON.stringify(checkpointOf(st, { pastFrom: st.pastTotal }))) as EngineCheckpoint;
      expect(checkpoint.past).toEqual([]);
      widest = Math.max(widest, checkpoint.pastTotal - checkpoint.pastFirst);
      st = restoreState(checkpoint, { past: stored.slice(checkpoint.pastFirst, checkpoint.pastTotal) });
    }
    expect(widest).toBeGreaterThan(10);
    const resumedFromStore = finish(inp, st);
    expect(resumedFromStore.trades.rows()).toEqual(streamed.trades.rows());
    expect(Array.from(resumedFromStore.equity.value)).toEqual(Array.from(streamed.equity.value));
  });

  it('after every close, equity = cash + Σ quantity × mark, and every fill is in the book once', () => {
    const inp = input();
    const queue = eventQueue(inp);
    const st = initialState(inp);
    while (st.cursor < queue.length) {
      advance(inp, queue, st, 1);
      expect(latestEquity(st)).toBeCloseTo(equity(st.trading.book, st.marks), 6);
    }
    const result = finish(inp, st);
    expect(result.fills.length).toBeGreaterThan(100);
    const fees = result.fills.rows().reduce((sum, f) => sum + f.fee, 0);
    const cashFlow = result.fills.rows().reduce((sum, f) => sum + (f.side === 'BUY' ? -1 : 1) * f.quantity * f.price - f.fee, 0);
    expect(st.trading.book.feesPaid).toBeCloseTo(fees, 6);
    expect(st.trading.book.cash).toBeCloseTo(100_000 + cashFlow, 6);
    expect(result.equity.value.at(-1)).toBeCloseTo(st.trading.book.cash, 6);
    expect(result.periodsPerYear).toBe(365);
  });
});
