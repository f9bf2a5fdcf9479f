import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advance, checkpointOf, eventQueue, finish, initialState, restoreState, runBacktest, type BacktestConventions, type BacktestInput, type EngineState } from '../../src/domain/backtest/engine';
import { lastKnown, type MarketData, type PriceSeries, type SignalType } from '../../src/domain/signals';
import { dailySeries } from '../../src/domain/market-data';
import { STRATEGY_DEFINITIONS } from '../../src/domain/strategies';
import { createStrategy, type Strategy } from '../../src/domain/strategies/framework';
import { DAY_MS } from '../../src/domain/types';
import { loadRiskConfig } from '../../src/config/risk';
import { yfinanceDaily } from '../support/market-files';

const D = (n: number) => Date.UTC(2025, 0, 1) + n * DAY_MS;
//            D1     D2     D3     D4     D5
const open = [100, 102, 104, 107, 101];
const high = [100, 106, 110, 107, 103];
const low = [100, 101, 103, 99, 100];
const close = [100, 105, 108, 100, 102];
const data: MarketData = { prices: { x: { time: [D(1), D(2), D(3), D(4), D(5)], open, high, low, close, volume: [1, 1, 1, 1, 1] } }, macro: {} };

/** A strategy that says what it is told to at given times: the engine, not a strategy, is under test. */
function scripted(plan: Record<number, SignalType>): Strategy {
  const risk = { positionSize: 0.02, maxPositionSize: 1, stopLossPct: 0.02, riskRewardRatio: 2 };
  return {
    name: 'scripted', config: { name: 'scripted', enabled: true, assets: ['x'], parameters: {}, risk }, parameters: () => [],
    analyze: (d, asOf) => ({
      strategy: 'scripted', asOf,
      assets: [{ asset: 'x', price: lastKnown(d.prices.x.close, d.prices.x.time, asOf, 1)[0], values: {}, ...(plan[asOf] ? { signal: { signalType: plan[asOf], confidence: 0.9, sizeScale: 1 } } : {}) }],
    }),
    generateSignals: (a) => a.assets.filter((x) => x.signal).map((x) => ({
      asset: 'x', signalType: x.signal!.signalType, timestamp: a.asOf, price: x.price!, strategyName: 'scripted', confidence: 0.9, positionSize: 0.02, stopLoss: 0, takeProfit: 0, analysis: {},
    })),
  };
}

const zeroCost = { fixedSlippageBps: 0, volatilitySlippageFactor: 0, takerFeeBps: 0 };
const base: BacktestConventions = { fillAt: 'next_open', fillModel: zeroCost, sizing: { kind: 'fixed_fraction', fraction: 0.5 }, units: 'fractional', allowShort: false, protective: false, closeAtEnd: true };
const run = (conventions: Partial<BacktestConventions>, plan: Record<number, SignalType> = { [D(1)]: 'LONG', [D(3)]: 'SHORT' }) => runBacktest({
  data, assets: ['x'], strategies: [scripted(plan)], initialCapital: 10_000, historyDays: 800, from: D(1), to: D(5), risk: loadRiskConfig(),
  aggregation: { consensusThreshold: 0.6, minResolvedConfidence: 0.5, minTrackRecord: 5, trackRecordHorizonDays: 5, regimeWeights: {}, risk: { positionSize: 0.02, maxPositionSize: 1, stopLossPct: 0.02, riskRewardRatio: 2 } },
  conventions: { ...base, ...conventions },
} satisfies BacktestInput);

const values = (r: ReturnType<typeof run>) => Array.from(r.equity.value, (v) => Math.round(v * 1e6) / 1e6);

