import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { buildStrategies, loadStrategyConfigs } from '../../src/config/strategies';
import { type BacktestFill, runBacktest } from '../../src/domain/backtest/engine';
import { dailySeries, macroSeriesFrom } from '../../src/domain/market-data';
import { assetConditions, conditionsOf, ConditionsTracker, type MarketConditions, marketConditions } from '../../src/domain/market-conditions';
import { kellyFraction, positionSizing } from '../../src/domain/position-sizing';
import { assessRisk, type PortfolioState, riskVerdict, type RiskSignal, validateTrade } from '../../src/domain/risk';
import { VIX } from '../../src/domain/strategies/vix-correlation';
import { DAY_MS, HOUR_MS } from '../../src/domain/types';
import { binanceHourly, MARKET, yfinanceDaily } from '../support/market-files';

const config = { ...loadRiskConfig(), sectors: {} };
const signal = (over: Partial<RiskSignal> = {}): RiskSignal => ({ signalId: 's', asset: 'new', signalType: 'LONG', price: 100, confidence: 1, ...over });
const state = (over: Partial<PortfolioState> = {}): PortfolioState => ({ totalEquity: 10_000, currentDrawdown: 0, dailyPnl: 0, positions: [], ...over });

/** Twelve daily returns, ±1% alternating, and a ±1% pattern orthogonal to them: correlations 1 and 0 by construction. */
const base = Array.from({ length: 12 }, (_, i) => (i % 2 ? 0.01 : -0.01));
const orthogonal = base.map((_, i) => [0.01, 0.01, -0.01, -0.01][i % 4]);
const conditions = (returns: number[], tradedValue24h: number | null = 5e6) => conditionsOf(returns, tradedValue24h);

