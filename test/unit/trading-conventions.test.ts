import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadRiskConfig } from '../../src/config/risk';
import { type BacktestConventions, runBacktest } from '../../src/domain/backtest/engine';
import { dailySeries } from '../../src/domain/market-data';
import { lastKnown, type MarketData, type SignalType } from '../../src/domain/signals';
import { STRATEGY_DEFINITIONS } from '../../src/domain/strategies';
import { createStrategy, type Strategy } from '../../src/domain/strategies/framework';
import { DAY_MS } from '../../src/domain/types';
import { MARKET } from '../support/market-files';

const zeroCost = { fixedSlippageBps: 0, volatilitySlippageFactor: 0, takerFeeBps: 0 };
const aggregation = {
  consensusThreshold: 0.6, minResolvedConfidence: 0.5, minTrackRecord: 5, trackRecordHorizonDays: 5, regimeWeights: {},
  risk: { positionSize: 0.02, maxPositionSize: 1, stopLossPct: 0.02, riskRewardRatio: 2 },
};

/** A strategy that says what it is told to at given times, with confidence 0.9: the conventions are under test. */
function scripted(asset: string, plan: Record<number, SignalType>): Strategy {
  return {
    name: 'scripted', config: { name: 'scripted', enabled: true, assets: [asset], parameters: {}, risk: aggregation.risk }, parameters: () => [],
    analyze: (d, asOf) => ({
      strategy: 'scripted', asOf,
      assets: [{
        asset, price: lastKnown(d.prices[asset].close, d.prices[asset].time, asOf, 1)[0], values: {},
        ...(plan[asOf] ? { signal: { signalType: plan[asOf], confidence: 0.9, sizeScale: 1 } } : {}),
      }],
    }),
    generateSignals: (a) => a.assets.filter((x) => x.signal).map((x) => ({
      asset, signalType: x.signal!.signalType, timestamp: a.asOf, price: x.price!, strategyName: 'scripted', confidence: 0.9,
      positionSize: 0.02, stopLoss: 0, takeProfit: 0, analysis: {},
    })),
  };
}

interface Bars { time: number[]; open: number[]; close: number[] }
interface RefTrade { direction: SignalType; entryPrice: number; exitPrice: number; quantity: number }

/**
 * The conventions written out by hand, independent of the engine: at a signal's close, size the new
 * side from the equity marked at that close; fill at that close or the next open; an opposite
 * signal closes everything held and opens the new side; whole units round down; what is open at
 * the end is closed at the last close.
 */
function reference(bars: Bars, signals: Record<number, SignalType>, c: { sizing: string; whole: boolean; fillAt: 'close' | 'next_open'; fraction?: number }) {
  let cash = 10_000;
  let held = 0;
  let entry = 0;
  const trades: RefTrade[] = [];
  const fills: Array<{ side: 'BUY' | 'SELL'; quantity: number; price: number }> = [];
  const pending: Array<{ at: number; direction: SignalType; notional: number }> = [];
  const fill = (direction: SignalType, notional: number, price: number) => {
    const sign = direction === 'LONG' ? 1 : -1;
    const opposite = held !== 0 && Math.sign(held) !== sign;
    let opening = notional / price;
    if (c.whole) opening = Math.floor(opening + 1e-9);
    const quantity = (opposite ? Math.abs(held) : 0) + opening;
    if (quantity === 0) return;
    fills.push({ side: sign > 0 ? 'BUY' : 'SELL', quantity, price });
    if (opposite) trades.push({ direction: held > 0 ? 'LONG' : 'SHORT', entryPrice: entry, exitPrice: price, quantity: Math.abs(held) });
    if (opposite || held === 0) entry = price;
    else entry = (Math.abs(held) * entry + opening * price) / (Math.abs(held) + opening);
    cash -= sign * quantity * price;
    held = opposite ? sign * opening : held + sign * opening;
  };
  for (let i = 0; i < bars.time.length; i++) {
    for (const p of pending.filter((x) => x.at === i)) fill(p.direction, p.notional, bars.open[i]);
    const direction = signals[bars.time[i]];
    if (!direction) continue;
    const equity = cash + held * bars.close[i];
    const flips = held !== 0 && Math.sign(held) !== (direction === 'LONG' ? 1 : -1);
    const notional = c.sizing === 'risk' ? Math.min(equity * 0.02 * 0.9, equity * 0.1)
      : c.sizing === 'fixed_fraction' ? equity * c.fraction!
        : equity - (flips ? 0 : Math.abs(held) * bars.close[i]);
    if (c.fillAt === 'close') fill(direction, notional, bars.close[i]);
    else if (i + 1 < bars.time.length) pending.push({ at: i + 1, direction, notional });
  }
  const last = bars.close[bars.close.length - 1];
  if (held !== 0) {
    fills.push({ side: held > 0 ? 'SELL' : 'BUY', quantity: Math.abs(held), price: last });
    trades.push({ direction: held > 0 ? 'LONG' : 'SHORT', entryPrice: entry, exitPrice: last, quantity: Math.abs(held) });
    cash += held * last;
    held = 0;
  }
  return { fills, trades, finalEquity: cash };
}