describe('backtest engine, hand-worked', () => {
  it('next open: buys at D2\'s open, closes the long at D4\'s open', () => {
    const r = run({});
    const q = 5000 / 102;
    expect(r.fills.rows().map((f) => [f.time, f.side, f.price])).toEqual([[D(2), 'BUY', 102], [D(4), 'SELL', 107]]);
    expect(r.fills.rows()[0].quantity).toBeCloseTo(q, 12);
    expect(r.fills.rows()[1].quantity).toBeCloseTo(q, 12);
    expect(values(r)).toEqual([10_000, 5000 + q * 105, 5000 + q * 108, 5000 + q * 107, 5000 + q * 107].map((v) => Math.round(v * 1e6) / 1e6));
    expect(r.trades.rows()).toHaveLength(1);
    expect(r.trades.rows()[0]).toMatchObject({ direction: 'LONG', entryTime: D(2), exitTime: D(4), exitPrice: 107, fees: 0 });
    expect(r.trades.rows()[0].entryPrice).toBeCloseTo(102, 12);
    expect(r.trades.rows()[0].pnl).toBeCloseTo(q * 5, 9);
    expect(r.trades.rows()[0].returnPct).toBeCloseTo(5 / 102, 12);
    expect(r.metrics.tradeCount).toBe(1);
    expect(r.metrics.totalReturn).toBeCloseTo(q * 5 / 10_000, 12);
    expect(r.exposureTime).toBeCloseTo(2 / 5, 12);
    expect(r.buyAndHoldReturn).toBeCloseTo(0.02, 12);
  });

  it('at the close: buys 50 at 100, sells 50 at 108', () => {
    const r = run({ fillAt: 'close' });
    expect(r.fills.rows().map((f) => [f.time, f.side, f.quantity, f.price])).toEqual([[D(1), 'BUY', 50, 100], [D(3), 'SELL', 50, 108]]);
    expect(values(r)).toEqual([10_000, 10_250, 10_400, 10_400, 10_400]);
    expect(r.trades.rows()[0].pnl).toBe(400);
  });

  it('fees on: 10 bps each way come off the trade and the equity', () => {
    const r = run({ fillAt: 'close', fillModel: { ...zeroCost, takerFeeBps: 10 } });
    // Buy fee 50 × 100 × 0.1% = 5; sell fee 50 × 108 × 0.1% = 5.4.
    expect(r.fills.rows().map((f) => f.fee)).toEqual([5, 5.4]);
    expect(r.trades.rows()[0]).toMatchObject({ grossPnl: 400, fees: 10.4 });
    expect(r.trades.rows()[0].pnl).toBeCloseTo(389.6, 9);
    expect(r.equity.value.at(-1)).toBeCloseTo(10_389.6, 9);
  });

  it('whole units: 49 units, not 49.02', () => {
    const r = run({ units: 'whole' });
    expect(r.fills.rows().map((f) => f.quantity)).toEqual([49, 49]);
    expect(r.trades.rows()[0].pnl).toBe(245);
  });

  it('finalize on or off: an open long is sold at the last close, or left open', () => {
    const on = run({ fillAt: 'close' }, { [D(3)]: 'LONG' });
    // 10,000 × 0.5 / 108 units bought at 108, sold at the last close 102.
    const q = 5000 / 108;
    expect(on.fills.rows().at(-1)).toMatchObject({ reason: 'end', price: 102 });
    expect(on.trades.rows()[0].pnl).toBeCloseTo(q * -6, 9);
    const off = run({ fillAt: 'close', closeAtEnd: false }, { [D(3)]: 'LONG' });
    expect(off.fills.rows()).toHaveLength(1);
    expect(off.trades.rows()[0].exitTime).toBeNull();
    expect(off.metrics.tradeCount).toBe(0);
    // Equity is the same either way with zero costs: the position is marked at the same close.
    expect(off.equity.value.at(-1)).toBeCloseTo(on.equity.value.at(-1)!, 9);
  });

  it('shorting allowed: an opposite signal flips the long into a short, a repeated one adds to it', () => {
    const r = run({ fillAt: 'close', allowShort: true }, { [D(1)]: 'LONG', [D(3)]: 'SHORT', [D(4)]: 'SHORT' });
    // D1 buy 50 @ 100 (cash 5,000). D3: equity 5,000 + 50 × 108 = 10,400: sell the 50 held plus
    // 5,200 / 108 = 48.148 short @ 108 (cash 15,600). D4: equity 15,600 − 48.148 × 100 = 10,785.19:
    // sell 5,392.59 / 100 = 53.926 more @ 100. D5: the short is bought back at the last close 102.
    const short1 = 5200 / 108;
    const cashD3 = 5000 + (50 + short1) * 108;
    const short2 = (cashD3 - short1 * 100) * 0.5 / 100;
    expect(r.fills.rows().map((f) => [f.side, f.time])).toEqual([['BUY', D(1)], ['SELL', D(3)], ['SELL', D(4)], ['BUY', D(5)]]);
    expect(r.fills.rows()[1].quantity).toBeCloseTo(50 + short1, 9);
    expect(r.fills.rows()[2].quantity).toBeCloseTo(short2, 9);
    expect(r.trades.rows().map((t) => [t.direction, t.entryTime, t.exitTime])).toEqual([['LONG', D(1), D(3)], ['SHORT', D(3), D(5)]]);
    expect(r.trades.rows()[0]).toMatchObject({ entryPrice: 100, exitPrice: 108 });
    expect(r.trades.rows()[0].grossPnl).toBeCloseTo(400, 9);
    expect(r.trades.rows()[1].quantity).toBeCloseTo(short1 + short2, 9);
    expect(r.trades.rows()[1].entryPrice).toBeCloseTo((short1 * 108 + short2 * 100) / (short1 + short2), 9);
    expect(r.trades.rows()[1].grossPnl).toBeCloseTo(short1 * (108 - 102) + short2 * (100 - 102), 9);
    expect(r.equity.value.at(-1)).toBeCloseTo(10_000 + 400 + short1 * 6 - short2 * 2, 9);
  });

  it('protective orders from the risk levels: a target inside a bar, and the stop first when both are', () => {
    // Long at D2's close 105: stop 102.9, target 105 + 2 × 2.1 = 109.2; D3's high 110 reaches it.
    const tp = run({ fillAt: 'close', protective: true }, { [D(2)]: 'LONG' });
    expect(tp.fills.rows().map((f) => [f.time, f.reason])).toEqual([[D(2), 'signal'], [D(3), 'take_profit']]);
    expect(tp.fills.rows()[1].price).toBeCloseTo(109.2, 9);
    // Long at D3's close 108: stop 105.84, target 112.32; D4 (open 107, low 99) breaks the stop.
    const sl = run({ fillAt: 'close', protective: true }, { [D(3)]: 'LONG' });
    expect(sl.fills.rows().map((f) => [f.time, f.reason])).toEqual([[D(3), 'signal'], [D(4), 'stop_loss']]);
    expect(sl.fills.rows()[1].price).toBeCloseTo(105.84, 9);
  });
});

