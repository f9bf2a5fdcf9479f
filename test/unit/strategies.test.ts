import { describe, expect, it } from 'vitest';
import { buildStrategies, loadStrategyConfigs, parseStrategyConfig } from '../../src/config/strategies';
import { STRATEGY_DEFINITIONS } from '../../src/domain/strategies';
import { createStrategy, parametersSchema } from '../../src/domain/strategies/framework';
import { macroSeriesFrom } from '../../src/domain/market-data';
import type { MarketData, TradingSignal } from '../../src/domain/signals';
import { DAY_MS } from '../../src/domain/types';
import { cutAt, simulatedMarketData } from '../support/simulated-data';

const FROM = Date.UTC(2023, 0, 1);
const TO = Date.UTC(2025, 0, 1);
const data = simulatedMarketData(11, ['bitcoin', 'ethereum', 'solana'], FROM, TO);
const strategies = buildStrategies(loadStrategyConfigs());

describe('every strategy sees only data up to its asOf', () => {
  // Signals at t from history cut at t equal signals at t from the full history.
  it.each(strategies.map((s) => [s.name, s] as const))('%s', (_name, strategy) => {
    let produced = 0;
    for (let t = FROM + 400 * DAY_MS; t < TO; t += 3 * DAY_MS + 3_600_000) {
      const full = strategy.analyze(data, t);
      const cut = strategy.analyze(cutAt(data, t), t);
      expect(full).toEqual(cut);
      const signals = strategy.generateSignals(full);
      expect(signals).toEqual(strategy.generateSignals(cut));
      produced += signals.length;
    }
    // The check above means something only if the strategy decides something in the period.
    expect(produced).toBeGreaterThan(0);
  });
});

describe('strategy configs', () => {
  it('ships four valid configs with parameter specs an optimiser can use', () => {
    expect(strategies.map((s) => s.name).sort()).toEqual(['mean_reversion', 'sma_crossover', 'vix_correlation', 'volatility_spike']);
    for (const s of strategies) {
      for (const spec of s.parameters()) {
        expect(spec.description.length).toBeGreaterThan(0);
        if (spec.type !== 'enum') expect(spec.min).toBeLessThanOrEqual(spec.max);
      }
    }
  });

  it('names the file and the field of a bad config', () => {
    expect(() => parseStrategyConfig({ name: 'sma_crossover', assets: ['bitcoin'], parameters: { fast: 0 }, risk: { positionSize: 0.02, maxPositionSize: 0.05, stopLossPct: 0.02, riskRewardRatio: 2 } }, 'x.json'))
      .toThrow(/^x\.json: parameters\.fast: /);
    expect(() => parseStrategyConfig({ name: 'nope' }, 'y.json')).toThrow(/^y\.json: name: must be one of/);
    expect(() => parametersSchema(STRATEGY_DEFINITIONS.vix_correlation.parameters).parse({ correlationOn: 'ranks' })).toThrow();
  });
});

describe('strategy decisions by hand', () => {
  const day = (i: number) => Date.UTC(2024, 0, 1) + i * DAY_MS;
  const risk = { positionSize: 0.02, maxPositionSize: 0.05, stopLossPct: 0.02, riskRewardRatio: 2 };

  it('sma_crossover: LONG on the bar where the fast SMA crosses above the slow one', () => {
    const closes = [10, 10, 10, 10, 9, 9, 13];
    const md: MarketData = { prices: { x: { time: closes.map((_, i) => day(i + 1)), open: closes, high: closes, low: closes, close: closes, volume: closes } }, macro: {} };
    const s = createStrategy(STRATEGY_DEFINITIONS.sma_crossover, { name: 'sma_crossover', enabled: true, assets: ['x'], parameters: { fast: 2, slow: 4, confidence: 0.7 }, risk });
    // Day 6: fast (9+9)/2 = 9 ≤ slow (10+10+9+9)/4 = 9.5; day 7: fast 11 > slow 10.25.
    expect(s.generateSignals(s.analyze(md, day(6)))).toEqual([]);
    const [signal] = s.generateSignals(s.analyze(md, day(7)));
    expect(signal).toMatchObject<Partial<TradingSignal>>({ signalType: 'LONG', price: 13, confidence: 0.7, strategyName: 'sma_crossover' });
    expect(signal.stopLoss).toBeCloseTo(13 * 0.98, 10);
    expect(signal.takeProfit).toBeCloseTo(13 * 1.04, 10);
    expect(signal.positionSize).toBeCloseTo(0.02 * 0.7, 10);
  });

  it('vix_correlation: SHORT when coin and VIX levels move together, confidence from |r| and VIX', () => {
    const n = 31;
    const vix = Array.from({ length: n }, (_, i) => 20 + i);
    const coin = Array.from({ length: n }, (_, i) => 100 + 2 * i + (i % 2));
    const dates = Array.from({ length: n }, (_, i) => new Date(day(i)).toISOString().slice(0, 10));
    const md: MarketData = {
      prices: { x: { time: coin.map((_, i) => day(i + 1)), open: coin, high: coin, low: coin, close: coin, volume: coin } },
      macro: { VIXCLS: macroSeriesFrom(dates.map((d, i) => ({ date: d, value: vix[i] }))) },
    };
    const s = createStrategy(STRATEGY_DEFINITIONS.vix_correlation, {
      name: 'vix_correlation', enabled: true, assets: ['x'], parameters: { primaryWindow: 30, correlationOn: 'levels', strongNegative: -0.6, strongPositive: 0.6, vixReference: 20 }, risk,
    });
    const [signal] = s.generateSignals(s.analyze(md, day(n)));
    const r = (signal.analysis as { currentCorrelation: number }).currentCorrelation;
    expect(r).toBeGreaterThan(0.99);
    expect(signal.signalType).toBe('SHORT');
    // VIX 50 is past 2× the reference: boost 1 → min(0.95, r × 1.25)
    expect(signal.confidence).toBe(0.95);
    expect(signal.stopLoss).toBeCloseTo(signal.price * 1.02, 10);
  });
});
