import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateAssetSignals, type AggregationSettings, detectRegime, performanceWeight, pooledRecord, TrackRecordWindow, trackRecord } from '../../src/domain/aggregation';
import { alertFileName, type SignalAlert, signalAlert, volatilityAlert } from '../../src/domain/alerts';
import type { MarketData, TradingSignal } from '../../src/domain/signals';
import { DAY_MS } from '../../src/domain/types';

const risk = { positionSize: 0.02, maxPositionSize: 0.1, stopLossPct: 0.02, riskRewardRatio: 2 };
const settings: AggregationSettings = {
  consensusThreshold: 0.6, minResolvedConfidence: 0.5, minTrackRecord: 5,
  regimeWeights: { mean_reversion: { ranging: 1.2, trending: 0.7 }, sma_crossover: { ranging: 0.7 } }, risk,
};
const T = Date.UTC(2025, 0, 10);
const sig = (strategyName: string, signalType: 'LONG' | 'SHORT', confidence: number, positionSize = 0.02): TradingSignal => ({
  asset: 'bitcoin', signalType, timestamp: T, price: 100, strategyName, confidence, positionSize, stopLoss: 0, takeProfit: 0, analysis: {},
});

describe('aggregateAssetSignals', () => {
  it('consensus: ≥60% of the confidence weight agrees', () => {
    // LONG weight 0.9 + 0.7 = 1.6 of 2.0 = 80%.
    const out = aggregateAssetSignals([sig('a', 'LONG', 0.9, 0.03), sig('b', 'LONG', 0.7, 0.01), sig('c', 'SHORT', 0.4)], { regime: 'ranging', records: () => ({}) }, settings)!;
    expect(out.method).toBe('consensus');
    expect(out.signalType).toBe('LONG');
    expect(out.strategies).toEqual(['a', 'b']);
    // (0.81 + 0.49) / 1.6 = 0.8125, × share 0.8 = 0.65
    expect(out.confidence).toBeCloseTo(0.65, 12);
    // confidence-weighted size: (0.03·0.9 + 0.01·0.7) / 1.6
    expect(out.positionSize).toBeCloseTo(0.034 / 1.6, 12);
    expect(out.stopLoss).toBeCloseTo(98, 10);
    expect(out.takeProfit).toBeCloseTo(104, 10);
  });

  it('conflict resolution: track record × regime × confidence picks the winner', () => {
    // LONG 0.7 vs SHORT 0.6: 54% — no consensus.
    const records = { mean_reversion: { hits: 8, total: 10, gain: 0.4, loss: 0.1 }, sma_crossover: { hits: 5, total: 10, gain: 0.2, loss: 0.2 } };
    const out = aggregateAssetSignals([sig('mean_reversion', 'SHORT', 0.6), sig('sma_crossover', 'LONG', 0.7)], { regime: 'ranging', records: () => records }, settings)!;
    expect(out.method).toBe('conflict_resolution');
    // mean_reversion: 1.6 × 1.2 × 0.6 = 1.152 (capped at 1); sma_crossover: 1.0 × 0.7 × 0.7 = 0.49
    expect(out.signalType).toBe('SHORT');
    expect(out.strategies).toEqual(['mean_reversion']);
    expect(out.confidence).toBe(1);
  });

  it('drops a resolved signal scoring below 0.5', () => {
    const records = { mean_reversion: { hits: 2, total: 10, gain: 0.1, loss: 0.4 }, sma_crossover: { hits: 3, total: 10, gain: 0.1, loss: 0.3 } };
    // 0.4 × 0.7 × 0.6 = 0.168 and 0.6 × 0.7 × 0.7 = 0.294 (trending weights 0.7 / missing = 1 → 0.42)
    const out = aggregateAssetSignals([sig('mean_reversion', 'SHORT', 0.6), sig('sma_crossover', 'LONG', 0.7)], { regime: 'trending', records: () => records }, settings);
    expect(out).toBeUndefined();
  });

  it('a lone signal is its own consensus', () => {
    const out = aggregateAssetSignals([sig('a', 'SHORT', 0.85)], { regime: 'ranging', records: () => ({}) }, settings)!;
    expect(out).toMatchObject({ method: 'consensus', signalType: 'SHORT', confidence: 0.85 });
  });

  it('weighs a short track record as neutral', () => {
    expect(performanceWeight({ hits: 4, total: 4 }, 5)).toBe(1);
    expect(performanceWeight({ hits: 3, total: 6 }, 5)).toBe(1);
    expect(performanceWeight({ hits: 6, total: 6 }, 5)).toBe(2);
  });
});