describe('backtest engine, two coins at the next open', () => {
  // y trades at twice x's prices, on the same days.
  const twice = (xs: number[]) => xs.map((v) => v * 2);
  const pair: MarketData = { prices: { x: data.prices.x, y: { ...data.prices.x, open: twice(open), high: twice(high), low: twice(low), close: twice(close) } }, macro: {} };
  /** Says what it is told to for each coin at given times. */
  const told = (plan: Record<number, Record<string, SignalType>>): Strategy => ({
    ...scripted({}),
    analyze: (d, asOf) => ({
      strategy: 'scripted', asOf,
      assets: ['x', 'y'].map((asset) => ({
        asset, price: lastKnown(d.prices[asset].close, d.prices[asset].time, asOf, 1)[0], values: {},
        ...(plan[asOf]?.[asset] ? { signal: { signalType: plan[asOf][asset], confidence: 0.9, sizeScale: 1 } } : {}),
      })),
    }),
    generateSignals: (a) => a.assets.filter((x) => x.signal).map((x) => ({
      asset: x.asset, signalType: x.signal!.signalType, timestamp: a.asOf, price: x.price!, strategyName: 'scripted', confidence: 0.9,
      positionSize: 0.02, stopLoss: 0, takeProfit: 0, analysis: {},
    })),
  });

  it('fills each coin\'s orders at its own open, the other coin\'s still waiting', () => {
    const r = runBacktest({
      data: pair, assets: ['y', 'x'], strategies: [told({ [D(1)]: { x: 'LONG', y: 'LONG' }, [D(3)]: { y: 'SHORT' } })], initialCapital: 10_000,
      historyDays: 800, from: D(1), to: D(5), risk: loadRiskConfig(),
      aggregation: { consensusThreshold: 0.6, minResolvedConfidence: 0.5, minTrackRecord: 5, trackRecordHorizonDays: 5, regimeWeights: {}, risk: { positionSize: 0.02, maxPositionSize: 1, stopLossPct: 0.02, riskRewardRatio: 2 } },
      conventions: { ...base, sizing: { kind: 'fixed_fraction', fraction: 0.25 } },
    });
    // Both longs decided at D1's close fill at D2's open (x 102, y 204); y's exit decided at D3 fills
    // at D4's open (214); x is sold at the last close (102) when the run ends.
    expect(r.fills.rows().map((f) => [f.time, f.asset, f.side, f.price, f.reason])).toEqual([
      [D(2), 'x', 'BUY', 102, 'signal'], [D(2), 'y', 'BUY', 204, 'signal'], [D(4), 'y', 'SELL', 214, 'signal'], [D(5), 'x', 'SELL', 102, 'end'],
    ]);
  });
});