describe('flips through zero under every sizing × units × fill time', () => {
  const D = (n: number) => Date.UTC(2025, 2, 1) + n * DAY_MS;
  const bars: Bars = { time: [], open: [], close: [] };
  // Nine daily bars at prices that do not divide the notionals evenly, so whole units round.
  const closes = [97.3, 98.1, 101.7, 99.4, 95.2, 96.8, 102.3, 104.9, 103.6];
  closes.forEach((close, i) => { bars.time.push(D(i + 1)); bars.close.push(close); bars.open.push(i === 0 ? close : closes[i - 1] + 0.37); });
  const data: MarketData = {
    prices: { x: { ...bars, high: bars.close.map((c, i) => Math.max(c, bars.open[i]) + 1), low: bars.close.map((c, i) => Math.min(c, bars.open[i]) - 1), volume: bars.close.map(() => 1e6) } },
    macro: {},
  };
  // Long, flip to short, flip back to long, then the end closes it.
  const plan: Record<number, SignalType> = { [D(2)]: 'LONG', [D(4)]: 'SHORT', [D(6)]: 'LONG' };
  const sizings: Array<[string, BacktestConventions['sizing']]> = [['risk', { kind: 'risk' }], ['fixed_fraction', { kind: 'fixed_fraction', fraction: 0.5 }], ['all_in', { kind: 'all_in' }]];

  for (const [name, sizing] of sizings) {
    for (const units of ['whole', 'fractional'] as const) {
      for (const fillAt of ['close', 'next_open'] as const) {
        it(`${name}, ${units} units, at the ${fillAt === 'close' ? 'close' : 'next open'}`, () => {
          const r = runBacktest({
            data, assets: ['x'], strategies: [scripted('x', plan)], initialCapital: 10_000, historyDays: 800, from: D(1), to: D(9),
            risk: loadRiskConfig(), aggregation,
            conventions: { fillAt, fillModel: zeroCost, sizing, units, allowShort: true, protective: false, closeAtEnd: true },
          });
          const expected = reference(bars, plan, { sizing: name, whole: units === 'whole', fillAt, fraction: 0.5 });
          expect(expected.trades.map((t) => t.direction)).toEqual(['LONG', 'SHORT', 'LONG']);
          expect(r.fills.rows().map((f) => f.side)).toEqual(expected.fills.map((f) => f.side));
          r.fills.rows().forEach((f, k) => {
            expect(f.price).toBe(expected.fills[k].price);
            expect(f.quantity).toBeCloseTo(expected.fills[k].quantity, 9);
          });
          // Round trips at the exact fill prices: each entry and exit is a price a bar traded at.
          expect(r.trades.rows().map((t) => t.direction)).toEqual(['LONG', 'SHORT', 'LONG']);
          r.trades.rows().forEach((t, k) => {
            expect(t.entryPrice).toBeCloseTo(expected.trades[k].entryPrice, 9);
            expect(t.exitPrice).toBe(expected.trades[k].exitPrice);
            expect(t.quantity).toBeCloseTo(expected.trades[k].quantity, 9);
          });
          expect(r.equity.value.at(-1)).toBeCloseTo(expected.finalEquity, 6);
        });
      }
    }
  }
});

