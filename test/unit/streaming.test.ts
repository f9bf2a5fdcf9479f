import { describe, expect, it } from 'vitest';
import { detectRegime, RegimeTracker } from '../../src/domain/aggregation';
import { advance, type BacktestInput, eventQueue, finish, initialState, latestEquity, runBacktest } from '../../src/domain/backtest/engine';
import { dailySeries } from '../../src/domain/market-data';
import { equity } from '../../src/domain/portfolio';
import { logReturns, percentileRank, rollingVolatility, wilderRsi } from '../../src/domain/indicators';
import { RollingSum } from '../../src/domain/rolling';
import type { MarketData } from '../../src/domain/signals';
import { STRATEGY_DEFINITIONS } from '../../src/domain/strategies';
import { createStrategy } from '../../src/domain/strategies/framework';
import { DAY_MS } from '../../src/domain/types';
import { loadExecutionConfig } from '../../src/config/execution';
import { loadRiskConfig } from '../../src/config/risk';
import { loadSignalsConfig } from '../../src/config/signals';
import { binanceHourlyCloses, yfinanceDaily } from '../support/market-files';

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

  it('the regime tracked close by close equals detectRegime on the last 400 closes, every day of BTC 2014–2024', () => {
    const s = md.prices.bitcoin;
    const tracker = new RegimeTracker();
    const seen = { trending: 0, ranging: 0, high_volatility: 0 };
    for (let i = 0; i < s.time.length; i++) {
      tracker.push(s.close[i]);
      const regime = tracker.regime();
      expect(regime, new Date(s.time[i]).toISOString()).toBe(detectRegime(md, 'bitcoin', s.time[i]));
      seen[regime] += 1;
    }
    // The comparison covers every regime, not one that never changes.
    expect(Math.min(seen.trending, seen.ranging, seen.high_volatility)).toBeGreaterThan(100);
  });

  it('the sma_crossover stream fed years of closes gives the live analysis at every bar', () => {
    const s = md.prices.bitcoin;
    const params = { fast: 10, slow: 30, confidence: 0.65 };
    const stream = STRATEGY_DEFINITIONS.sma_crossover.stream!(params);
    let signals = 0;
    for (let i = 0; i < s.time.length; i++) {
      const signalled = stream.push(s.close[i]);
      const live = STRATEGY_DEFINITIONS.sma_crossover.analyzeAsset(md, 'bitcoin', s.time[i], params);
      expect(stream.analysis('bitcoin')).toEqual(live);
      expect(signalled).toBe(live.signal !== undefined);
      if (signalled) signals += 1;
    }
    expect(signals).toBeGreaterThan(50);
  });
});

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
      const stream = STRATEGY_DEFINITIONS.volatility_spike.stream!(params);
      const closes: number[] = [];
      for (let i = 0; i < s.time.length; i++) {
        closes.push(s.close[i]);
        const signalled = stream.push(s.close[i]);
        const expected = windowedVolatilitySpike(closes, params);
        expect(stream.analysis(asset), `${asset} ${new Date(s.time[i]).toISOString()}`).toEqual({ asset, ...expected });
        expect(signalled).toBe('signal' in expected);
        if (signalled) spikes += 1;
      }
    }
    expect(spikes).toBeGreaterThan(100);
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
    expect(streamed.fills).toEqual(analysed.fills);
    expect(streamed.trades).toEqual(analysed.trades);
    expect(Array.from(streamed.equity.value)).toEqual(Array.from(analysed.equity.value));
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
    const fees = result.fills.reduce((sum, f) => sum + f.fee, 0);
    const cashFlow = result.fills.reduce((sum, f) => sum + (f.side === 'BUY' ? -1 : 1) * f.quantity * f.price - f.fee, 0);
    expect(st.trading.book.feesPaid).toBeCloseTo(fees, 6);
    expect(st.trading.book.cash).toBeCloseTo(100_000 + cashFlow, 6);
    expect(result.equity.value.at(-1)).toBeCloseTo(st.trading.book.cash, 6);
    expect(result.periodsPerYear).toBe(365);
  });
});
