import { randomUUID } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  clearBacktest, CURVE_SEGMENT_POINTS, dropAfterCheckpoint, dropPastSignals, insertTrades, loadResult, saveResult, storeCurvePoints, storedCurve,
  storedPastSignals, storePastSignals,
} from '../../src/db/backtests';
import type { PastSignal } from '../../src/domain/aggregation';
import type { BacktestTrade } from '../../src/domain/backtest/engine';
import { TradeLog } from '../../src/domain/backtest/logs';
import { backtestCurve, backtestResults, backtestTrades } from '../../src/db/schema';
import { testDatabase } from '../support/db';

const handle = testDatabase();
afterAll(() => handle.close());

/** The stored curve as points. */
const stored = async (backtestId: string) => {
  const { time, equity } = await storedCurve(handle.db, backtestId);
  return Array.from(time, (t, i) => ({ time: t, equity: equity[i] }));
};
const points = (...pairs: number[][]) => pairs.map(([time, equity]) => ({ time, equity }));

describe('a backtest curve stored from the engine\'s columns', () => {
  it('reads back every point to the bit, whatever the double', async () => {
    const doubles = fc.oneof(
      fc.double(),
      fc.constantFrom(0.1 + 0.2, 1e-300, 5e-324, -0, 123_456.789_012_345_68, 99_999.999_999_999_99, Number.NaN, Infinity, -Infinity),
    );
    await fc.assert(fc.asyncProperty(fc.array(doubles, { minLength: 1, maxLength: 200 }), async (values) => {
      const id = randomUUID();
      const time = Float64Array.from(values, (_, i) => Date.UTC(2026, 0, 1) + i * 3_600_000);
      await storeCurvePoints(handle.db, id, 0, { time, equity: Float64Array.from(values) });
      const rows = await stored(id);
      expect(rows.map((r) => r.time)).toEqual(Array.from(time));
      // Bit for bit: NaN, the infinities and −0 included (toEqual tells −0 from 0).
      expect(rows.map((r) => r.equity)).toEqual(values);
    }), { numRuns: 40 });
  });

  it('replaces the points from a segment\'s first point on (the last point revalued at the end)', async () => {
    const id = randomUUID();
    const hour = 3_600_000;
    await storeCurvePoints(handle.db, id, 0, { time: Float64Array.of(0, hour, 2 * hour), equity: Float64Array.of(100, 101, 102) });
    await storeCurvePoints(handle.db, id, 3, { time: Float64Array.of(3 * hour), equity: Float64Array.of(103) });
    await storeCurvePoints(handle.db, id, 3, { time: Float64Array.of(3 * hour, 4 * hour), equity: Float64Array.of(98, 97) });
    await storeCurvePoints(handle.db, id, 4, { time: Float64Array.of(4 * hour), equity: Float64Array.of(96.5) });
    expect(await stored(id)).toEqual(points([0, 100], [hour, 101], [2 * hour, 102], [3 * hour, 98], [4 * hour, 96.5]));
    expect((await storedCurve(handle.db, id, 2)).equity).toEqual(Float64Array.of(100, 101));
    // Three segments: the one at point 3 stored twice is one row.
    expect(await handle.db.select({ firstPoint: backtestCurve.firstPoint }).from(backtestCurve).where(eq(backtestCurve.backtestId, id))
      .orderBy(asc(backtestCurve.firstPoint))).toEqual([{ firstPoint: 0 }, { firstPoint: 3 }, { firstPoint: 4 }]);
  });

  it('stores a long curve in rows of at most CURVE_SEGMENT_POINTS, and stores it again from any point', async () => {
    const id = randomUUID();
    const S = CURVE_SEGMENT_POINTS;
    const firstPoints = async () => (await handle.db.select({ firstPoint: backtestCurve.firstPoint }).from(backtestCurve)
      .where(eq(backtestCurve.backtestId, id)).orderBy(asc(backtestCurve.firstPoint))).map((r) => r.firstPoint);
    // Where two columns first differ (-1: nowhere; the length when one is longer): deep equality on 130,000 points takes seconds.
    const mismatch = (a: Float64Array, b: Float64Array) => {
      const i = a.findIndex((v, k) => !Object.is(v, b[k]));
      return i === -1 && a.length !== b.length ? Math.min(a.length, b.length) : i;
    };
    const expectCurve = async (want: { time: Float64Array; equity: Float64Array }) => {
      const got = await storedCurve(handle.db, id);
      expect([mismatch(got.time, want.time), mismatch(got.equity, want.equity)]).toEqual([-1, -1]);
    };
    const n = 2 * S + 1_000;
    const time = Float64Array.from({ length: n }, (_, i) => i * 60_000);
    const equity = Float64Array.from({ length: n }, (_, i) => 100_000 + Math.sin(i));
    await storeCurvePoints(handle.db, id, 0, { time, equity });
    expect(await firstPoints()).toEqual([0, S, 2 * S]);
    await expectCurve({ time, equity });
    // The same rows written again (a retried attempt from the start): each row replaced, none lost.
    const revalued = equity.map((v) => v - 1);
    await storeCurvePoints(handle.db, id, 0, { time, equity: revalued });
    expect(await firstPoints()).toEqual([0, S, 2 * S]);
    await expectCurve({ time, equity: revalued });
    // From inside the first row (a checkpoint there), shorter: what came before it kept, the rows after it gone.
    const from = 1_000;
    const replayed = Float64Array.from({ length: S + 10 }, (_, i) => -i);
    await storeCurvePoints(handle.db, id, from, { time: time.subarray(from, from + replayed.length), equity: replayed });
    expect(await firstPoints()).toEqual([0, from, from + S]);
    const expected = new Float64Array(from + replayed.length);
    expected.set(revalued.subarray(0, from));
    expected.set(replayed, from);
    await expectCurve({ time: time.subarray(0, expected.length), equity: expected });
  });

  it('reads the first points across segments, and refuses a curve with a hole', async () => {
    const id = randomUUID();
    await storeCurvePoints(handle.db, id, 0, { time: Float64Array.of(0, 1, 2), equity: Float64Array.of(10, 11, 12) });
    await storeCurvePoints(handle.db, id, 3, { time: Float64Array.of(3, 4, 5), equity: Float64Array.of(13, 14, 15) });
    expect(await storedCurve(handle.db, id, 4)).toEqual({ time: Float64Array.of(0, 1, 2, 3), equity: Float64Array.of(10, 11, 12, 13) });
    expect((await storedCurve(handle.db, id, 3)).equity).toEqual(Float64Array.of(10, 11, 12));
    const holed = randomUUID();
    await storeCurvePoints(handle.db, holed, 0, { time: Float64Array.of(0, 1), equity: Float64Array.of(10, 11) });
    await storeCurvePoints(handle.db, holed, 5, { time: Float64Array.of(5), equity: Float64Array.of(15) });
    await expect(storedCurve(handle.db, holed)).rejects.toThrow(`the curve of backtest ${holed} has no points 2–4`);
  });

  it('keeps what came before a checkpoint, a segment that reaches past it cut at it', async () => {
    const id = randomUUID();
    await storeCurvePoints(handle.db, id, 0, { time: Float64Array.of(0, 1, 2, 3), equity: Float64Array.of(10, 11, 12, 13) });
    await storeCurvePoints(handle.db, id, 4, { time: Float64Array.of(4, 5, 6), equity: Float64Array.of(14, 15, 16) });
    await storeCurvePoints(handle.db, id, 6, { time: Float64Array.of(6), equity: Float64Array.of(15.5) });
    await dropAfterCheckpoint(handle.db, id, { points: 5, tradeSeq: 0, pastTotal: 0 });
    expect(await stored(id)).toEqual(points([0, 10], [1, 11], [2, 12], [3, 13], [4, 14]));
    // The replay goes on from the checkpoint.
    await storeCurvePoints(handle.db, id, 5, { time: Float64Array.of(5, 6), equity: Float64Array.of(25, 26) });
    expect(await stored(id)).toEqual(points([0, 10], [1, 11], [2, 12], [3, 13], [4, 14], [5, 25], [6, 26]));
    await dropAfterCheckpoint(handle.db, id, { points: 2, tradeSeq: 0, pastTotal: 0 });
    expect(await stored(id)).toEqual(points([0, 10], [1, 11]));
    await dropAfterCheckpoint(handle.db, id, { points: 0, tradeSeq: 0, pastTotal: 0 });
    expect(await stored(id)).toEqual([]);
  });
});