describe('a classic SMA(10, 30) crossover on a weekday-only daily history (GOOG 2004–2013)', () => {
  // The backtesting.py sample: a date and OHLCV per trading day, no weekends.
  const rows = readFileSync(`${MARKET}backtesting_py/GOOG.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    .map((r) => ({ timestamp: Date.parse(`${r[0]}T00:00:00Z`), open: +r[1], high: +r[2], low: +r[3], close: +r[4], volume: +r[5] }));
  const data: MarketData = { prices: { goog: dailySeries(rows, DAY_MS) }, macro: {} };
  const sma = createStrategy(STRATEGY_DEFINITIONS.sma_crossover, {
    name: 'sma_crossover', enabled: true, assets: ['goog'], parameters: { fast: 10, slow: 30, confidence: 0.65 }, risk: aggregation.risk,
  });
  const from = rows[0].timestamp + DAY_MS;
  const to = rows[rows.length - 1].timestamp + DAY_MS;

  it('trade by trade: all in, whole shares, long and short, at the next open, no costs', () => {
    const r = runBacktest({
      data, assets: ['goog'], strategies: [sma], initialCapital: 10_000, historyDays: 800, from, to, risk: loadRiskConfig(), aggregation,
      conventions: { fillAt: 'next_open', fillModel: zeroCost, sizing: { kind: 'all_in' }, units: 'whole', allowShort: true, protective: false, closeAtEnd: true },
    });

    // Independent: SMAs over the raw closes; on a cross the whole equity goes to the new side at the next open.
    const closes = rows.map((x) => x.close);
    const mean = (end: number, n: number) => closes.slice(end - n + 1, end + 1).reduce((a, b) => a + b, 0) / n;
    let cash = 10_000;
    let shares = 0;
    let entry = 0;
    let peak = 10_000;
    let maxDrawdown = 0;
    const trades: Array<{ direction: SignalType; entryPrice: number; exitPrice: number }> = [];
    let order: { direction: SignalType; notional: number } | undefined;
    rows.forEach((row, i) => {
      if (order) {
        const sign = order.direction === 'LONG' ? 1 : -1;
        const opening = Math.floor(order.notional / row.open + 1e-9);
        if (shares !== 0) trades.push({ direction: shares > 0 ? 'LONG' : 'SHORT', entryPrice: entry, exitPrice: row.open });
        cash -= sign * (Math.abs(shares) + opening) * row.open;
        shares = sign * opening;
        entry = row.open;
        order = undefined;
      }
      const equity = cash + shares * row.close;
      peak = Math.max(peak, equity);
      maxDrawdown = Math.max(maxDrawdown, 1 - equity / peak);
      if (i < 30 || i === rows.length - 1) return;
      const up = mean(i - 1, 10) <= mean(i - 1, 30) && mean(i, 10) > mean(i, 30);
      const down = mean(i - 1, 10) >= mean(i - 1, 30) && mean(i, 10) < mean(i, 30);
      if (up || down) order = { direction: up ? 'LONG' : 'SHORT', notional: equity };
    });
    const last = rows[rows.length - 1].close;
    trades.push({ direction: shares > 0 ? 'LONG' : 'SHORT', entryPrice: entry, exitPrice: last });
    const finalEquity = cash + shares * last;

    expect(trades.length).toBeGreaterThan(50);
    expect(r.trades.rows().map((t) => [t.direction, t.entryPrice, t.exitPrice])).toEqual(trades.map((t) => [t.direction, t.entryPrice, t.exitPrice]));
    // Long and short alternate: every cross after the first flips the position.
    expect(r.trades.rows().every((t, k) => k === 0 || t.direction !== r.trades.rows()[k - 1].direction)).toBe(true);
    expect(r.equity.value.at(-1)).toBeCloseTo(finalEquity, 6);
    expect(r.metrics.maxDrawdownPct).toBeCloseTo(maxDrawdown, 9);
    // Weekday-only daily bars: annualised with 252 periods a year, and the result says so.
    expect(r.periodsPerYear).toBe(252);
    expect(r.metrics.periodsPerYear).toBe(252);
    const years = (r.metrics.periods) / 252;
    expect(r.metrics.annualizedReturn).toBeCloseTo((finalEquity / 10_000) ** (1 / years) - 1, 9);
  });

  it('crypto daily bars (every day of the week) are annualised with 365, hourly with 8,760', async () => {
    const { periodsPerYearOf } = await import('../../src/domain/backtest/engine');
    const daily = Array.from({ length: 60 }, (_, k) => Date.UTC(2024, 0, 2) + k * DAY_MS);
    const hourly = Array.from({ length: 24 * 30 }, (_, k) => Date.UTC(2024, 0, 1) + (k + 1) * 3_600_000);
    const weekdays = daily.filter((t) => ![0, 6].includes(new Date(t - 1).getUTCDay()));
    expect([periodsPerYearOf(daily), periodsPerYearOf(hourly), periodsPerYearOf(weekdays)]).toEqual([365, 8760, 252]);
  });
});