describe('market conditions from bars', () => {
  it('daily returns between UTC-midnight closes and the 24-hour traded value, from hourly bars', () => {
    // Three days of hourly bars closing at 01:00 … 24:00; the close at each midnight is 100, 110, 99, 99 × 1.5.
    const closes: number[] = [];
    const dayClose = [100, 110, 99, 148.5];
    for (let d = 0; d < 4; d++) for (let h = 1; h <= 24; h++) closes.push(h === 24 ? dayClose[d] : 50 + h);
    const t0 = Date.UTC(2025, 0, 1);
    const time = closes.map((_, i) => t0 + (i + 1) * HOUR_MS);
    const series = { time, open: closes, high: closes, low: closes, close: closes, volume: closes.map(() => 2) };
    // At 06:00 on the fifth day: the last midnight is t0 + 4 days; a 3-day lookback gives three returns.
    const asOf = t0 + 4 * DAY_MS + 6 * HOUR_MS;
    const c = assetConditions(series, asOf, 3);
    expect(c.dailyReturns).toHaveLength(3);
    expect(c.dailyReturns[0]).toBeCloseTo(0.1, 15);
    expect(c.dailyReturns[1]).toBeCloseTo(-0.1, 15);
    expect(c.dailyReturns[2]).toBeCloseTo(0.5, 15);
    // The series ends at the fourth midnight: the 24 hours to 06:00 hold the bars closing 06:00 the day before … 24:00, 18 bars.
    const tradedBars = closes.slice(4 * 24 - 18);
    expect(c.tradedValue24h).toBeCloseTo(tradedBars.reduce((s, x) => s + 2 * x, 0), 9);
    // A day with no bar is an unknown return, not a zero one; no bar in 24 hours is an unknown value.
    const gap = assetConditions({ ...series, time: time.map((t) => (t > t0 + DAY_MS && t <= t0 + 2 * DAY_MS ? t - 10 * DAY_MS : t)).sort((a, b) => a - b) }, asOf, 3);
    expect(gap.dailyReturns.map(Number.isNaN)).toEqual([true, true, false]);
    expect(assetConditions(series, asOf + 3 * DAY_MS, 3).tradedValue24h).toBeNull();
  });

  it('BTC, ETH and SOL correlations over 30 days of real closes match an independent calculation', () => {
    const assets = { bitcoin: 'BTC-USD', ethereum: 'ETH-USD', solana: 'SOL-USD' } as const;
    const candles = Object.fromEntries(Object.entries(assets).map(([a, symbol]) => [a, yfinanceDaily(symbol)]));
    const data = { prices: Object.fromEntries(Object.entries(candles).map(([a, c]) => [a, dailySeries(c, DAY_MS)])), macro: {} };
    const asOf = Date.UTC(2022, 5, 15, 9);
    const market = marketConditions(data, Object.keys(assets), asOf, 30);
    // Independently: the closes of 2022-05-15 … 2022-06-14 (the day that ends at the last midnight) by date.
    const returns = Object.fromEntries(Object.keys(assets).map((asset) => {
      const byDate = new Map(candles[asset].map((c) => [new Date(c.timestamp).toISOString().slice(0, 10), c.close]));
      const closes = Array.from({ length: 31 }, (_, k) => byDate.get(new Date(Date.UTC(2022, 4, 15) + k * DAY_MS).toISOString().slice(0, 10))!);
      return [asset, closes.slice(1).map((c, k) => c / closes[k] - 1)];
    }));
    const returnsOf = (asset: string) => returns[asset];
    const pearson = (x: number[], y: number[]) => {
      const n = x.length;
      const sx = x.reduce((s, v) => s + v, 0);
      const sy = y.reduce((s, v) => s + v, 0);
      const sxy = x.reduce((s, v, i) => s + v * y[i], 0);
      const sxx = x.reduce((s, v) => s + v * v, 0);
      const syy = y.reduce((s, v) => s + v * v, 0);
      return (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    };
    for (const a of Object.keys(assets)) market[a].dailyReturns.forEach((r, k) => expect(r).toBeCloseTo(returnsOf(a)[k], 12));
    const btcEth = pearson(returnsOf('bitcoin'), returnsOf('ethereum'));
    const btcSol = pearson(returnsOf('bitcoin'), returnsOf('solana'));
    expect(btcEth).toBeGreaterThan(0.8);
    // A SOL long beside $1,000 of BTC long and $3,000 of ETH short: (1000 × r(SOL,BTC) − 3000 × r(SOL,ETH)) / 4000.
    const positions = [{ asset: 'bitcoin', exposure: 1000 }, { asset: 'ethereum', exposure: 3000, side: 'SHORT' as const }];
    const r = validateTrade(signal({ asset: 'solana' }), state({ totalEquity: 100_000, positions }), 100, config, market);
    const expected = (1000 * btcSol - 3000 * pearson(returnsOf('solana'), returnsOf('ethereum'))) / 4000;
    expect(r.correlationRisk).toBeCloseTo(expected, 10);
    // An ETH long beside a BTC long of the same direction is refused at this correlation.
    const eth = validateTrade(signal({ asset: 'ethereum' }), state({ totalEquity: 100_000, positions: [{ asset: 'bitcoin', exposure: 1000 }] }), 100, config, market);
    expect(eth.rejectedBy).toBe('correlation');
    expect(eth.correlationRisk).toBeCloseTo(btcEth, 10);
    expect(eth.rejectionReason).toBe(`Correlation risk ${btcEth.toFixed(3)} of ethereum with the open positions is above the 0.800 limit`);
  });
});

describe('the market checks, hand-worked at their boundaries', () => {
  it('correlation: exposure-weighted, direction-adjusted; at 0.8 allowed, above refused, warned past 0.64', () => {
    // Same returns: correlation 1; orthogonal ones: 0. 4,000 at 1 and 1,000 at 0: exactly 0.8.
    const market: MarketConditions = { new: conditions(base), same: conditions(base.map((r) => 2 * r + 0.003)), other: conditions(orthogonal) };
    const book = (same: number, other: number, side: 'LONG' | 'SHORT' = 'LONG') => state({
      totalEquity: 1_000_000, positions: [{ asset: 'same', exposure: same, side }, { asset: 'other', exposure: other }],
    });
    const at = validateTrade(signal(), book(4000, 1000), 100, config, market);
    expect(at).toMatchObject({ approved: true, correlationRisk: 0.8 });
    expect(at.warnings).toEqual(['Approaching correlation limit: 0.800 (limit: 0.800)']);
    expect(at.enforcement.correlation).toEqual({ value: 0.8, limit: 0.8, utilization: 1, unit: 'fraction' });
    expect(validateTrade(signal(), book(4001, 1000), 100, config, market)).toMatchObject({ approved: false, rejectedBy: 'correlation' });
    // 0.64 exactly is not past the warning; 0.65 is.
    expect(validateTrade(signal(), book(6400, 3600), 100, config, market).warnings).toEqual([]);
    expect(validateTrade(signal(), book(6500, 3500), 100, config, market).warnings).toEqual(['Approaching correlation limit: 0.650 (limit: 0.800)']);
    // A short in a perfectly correlated asset hedges a long: −0.8, no warning; so does a SHORT signal against a long book.
    expect(validateTrade(signal(), book(4000, 1000, 'SHORT'), 100, config, market)).toMatchObject({ approved: true, correlationRisk: -0.8, warnings: [] });
    expect(validateTrade(signal({ signalType: 'SHORT' }), book(9000, 1000), 100, config, market).correlationRisk).toBe(-0.9);
    // Unknown returns (fewer than 10 days) leave a position out of the weighting.
    const short = { ...market, other: conditions(orthogonal.slice(0, 9)) };
    expect(validateTrade(signal(), book(4000, 1000), 100, config, short).correlationRisk).toBe(1);
  });

  it('volatility: 5% daily allowed with the 4% warning, above refused; unknown with fewer than 10 returns', () => {
    // Ten returns, five at +a and five at −a: sample standard deviation a·√(10/9).
    const withVolatility = (v: number) => ({ new: conditions(Array.from({ length: 10 }, (_, i) => (i % 2 ? 1 : -1) * v * Math.sqrt(0.9))) });
    const at = validateTrade(signal(), state(), 100, config, withVolatility(0.05));
    expect(at).toMatchObject({ approved: true, marketVolatility: 0.05, warnings: ['High volatility: new 5.00% daily (warning at 4.00%, limit: 5.00%)'] });
    const over = validateTrade(signal(), state(), 100, config, withVolatility(0.0501));
    expect(over).toMatchObject({ approved: false, rejectedBy: 'volatility', rejectionReason: 'Daily volatility of new 5.01% is above the 5.00% limit' });
    expect(validateTrade(signal(), state(), 100, config, withVolatility(0.04)).warnings).toEqual([]);
    expect(validateTrade(signal(), state(), 100, config, withVolatility(0.0401)).warnings).toHaveLength(1);
    const unknown = validateTrade(signal(), state(), 100, config, { new: conditions([0.2, -0.2, 0.2]) });
    expect(unknown).toMatchObject({ approved: true, marketVolatility: null });
    expect(unknown.enforcement.volatility).toEqual({ value: null, limit: 0.05, utilization: null, unit: 'fraction' });
  });

  it('liquidity: $1 M traded in 24 hours allowed, less refused, warned under $1.25 M', () => {
    const traded = (v: number | null) => ({ new: conditions([], v) });
    expect(validateTrade(signal(), state(), 100, config, traded(1_250_000))).toMatchObject({ approved: true, warnings: [] });
    expect(validateTrade(signal(), state(), 100, config, traded(1_200_000)).warnings)
      .toEqual(['Thin market: new traded $1200000.00 in the last 24 hours (threshold: $1000000.00)']);
    expect(validateTrade(signal(), state(), 100, config, traded(1_000_000)).approved).toBe(true);
    expect(validateTrade(signal(), state(), 100, config, traded(999_999.99))).toMatchObject({
      approved: false, rejectedBy: 'liquidity', rejectionReason: 'new traded $999999.99 in the last 24 hours, below the $1000000.00 liquidity threshold',
    });
    expect(validateTrade(signal(), state(), 100, config, traded(0)).rejectedBy).toBe('liquidity');
    expect(validateTrade(signal(), state(), 100, config, traded(null)).approved).toBe(true);
  });

  it('runs in the stated order: sector exposure before correlation before volatility before liquidity', () => {
    const everything = { new: conditions(Array.from({ length: 10 }, (_, i) => (i % 2 ? 0.2 : -0.2)), 10), held: conditions(Array.from({ length: 10 }, (_, i) => (i % 2 ? 0.2 : -0.2))) };
    const held = [{ asset: 'held', exposure: 3000 }];
    const sectors = { ...config, sectors: { new: 'l1', held: 'l1' } };
    expect(validateTrade(signal(), state({ positions: held }), 100, sectors, everything).rejectedBy).toBe('sectorExposure');
    expect(validateTrade(signal(), state({ positions: held }), 100, config, everything).rejectedBy).toBe('correlation');
    expect(validateTrade(signal(), state(), 100, config, everything).rejectedBy).toBe('volatility');
    expect(validateTrade(signal(), state(), 100, config, { new: conditions([], 10) }).rejectedBy).toBe('liquidity');
  });
});

describe('blended sizing, by hand', () => {
  const settings = config;
  // 30 scored signals, 18 won 0.9 in all (0.05 each), 12 lost 0.36 (0.03 each): p = 0.6, b = 5/3, f = 0.6 − 0.4 × 3/5 = 0.36.
  const record = { total: 30, hits: 18, gain: 0.9, loss: 0.36 };

  it('Kelly: p − (1 − p)/b, halved, floored at 0, only from 20 scored signals', () => {
    expect(kellyFraction(record)).toBeCloseTo(0.36, 12);
    const s = positionSizing({ equity: 10_000, confidence: 1, volatility: null, record, positions: [] }, settings);
    expect(s.kellyFraction).toBeCloseTo(0.18, 12);
    expect(s.components.kelly).toBeCloseTo(1800, 9);
    // A losing record: p = 0.25, b = 1 → f = −0.5 → 0.
    expect(positionSizing({ equity: 10_000, confidence: 1, volatility: null, record: { total: 20, hits: 5, gain: 0.1, loss: 0.3 }, positions: [] }, settings).components.kelly).toBe(0);
    const young = positionSizing({ equity: 10_000, confidence: 1, volatility: null, record: { ...record, total: 19, hits: 11 }, positions: [] }, settings);
    expect(young.components.kelly).toBeNull();
    expect(young.notes).toContain('kelly: 19 scored signals, needs 20');
  });

  it('volatility targeting and risk parity', () => {
    // Volatility: $10,000 × 2% × (2% target / 4% volatility) = $100. Risk parity: positions risk 1,000 × 3% = 30 and
    // 2,000 × 6% = 120, mean 75, at 4% volatility = $1,875.
    const positions = [{ exposure: 1000, volatility: 0.03 }, { exposure: 2000, volatility: 0.06 }, { exposure: 5000, volatility: null }];
    const s = positionSizing({ equity: 10_000, confidence: 1, volatility: 0.04, positions }, settings);
    expect(s.components.volatility).toBeCloseTo(100, 9);
    expect(s.components.riskParity).toBeCloseTo(1875, 9);
  });

  it('blends by the weights 0.3 / 0.3 / 0.25 / 0.15, scales by confidence, renormalises over what is known, caps at 10%', () => {
    const positions = [{ exposure: 1000, volatility: 0.03 }, { exposure: 2000, volatility: 0.06 }];
    // 0.3 × 200 + 0.3 × 1,800 + 0.25 × 100 + 0.15 × 1,875 = 906.25; × 0.8 confidence = 725.
    const all = positionSizing({ equity: 10_000, confidence: 0.8, volatility: 0.04, record, positions }, settings);
    expect(all).toMatchObject({ method: 'blended', limitedBy: null });
    expect(all.size).toBeCloseTo(725, 9);
    expect(all.weights).toEqual({ fixedPercent: 0.3, kelly: 0.3, volatility: 0.25, riskParity: 0.15 });
    // No record: (0.3 × 200 + 0.25 × 100 + 0.15 × 1,875) / 0.7 × 0.8 = 418.571…
    const noKelly = positionSizing({ equity: 10_000, confidence: 0.8, volatility: 0.04, positions }, settings);
    expect(noKelly.size).toBeCloseTo(((60 + 25 + 281.25) / 0.7) * 0.8, 9);
    expect(noKelly.weights.kelly).toBe(0);
    // A strong record at full confidence: 0.3 × 200 + 0.7 × 4,000 ... capped at $1,000.
    const strong = positionSizing({ equity: 10_000, confidence: 1, volatility: null, record: { total: 40, hits: 40, gain: 2, loss: 0 }, positions: [] }, settings);
    expect(strong.blended).toBeCloseTo(0.5 * 200 + 0.5 * 5000, 9);
    expect(strong).toMatchObject({ size: 1000, limitedBy: 'positionSize' });
  });

  it('the assessment shows each component, the method, the market numbers and every limit', () => {
    const returns = Array.from({ length: 30 }, (_, i) => (i % 2 ? 0.01 : -0.01));
    const market: MarketConditions = { new: conditions(returns), held: conditions(orthogonal) };
    const a = assessRisk(signal({ trackRecord: record }), state({ positions: [{ asset: 'held', exposure: 1000 }] }), config, { market, at: Date.UTC(2025, 5, 1) });
    expect(a.timestamp).toBe('2025-06-01T00:00:00.000Z');
    expect(a.positionSizeMethod).toBe('blended');
    expect(a.positionSizing.components.kelly).toBeCloseTo(1800, 9);
    expect(a.marketVolatility).toBeCloseTo(0.01 * Math.sqrt(30 / 29), 12);
    expect(a.correlationRisk).toBe(0);
    expect(a.portfolioImpact).toMatchObject({ equity: 10_000, openPositions: 1, exposureBefore: 1000 });
    expect(Object.keys(a.riskLimitsEnforcement)).toEqual([
      'drawdown', 'dailyLoss', 'positionSize', 'singleAssetExposure', 'portfolioRisk', 'sectorExposure', 'correlation', 'volatility', 'liquidity',
    ]);
    expect(a.riskLimitsEnforcement.liquidity).toEqual({ value: 5e6, limit: 1e6, utilization: 0.2, unit: 'usd' });
  });
});

describe('no approved trade breaks a limit (property, checked by independent calculations)', () => {
  it('whatever the portfolio, the market and the record', () => {
    const assets = ['a', 'b', 'c', 'd'];
    const returns = fc.array(fc.double({ min: -0.08, max: 0.08, noNaN: true }), { minLength: 30, maxLength: 30 });
    const position = fc.record({
      asset: fc.constantFrom(...assets), exposure: fc.double({ min: 0, max: 3000, noNaN: true }), side: fc.constantFrom('LONG' as const, 'SHORT' as const),
    });
    const pearson = (x: number[], y: number[]) => {
      const mx = x.reduce((s, v) => s + v, 0) / x.length;
      const my = y.reduce((s, v) => s + v, 0) / y.length;
      const num = x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0);
      const den = Math.sqrt(x.reduce((s, v) => s + (v - mx) ** 2, 0) * y.reduce((s, v) => s + (v - my) ** 2, 0));
      return den > 0 ? num / den : null;
    };
    fc.assert(fc.property(
      fc.tuple(returns, returns, returns, returns), fc.array(fc.double({ min: 0, max: 1e8, noNaN: true }), { minLength: 4, maxLength: 4 }),
      fc.array(position, { maxLength: 5 }), fc.constantFrom(...assets), fc.double({ min: 0.5, max: 1, noNaN: true }),
      fc.record({ total: fc.integer({ min: 0, max: 60 }), hits: fc.integer({ min: 0, max: 60 }), gain: fc.double({ min: 0, max: 3, noNaN: true }), loss: fc.double({ min: 0, max: 3, noNaN: true }) }),
      (series, traded, positions, asset, confidence, rec) => {
        const market = Object.fromEntries(assets.map((x, i) => [x, conditions(series[i], traded[i])]));
        const trackRecord = { ...rec, hits: Math.min(rec.hits, rec.total) };
        const book = state({ totalEquity: 50_000, positions: positions.filter((p) => p.asset !== asset || p.side === 'LONG') });
        const a = assessRisk(signal({ asset, confidence, trackRecord }), book, config, { market });
        if (!a.isApproved) return;
        const size = a.recommendedPositionSize;
        const eps = 1e-9;
        expect(size / 50_000).toBeLessThanOrEqual(config.maxPositionSize + eps);
        expect(size / 50_000).toBeGreaterThanOrEqual(config.minPositionSize);
        let weighted = 0;
        let weight = 0;
        for (const p of book.positions) {
          if (p.asset === asset) continue;
          const r = pearson(series[assets.indexOf(asset)], series[assets.indexOf(p.asset)]);
          if (r === null || p.exposure <= 0) continue;
          weighted += p.exposure * r * (p.side === 'LONG' ? 1 : -1);
          weight += p.exposure;
        }
        expect(weight > 0 ? weighted / weight : 0).toBeLessThanOrEqual(config.maxCorrelationRisk + eps);
        const own = series[assets.indexOf(asset)];
        const mean = own.reduce((s, v) => s + v, 0) / own.length;
        expect(Math.sqrt(own.reduce((s, v) => s + (v - mean) ** 2, 0) / (own.length - 1))).toBeLessThanOrEqual(config.volatilityThreshold + eps);
        expect(traded[assets.indexOf(asset)]).toBeGreaterThanOrEqual(config.lowLiquidityThreshold);
        expect(confidence).toBeGreaterThanOrEqual(config.confidenceThreshold);
      },
    ), { numRuns: 1500 });
  });
});