describe('a running backtest\'s past signals', () => {
  // Signal k: its time, price and names from k, so any one out of place shows.
  const signal = (k: number): PastSignal => ({
    strategyName: ['mean_reversion', 'sma_crossover'][k % 2], signalType: k % 3 === 0 ? 'SHORT' : 'LONG', timestamp: 1_700_000_000_000 + k * 3_600_000,
    price: 100 + k / 7, asset: ['bitcoin', 'ethereum', 'solana'][k % 3],
  });
  const signals = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => signal(from + i));

  it('are read by number across segments, exactly, and not at all when one is missing', async () => {
    const id = randomUUID();
    await storePastSignals(handle.db, id, 0, signals(0, 4));
    await storePastSignals(handle.db, id, 4, signals(4, 9));
    expect(await storedPastSignals(handle.db, id, 2, 7)).toEqual(signals(2, 7));
    expect(await storedPastSignals(handle.db, id, 0, 9)).toEqual(signals(0, 9));
    expect(await storedPastSignals(handle.db, id, 5, 5)).toEqual([]);
    // Signals 9–11 left the window before they were stored: none asks for them.
    await storePastSignals(handle.db, id, 12, signals(12, 14));
    expect(await storedPastSignals(handle.db, id, 12, 14)).toEqual(signals(12, 14));
    expect(await storedPastSignals(handle.db, id, 8, 13)).toBeUndefined();
  });

  it('after a checkpoint are dropped or cut at it, the replay\'s own replacing them, and all go when the run ends', async () => {
    const id = randomUUID();
    await storePastSignals(handle.db, id, 0, signals(0, 4));
    await storePastSignals(handle.db, id, 4, signals(4, 9));
    await storePastSignals(handle.db, id, 9, signals(9, 12));
    await dropAfterCheckpoint(handle.db, id, { points: 0, tradeSeq: 0, pastTotal: 6 });
    expect(await storedPastSignals(handle.db, id, 0, 6)).toEqual(signals(0, 6));
    expect(await storedPastSignals(handle.db, id, 0, 10)).toBeUndefined();
    // The replay from the checkpoint makes signals 6 on again, as they now are.
    const replayed = signals(6, 10).map((x) => ({ ...x, price: x.price * 2 }));
    await storePastSignals(handle.db, id, 6, replayed);
    expect(await storedPastSignals(handle.db, id, 3, 10)).toEqual([...signals(3, 6), ...replayed]);
    await dropPastSignals(handle.db, id);
    expect(await storedPastSignals(handle.db, id, 0, 1)).toBeUndefined();
  });
});