function inputFor(md: MarketData, strategy: Strategy, from: number, to: number): BacktestInput {
  return {
    data: md, assets: ['bitcoin'], strategies: [strategy], initialCapital: 10_000, historyDays: 800, from, to, risk: loadRiskConfig(),
    aggregation: { consensusThreshold: 0.6, minResolvedConfidence: 0.5, minTrackRecord: 5, trackRecordHorizonDays: 5, regimeWeights: {}, risk: { positionSize: 0.02, maxPositionSize: 1, stopLossPct: 0.02, riskRewardRatio: 2 } },
    conventions: { fillAt: 'close', fillModel: zeroCost, sizing: { kind: 'all_in' }, units: 'fractional', allowShort: false, protective: false, closeAtEnd: true },
  };
}

describe('backtest engine on real daily BTC: a classic SMA crossover', () => {
  const rows = yfinanceDaily('BTC-USD');
  const md: MarketData = { prices: { bitcoin: dailySeries(rows, DAY_MS) }, macro: {} };
  const sma = createStrategy(STRATEGY_DEFINITIONS.sma_crossover, {
    name: 'sma_crossover', enabled: true, assets: ['bitcoin'], parameters: { fast: 10, slow: 30, confidence: 0.65 },
    risk: { positionSize: 0.02, maxPositionSize: 1, stopLossPct: 0.02, riskRewardRatio: 2 },
  });
  const from = Date.UTC(2018, 0, 1);
  const to = Date.UTC(2025, 0, 1);

  it('matches an independent long-only all-in crossover computed from the raw file', () => {
    const r = runBacktest(inputFor(md, sma, from, to));
    // A point at every close in the window.
    const closeTimes = rows.map((x) => x.timestamp + DAY_MS).filter((t) => t >= from && t <= to);
    expect(Array.from(r.equity.time)).toEqual(closeTimes);

    // Independent: SMAs over the raw closes; buy all-in on a cross up, sell on a cross down, at the close.
    const closes = rows.map((x) => x.close);
    const mean = (end: number, n: number) => closes.slice(end - n + 1, end + 1).reduce((a, b) => a + b, 0) / n;
    let cash = 10_000; let units = 0; const entries: number[] = []; const exits: number[] = [];
    let lastClose = 0; let lastTime = 0;
    rows.forEach((row, i) => {
      const closeTime = row.timestamp + DAY_MS;
      if (closeTime < from || closeTime > to || i < 30) return;
      lastClose = row.close;
      lastTime = closeTime;
      const up = mean(i - 1, 10) <= mean(i - 1, 30) && mean(i, 10) > mean(i, 30);
      const down = mean(i - 1, 10) >= mean(i - 1, 30) && mean(i, 10) < mean(i, 30);
      if (up && units === 0) { units = cash / row.close; cash = 0; entries.push(closeTime); }
      else if (down && units > 0) { cash = units * row.close; units = 0; exits.push(closeTime); }
    });
    if (units > 0) { cash = units * lastClose; exits.push(lastTime); }

    expect(r.trades.rows().map((t) => t.entryTime)).toEqual(entries);
    expect(r.trades.rows().map((t) => t.exitTime)).toEqual(exits);
    expect(r.trades.length).toBeGreaterThan(20);
    expect(r.equity.value.at(-1)).toBeCloseTo(cash, 6);
    // Equity from the trade list: all-in, so it compounds trade by trade.
    const compounded = r.trades.rows().reduce((e, t) => e * (t.exitPrice! / t.entryPrice), 10_000);
    expect(r.equity.value.at(-1)).toBeCloseTo(compounded, 6);
    expect(r.metrics.tradeCount).toBe(r.trades.length);

    // Checkpointed in chunks of 100 bars, each state through JSON (as heartbeat details travel): the
    // same result. The columns as Float64Arrays, as the backtest activity reads them: the curve's
    // times are then a view of the coin's own, through every restored state, which stay as they were.
    const { time, open: o, high: h, low: l, close: c, volume: v } = md.prices.bitcoin;
    const columns: PriceSeries = { time: Float64Array.from(time), open: Float64Array.from(o), high: Float64Array.from(h), low: Float64Array.from(l), close: Float64Array.from(c), volume: Float64Array.from(v) };
    const md64: MarketData = { prices: { bitcoin: columns }, macro: {} };
    const timesBefore = Array.from(md64.prices.bitcoin.time);
    const input = { ...inputFor(md64, sma, from, to) };
    const bars = eventQueue(input);
    let state: EngineState = initialState(input);
    while (state.cursor < bars.length) state = restoreState(JSON.parse(JSON.stringify(checkpointOf(advance(input, bars, state, 100)))));
    const chunked = finish(input, state);
    expect(chunked.trades.rows()).toEqual(r.trades.rows());
    expect(Array.from(chunked.equity.value)).toEqual(Array.from(r.equity.value));
    expect(Array.from(chunked.equity.time)).toEqual(closeTimes);
    expect(Array.from(md64.prices.bitcoin.time)).toEqual(timesBefore);
  });

  it('a checkpoint is a copy: the replay moving on after it was taken does not change it', () => {
    const input = inputFor(md, sma, from, to);
    const bars = eventQueue(input);
    const state = advance(input, bars, initialState(input), Math.floor(bars.length / 2));
    const checkpoint = checkpointOf(state);
    const taken = JSON.stringify(checkpoint);
    advance(input, bars, state);
    finish(input, state);
    expect(state.trading.book.cash).not.toBe(checkpoint.trading.book.cash);
    expect(JSON.stringify(checkpoint)).toBe(taken);
  });
});