describe('the verdict a backtest asks for is the assessment\'s outcome', () => {
  it('approved or the same refusing rule, the same size and the same cut, whatever the book, the market and the record (property)', () => {
    const assets = ['a', 'b', 'c'];
    const returns = fc.array(fc.oneof(fc.double({ min: -0.09, max: 0.09, noNaN: true }), fc.constant(Number.NaN)), { minLength: 30, maxLength: 30 });
    const position = fc.record({
      asset: fc.constantFrom(...assets), exposure: fc.double({ min: 0, max: 20_000, noNaN: true }),
      side: fc.constantFrom('LONG' as const, 'SHORT' as const), openRisk: fc.option(fc.double({ min: 0, max: 2000, noNaN: true }), { nil: undefined }),
    });
    const sectored = { ...config, sectors: { a: 'layer1', b: 'layer1' } };
    let refusedByLimit = 0;
    fc.assert(fc.property(
      fc.tuple(returns, returns, returns), fc.array(fc.option(fc.double({ min: 0, max: 1e8, noNaN: true }), { nil: null }), { minLength: 3, maxLength: 3 }),
      fc.array(position, { maxLength: 4 }), fc.constantFrom(...assets), fc.constantFrom('LONG' as const, 'SHORT' as const),
      fc.double({ min: 0.3, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.3, noNaN: true }), fc.double({ min: -3000, max: 3000, noNaN: true }),
      fc.option(fc.record({ total: fc.integer({ min: 0, max: 60 }), hits: fc.integer({ min: 0, max: 60 }), gain: fc.double({ min: 0, max: 3, noNaN: true }), loss: fc.double({ min: 0, max: 3, noNaN: true }) }), { nil: undefined }),
      (series, traded, positions, asset, signalType, confidence, drawdown, dailyPnl, rec) => {
        const market = Object.fromEntries(assets.map((x, i) => [x, conditions(series[i], traded[i])]));
        const trackRecord = rec && { ...rec, hits: Math.min(rec.hits, rec.total) };
        const s = signal({ asset, signalType, confidence, ...(trackRecord ? { trackRecord } : {}) });
        const book = state({ totalEquity: 50_000, currentDrawdown: drawdown, dailyPnl, positions });
        const full = assessRisk(s, book, sectored, { market });
        const verdict = riskVerdict(s, book, sectored, market);
        expect(verdict).toEqual({
          approved: full.isApproved, rejectedBy: full.rejectedBy, size: full.recommendedPositionSize, limitedBy: full.positionSizing.limitedBy,
        });
        if (full.rejectedBy !== null && full.rejectedBy !== 'confidence' && full.rejectedBy !== 'minimumSize') refusedByLimit += 1;
      },
    ), { numRuns: 2000 });
    // The property saw the limits refuse, not only the confidence and size floors.
    expect(refusedByLimit).toBeGreaterThan(100);
  });

  it('a replay\'s conditions, derived once a day, equal the conditions computed afresh at every hour of real bitcoin history', () => {
    const hourly = binanceHourly('BTCUSDT');
    const series = { time: hourly.map((c) => c.timestamp + HOUR_MS), open: hourly.map((c) => c.open), high: hourly.map((c) => c.high),
      low: hourly.map((c) => c.low), close: hourly.map((c) => c.close), volume: hourly.map((c) => c.volume) };
    // The daily returns by their definition, here: a midnight's close is the last bar's closing in the
    // day up to it (bars close on the hour, some hours missing), looked up hour by hour.
    const rowAt = new Map(series.time.map((t, i) => [t, i]));
    let hoursSearchedBack = 0;
    const closeAt = (midnight: number) => {
      for (let h = 0; h < 24; h++) {
        const i = rowAt.get(midnight - h * HOUR_MS);
        if (h > 0) hoursSearchedBack += 1;
        if (i !== undefined) return series.close[i];
      }
      return Number.NaN;
    };
    const definedReturns = (asOf: number) => {
      const last = Math.floor(asOf / DAY_MS) * DAY_MS;
      const closes = Array.from({ length: 31 }, (_, d) => closeAt(last - (30 - d) * DAY_MS));
      return closes.slice(1).map((c, d) => c / closes[d] - 1);
    };
    const tracker = new ConditionsTracker(series, 30);
    let checked = 0;
    for (let i = 800; i < series.time.length; i += 7) {
      const asOf = series.time[i];
      const tracked = tracker.at(asOf);
      expect(tracked).toEqual(assetConditions(series, asOf, 30));
      expect(tracked.dailyReturns).toEqual(definedReturns(asOf));
      checked += 1;
    }
    expect(checked).toBeGreaterThan(4000);
    // A midnight without a bar (the close an hour or more before: a day of another length) was looked
    // up from, hour by hour: this history has one, met by every window over it.
    expect(hoursSearchedBack).toBeGreaterThan(100);
    // Decisions days apart (its closes moved along by a few days), more than the lookback apart (read
    // afresh), and back in time.
    const jumping = new ConditionsTracker(series, 30);
    const hours = [7, 49, 23, 100, 5, 1000, 3, 170, -200, 30];
    let jumps = 0;
    for (let i = 800, k = 0; i < series.time.length; i += hours[k++ % hours.length]) {
      const asOf = series.time[i];
      expect(jumping.at(asOf)).toEqual(assetConditions(series, asOf, 30));
      jumps += 1;
    }
    expect(jumps).toBeGreaterThan(250);
  });
});