describe('the backtest_curve table', () => {
  it('stores its arrays uncompressed (doubles do not compress; trying costs time at every store)', async () => {
    const { rows } = await handle.db.execute<{ attname: string; attstorage: string }>(sql`
      SELECT attname, attstorage FROM pg_attribute WHERE attrelid = 'backtest_curve'::regclass AND attname IN ('time', 'equity') ORDER BY attname`);
    expect(rows).toEqual([{ attname: 'equity', attstorage: 'e' }, { attname: 'time', attstorage: 'e' }]);
  });
});

describe('backtest trades stored in one statement', () => {
  it('keeps every field, the open trade\'s missing exit as null, numbered on from the trades stored before', async () => {
    const id = randomUUID();
    const trade = (k: number, open = false): BacktestTrade => ({
      asset: k % 2 ? 'ethereum' : "bit'coin", direction: k % 3 ? 'LONG' : 'SHORT', entryTime: Date.UTC(2024, 0, 1) + k * 3_600_000, entryPrice: 40_000.1 + k / 3,
      exitTime: open ? null : Date.UTC(2024, 0, 2) + k, exitPrice: open ? null : 0.1 + 0.2 + k, quantity: 1 / (k + 3), fees: 1e-9 * k,
      grossPnl: -k / 7, pnl: -k / 7 - 1e-9 * k, returnPct: k === 2 ? -0 : k / 11,
    });
    const first = [trade(0), trade(1), trade(2)];
    const then = [trade(3), trade(4, true)];
    await insertTrades(handle.db, id, 0, new TradeLog(first));
    await insertTrades(handle.db, id, first.length, new TradeLog(then));
    await insertTrades(handle.db, id, 5, new TradeLog());
    const rows = await handle.db.select().from(backtestTrades).where(eq(backtestTrades.backtestId, id)).orderBy(asc(backtestTrades.seq));
    // Every number to the bit, −0 included.
    expect(rows.map(({ id: _, backtestId: __, ...r }) => r)).toEqual([...first, ...then].map((t, seq) => ({ seq, ...t })));
  });
});