describe('the event queue', () => {
  it('takes every bar in the window once, by close time, ties in asset-name order, and counts the distinct closes, of one asset or more', () => {
    const assetNames = ['zeta', 'alpha', 'mid'];
    // Each asset's close times: ascending, on grids that agree in places and not in others, a time at times repeated.
    const series = fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 25 }).map((t) => t.sort((a, b) => a - b));
    // Or the same times for every asset inside the window (coins from one source), each with bars of its own before and after it.
    const outside = fc.tuple(fc.array(fc.integer({ min: -9, max: -3 }), { maxLength: 3 }), fc.array(fc.integer({ min: 51, max: 60 }), { maxLength: 3 }));
    const shared = fc.tuple(series, outside, outside, outside).map(([core, ...extra]) => extra.map(([before, after]) => [
      ...before.sort((a, b) => a - b), ...core, ...after.sort((a, b) => a - b),
    ]) as [number[], number[], number[]]);
    const assetCount = fc.integer({ min: 1, max: assetNames.length });
    fc.assert(fc.property(fc.oneof(fc.tuple(series, series, series), shared), fc.integer({ min: -2, max: 15 }), fc.integer({ min: 0, max: 20 }), assetCount, (times, from, span, used) => {
      const to = from + span;
      const assets = assetNames.slice(0, used);
      const prices = Object.fromEntries(assets.map((a, k) => {
        const time = times[k];
        return [a, { time, open: time, high: time, low: time, close: time, volume: time }];
      }));
      const input = { data: { prices, macro: {} }, assets, from, to } as unknown as BacktestInput;
      const queue = eventQueue(input);
      // Independently: every (time, asset, row) in [from, to], sorted by time, then name, then row.
      const expected = assets.flatMap((a, k) => times[k].map((t, row) => ({ t, a, k, row })).filter((b) => b.t >= from && b.t <= to))
        .sort((x, y) => x.t - y.t || x.a.localeCompare(y.a) || x.row - y.row);
      // An aligned queue keeps one close's order, which every close repeats.
      const entries = queue.aligned
        ? Array.from({ length: queue.length }, (_, k) => queue.asset[k % queue.asset.length])
        : Array.from(queue.asset.subarray(0, queue.length));
      expect(entries).toEqual(expected.map((b) => b.k));
      expect(queue.steps).toBe(new Set(expected.map((b) => b.t)).size);
      expect(Array.from(queue.start)).toEqual(assets.map((_, k) => times[k].filter((t) => t < from).length));
    }), { numRuns: 3000 });
  });
});