describe('track record and regime', () => {
  const days = Array.from({ length: 60 }, (_, i) => Date.UTC(2025, 0, 1) + (i + 1) * DAY_MS);
  const trend = days.map((_, i) => 100 * 1.01 ** i);
  const md: MarketData = { prices: { bitcoin: { time: days, open: trend, high: trend, low: trend, close: trend, volume: trend } }, macro: {} };

  it('scores past signals in the window by the price one horizon later, only once that is known', () => {
    const past = [
      { strategyName: 'a', signalType: 'LONG' as const, timestamp: days[10], price: trend[10], asset: 'bitcoin' },
      { strategyName: 'a', signalType: 'SHORT' as const, timestamp: days[12], price: trend[12], asset: 'bitcoin' },
      { strategyName: 'a', signalType: 'LONG' as const, timestamp: days[50], price: trend[50], asset: 'bitcoin' },
    ];
    const year = 365 * DAY_MS;
    // Five days of 1% a day: the LONG of day 10 won 1.01⁵ − 1, the SHORT of day 12 lost as much.
    const move = 1.01 ** 5 - 1;
    const at54 = trackRecord(past, md, days[54], 5 * DAY_MS, year).a;
    expect(at54).toMatchObject({ hits: 1, total: 2 });
    expect(at54.gain).toBeCloseTo(move, 12);
    expect(at54.loss).toBeCloseTo(move, 12);
    const at55 = trackRecord(past, md, days[55], 5 * DAY_MS, year).a;
    expect(at55).toMatchObject({ hits: 2, total: 3 });
    expect(at55.gain).toBeCloseTo(2 * move, 12);
    // A 40-day window no longer counts the signals of days 10 and 12.
    expect(trackRecord(past, md, days[55], 5 * DAY_MS, 40 * DAY_MS).a).toMatchObject({ hits: 1, total: 1, loss: 0 });
  });

  it('the rolling window gives what recounting gives, at every step, while the past is pruned (property)', () => {
    fc.assert(fc.property(fc.array(fc.record({
      day: fc.integer({ min: 0, max: 59 }), strategy: fc.constantFrom('a', 'b'), long: fc.boolean(),
    }), { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 5, max: 30 }), (raw, horizonDays, lookbackDays) => {
      const zigzag = days.map((_, i) => 100 + ((i * 37) % 11) - 5);
      const data: MarketData = { prices: { bitcoin: { time: days, open: zigzag, high: zigzag, low: zigzag, close: zigzag, volume: zigzag } }, macro: {} };
      const signals = raw.map((r) => ({ strategyName: r.strategy, signalType: r.long ? 'LONG' as const : 'SHORT' as const, timestamp: days[r.day], price: zigzag[r.day], asset: 'bitcoin' }))
        .sort((x, y) => x.timestamp - y.timestamp);
      const window = new TrackRecordWindow(horizonDays * DAY_MS, lookbackDays * DAY_MS);
      const past: typeof signals = [];
      let next = 0;
      for (const asOf of days) {
        while (next < signals.length && signals[next].timestamp <= asOf) past.push(signals[next++]);
        const rolling = structuredClone(window.advance(past, data, asOf));
        const recounted = trackRecord(past, data, asOf, horizonDays * DAY_MS, lookbackDays * DAY_MS);
        for (const name of ['a', 'b']) {
          const r = rolling[name] ?? { hits: 0, total: 0, gain: 0, loss: 0 };
          const e = recounted[name] ?? { hits: 0, total: 0, gain: 0, loss: 0 };
          expect([r.hits, r.total]).toEqual([e.hits, e.total]);
          // To the bit: a backtest resumed from a checkpoint rebuilds the window and must decide as the run it replaces.
          expect(r.gain).toBe(e.gain);
          expect(r.loss).toBe(e.loss);
        }
        // Prune what has left the window, as the engine does.
        const expired = past.findIndex((x) => x.timestamp >= asOf - lookbackDays * DAY_MS);
        const n = expired < 0 ? past.length : expired;
        if (n > 3) { past.splice(0, n); window.dropped(n); }
      }
    }), { numRuns: 300 });
  });

  it('pools the records of the strategies behind an aggregated signal', () => {
    const records = { a: { hits: 3, total: 5, gain: 0.3, loss: 0.1 }, b: { hits: 1, total: 4, gain: 0.05, loss: 0.2 }, c: { hits: 9, total: 9, gain: 1, loss: 0 } };
    expect(pooledRecord(records, ['a', 'b', 'missing'])).toEqual({ hits: 4, total: 9, gain: 0.35, loss: 0.30000000000000004 });
  });

  it('calls a steady 1%-a-day rise trending', () => {
    const noisy = trend.map((p, i) => p * (1 + 0.002 * Math.sin(i)));
    const m: MarketData = { prices: { bitcoin: { ...md.prices.bitcoin, close: noisy } }, macro: {} };
    expect(detectRegime(m, 'bitcoin', days[59])).toBe('trending');
  });
});

describe('alerts in the seed format', () => {
  it('builds the signal alert and the file name', () => {
    const alert = signalAlert({ ...sig('a', 'LONG', 0.9), stopLoss: 98, takeProfit: 104, strategies: ['a', 'b'], method: 'consensus' });
    expect(Object.keys(alert.body).sort()).toEqual(['asset', 'confidence', 'position_size', 'price', 'risk_metrics', 'signal_type', 'strategies', 'timestamp']);
    expect((alert.body as SignalAlert).risk_metrics).toEqual({ stop_loss: 98, take_profit: 104 });
    expect(alertFileName('signal', 'bitcoin', Date.UTC(2025, 0, 2, 3, 4, 5))).toBe('signal_bitcoin_20250102_030405.json');
  });

  it('builds the volatility alert', () => {
    const alert = volatilityAlert({ ...sig('volatility_spike', 'SHORT', 0.7), analysis: { volatility: 0.9, volatilityThreshold: 0.7, volatilityPercentile: 0.95 } });
    expect(alert.body).toEqual({
      timestamp: T, asset: 'bitcoin', current_price: 100, volatility_value: 0.9, volatility_threshold: 0.7, volatility_percentile: 0.95,
      position_direction: 'SHORT', signal_type: 'SHORT', alert_type: 'volatility_spike', threshold_exceeded: true,
    });
  });
});