describe('a backtest of the live ensemble on real BTC, ETH and SOL closes', () => {
  const coins = { bitcoin: 'BTC-USD', ethereum: 'ETH-USD', solana: 'SOL-USD' } as const;
  const candles = Object.fromEntries(Object.entries(coins).map(([a, symbol]) => [a, yfinanceDaily(symbol)
    // yfinance reports volume in USD; MTS stores it in coins, as the exchanges do.
    .map((c) => ({ ...c, volume: c.volume / c.close }))]));
  const vix = readFileSync(`${MARKET}macro/fred/VIXCLS.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    .filter((r) => r[1] !== '.' && r[1] !== '').map((r) => ({ date: r[0], value: Number(r[1]) }));
  const data = { prices: Object.fromEntries(Object.entries(candles).map(([a, c]) => [a, dailySeries(c, DAY_MS)])), macro: { [VIX]: macroSeriesFrom(vix) } };
  const closeByDate = Object.fromEntries(Object.entries(candles).map(([a, c]) => [a, new Map(c.map((x) => [new Date(x.timestamp).toISOString().slice(0, 10), x.close]))]));
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  /** Independently: 30 daily returns to the midnight `t`, from the closes of the days before it by date. */
  const returnsTo = (asset: string, t: number) => {
    const closes = Array.from({ length: 31 }, (_, k) => closeByDate[asset].get(day(t - (31 - k) * DAY_MS))!);
    return closes.slice(1).map((c, k) => c / closes[k] - 1);
  };
  const pearson = (x: number[], y: number[]) => {
    const mx = x.reduce((s, v) => s + v, 0) / x.length;
    const my = y.reduce((s, v) => s + v, 0) / y.length;
    return x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0)
      / Math.sqrt(x.reduce((s, v) => s + (v - mx) ** 2, 0) * y.reduce((s, v) => s + (v - my) ** 2, 0));
  };
  const run = (maxCorrelationRisk: number) => runBacktest({
    data, assets: Object.keys(coins), strategies: buildStrategies(loadStrategyConfigs()), aggregation: loadSignalsConfig().aggregation,
    risk: { ...loadRiskConfig(), maxCorrelationRisk }, initialCapital: 100_000, historyDays: 800,
    from: Date.UTC(2021, 0, 1), to: Date.UTC(2023, 0, 1),
    conventions: {
      fillAt: 'close', fillModel: { fixedSlippageBps: 0, volatilitySlippageFactor: 0, takerFeeBps: 0 }, sizing: { kind: 'risk' }, units: 'fractional',
      allowShort: true, protective: true, closeAtEnd: true,
    },
  });
  /** For each entry: the new position's exposure-weighted, direction-adjusted correlation with the others open then. */
  const entryCorrelations = (fills: BacktestFill[]) => {
    const held: Record<string, number> = {};
    const out: number[] = [];
    for (const f of fills) {
      const sign = f.side === 'BUY' ? 1 : -1;
      const before = held[f.asset] ?? 0;
      held[f.asset] = before + sign * f.quantity;
      if (f.reason !== 'signal' || Math.sign(held[f.asset]) !== sign) continue;
      let weighted = 0;
      let weight = 0;
      for (const [other, quantity] of Object.entries(held)) {
        if (other === f.asset || Math.abs(quantity) < 1e-12) continue;
        const exposure = Math.abs(quantity) * closeByDate[other].get(day(f.time - DAY_MS))!;
        weighted += exposure * pearson(returnsTo(f.asset, f.time), returnsTo(other, f.time)) * Math.sign(quantity) * sign;
        weight += exposure;
      }
      out.push(weight > 0 ? weighted / weight : 0);
    }
    return out;
  };

  it('holds correlated coins back at the 0.8 limit, and they would have been entered without it', () => {
    const limited = run(0.8);
    expect(limited.rejectionsByRule.correlation).toBeGreaterThan(0);
    const entries = entryCorrelations(limited.fills.rows());
    expect(entries.length).toBeGreaterThan(0);
    for (const c of entries) expect(c).toBeLessThanOrEqual(0.8 + 1e-9);
    const unlimited = run(1);
    expect(unlimited.rejectionsByRule.correlation ?? 0).toBe(0);
    expect(entryCorrelations(unlimited.fills.rows()).some((c) => c > 0.8)).toBe(true);
    // Every rule that refused a signal is counted, and shrunk sizes are reported beside them.
    expect(Object.values(limited.rejectionsByRule).reduce((s, n) => s + n, 0)).toBe(limited.rejections);
    expect(limited.shrunkByRule).toBeDefined();
  });
});