describe('a backtest\'s summary row', () => {
  it('is written again whole by a retried attempt, and a fresh attempt clears everything the id stored', async () => {
    const id = randomUUID();
    const row = (finalValue: number): typeof backtestResults.$inferInsert => ({
      backtestId: id, strategyName: 'sma_crossover', startDate: '2024-01-01', endDate: '2024-06-30', initialCapital: 10_000, finalValue,
      totalReturn: finalValue / 10_000 - 1, sharpeRatio: null, maxDrawdown: 0.1, tradeCount: 3, assets: ['bitcoin'], parameters: {},
      conventions: {}, metrics: { finalEquity: finalValue }, exposureTime: 0.5,
    });
    await saveResult(handle.db, row(11_000));
    await saveResult(handle.db, row(12_000));
    const rows = await handle.db.select().from(backtestResults).where(eq(backtestResults.backtestId, id));
    expect(rows).toEqual([expect.objectContaining({ finalValue: 12_000, metrics: { finalEquity: 12_000 } })]);

    await storeCurvePoints(handle.db, id, 0, { time: Float64Array.of(0, 1), equity: Float64Array.of(1, 2) });
    await insertTrades(handle.db, id, 0, new TradeLog([{ asset: 'bitcoin', direction: 'LONG', entryTime: 0, entryPrice: 1, exitTime: 1, exitPrice: 2, quantity: 1, fees: 0, grossPnl: 1, pnl: 1, returnPct: 1 }]));
    await storePastSignals(handle.db, id, 0, [{ strategyName: 'sma_crossover', signalType: 'LONG', timestamp: 0, price: 1, asset: 'bitcoin' }]);
    const other = randomUUID();
    await saveResult(handle.db, { ...row(9_000), backtestId: other });
    await storePastSignals(handle.db, other, 0, [{ strategyName: 'sma_crossover', signalType: 'SHORT', timestamp: 0, price: 2, asset: 'bitcoin' }]);
    await clearBacktest(handle.db, id);
    expect(await loadResult(handle.db, id)).toBeUndefined();
    expect(await stored(id)).toEqual([]);
    expect(await handle.db.select().from(backtestTrades).where(eq(backtestTrades.backtestId, id))).toEqual([]);
    expect(await storedPastSignals(handle.db, id, 0, 1)).toBeUndefined();
    // Another id's result and working state stay.
    expect((await loadResult(handle.db, other))?.row.finalValue).toBe(9_000);
    expect((await storedPastSignals(handle.db, other, 0, 1))?.[0].price).toBe(2);
  });
});
