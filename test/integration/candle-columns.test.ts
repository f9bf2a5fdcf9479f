import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase } from '../../src/db/client';
import { bestCoveredInterval, type CandleRead, closedCandleColumnsFor, PACKED_STRETCH_CANDLES, upsertCandles } from '../../src/db/market-data';
import type { Candle } from '../../src/domain/types';
import { testDatabase } from '../support/db';

const handle = testDatabase();
afterAll(() => handle.close());

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FIELDS = ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;

/** The candles a read should return, worked out from what was stored: from `from` on, closed by `closedBy`, oldest first. */
function expected(candles: Candle[], intervalMs: number, from: number, closedBy: number) {
  const kept = candles.filter((c) => c.timestamp >= from && c.timestamp + intervalMs <= closedBy).sort((a, b) => a.timestamp - b.timestamp);
  // Every number as it was given (−0 too: the columns are sent in binary).
  return Object.fromEntries(FIELDS.map((f) => [f, kept.map((c) => c[f])]));
}

/** A read's columns as plain arrays, keyed by `${asset}|${interval}`, with the bars each serves. */
const byPair = (reads: CandleRead[]) => new Map(reads.map((r) => [
  `${r.asset}|${r.intervalMinutes}`, { bars: r.bars, ...Object.fromEntries(FIELDS.map((f) => [f, Array.from(r.candles[f])])) },
]));

describe('candles read from Postgres as columns', () => {
  it('returns every stored number to the bit, per asset, from `from` on and closed by `closedBy`', async () => {
    const doubles = fc.oneof(
      fc.double({ noNaN: true }),
      fc.constantFrom(0.1 + 0.2, 1e-300, 5e-324, -0, 123_456.789_012_345_68, 1.7976931348623157e308, Infinity, -Infinity),
    );
    const candle = fc.record({ open: doubles, high: doubles, low: doubles, close: doubles, volume: doubles });
    await fc.assert(fc.asyncProperty(
      fc.array(candle, { minLength: 1, maxLength: 60 }), fc.array(candle, { minLength: 1, maxLength: 5 }), fc.nat(70), fc.nat(80),
      async (hourly, daily, fromHour, closedHour) => {
        // One asset with hourly candles only (they serve hourly and daily bars), one with daily only (daily bars alone).
        const [hourlyAsset, dailyAsset] = [`h-${randomUUID()}`, `d-${randomUUID()}`];
        const start = Date.UTC(2026, 0, 1);
        // Stored newest first, so the order comes from the read.
        const hours = hourly.map((c, i) => ({ ...c, timestamp: start + i * HOUR })).reverse();
        const days = daily.map((c, i) => ({ ...c, timestamp: start + i * DAY }));
        await upsertCandles(handle.db, hourlyAsset, 60, 'csv', hours);
        await upsertCandles(handle.db, dailyAsset, 1440, 'csv', days);
        const [from, closedBy] = [start + fromHour * HOUR, start + closedHour * HOUR];
        const read = byPair(await closedCandleColumnsFor(handle.db, [hourlyAsset, dailyAsset], [60, 1440], from, closedBy));
        // An asset with a candle starting in [from, closedBy) is read (its closed candles, maybe none); one without is left out.
        const want = (candles: Candle[], ms: number, bars: number[]) =>
          candles.some((c) => c.timestamp >= from && c.timestamp < closedBy) ? { bars, ...expected(candles, ms, from, closedBy) } : undefined;
        // Compared with Object.is, number by number.
        expect(read.get(`${hourlyAsset}|60`)).toEqual(want(hours, HOUR, [60, 1440]));
        expect(read.get(`${dailyAsset}|1440`)).toEqual(want(days, DAY, [1440]));
        expect(read.size).toBe([read.get(`${hourlyAsset}|60`), read.get(`${dailyAsset}|1440`)].filter(Boolean).length);
      },
    ), { numRuns: 25 });
  });

  it('reads a long history packed in stretches, joined in time order', async () => {
    const asset = `m-${randomUUID()}`;
    const MIN = 60_000;
    const span = PACKED_STRETCH_CANDLES * MIN;
    // Minute candles from 1,000 minutes before a stretch's boundary to 1,000 after the next: three stretches.
    const start = Math.ceil(Date.UTC(2025, 0, 1) / span) * span - 1_000 * MIN;
    const n = PACKED_STRETCH_CANDLES + 2_000;
    const candles = Array.from({ length: n }, (_, i) => ({
      timestamp: start + i * MIN, open: i + 0.25, high: i + 0.5, low: i - 0.5, close: Math.sqrt(i), volume: i / 3,
    }));
    await upsertCandles(handle.db, asset, 1, 'csv', candles);
    const [from, closedBy] = [start + 10 * MIN, start + (n - 10) * MIN];
    const reads = await closedCandleColumnsFor(handle.db, [asset], [1], from, closedBy);
    expect(reads.map((r) => [r.asset, r.intervalMinutes, r.bars])).toEqual([[asset, 1, [1]]]);
    const want = expected(candles, MIN, from, closedBy);
    // Where each column first differs from the stored candles (-1: nowhere); deep equality on 67,000 numbers takes seconds.
    const mismatch = (got: ArrayLike<number>, wanted: number[]) => (got.length !== wanted.length ? -2 : wanted.findIndex((v, i) => !Object.is(got[i], v)));
    expect(FIELDS.map((f) => [f, mismatch(reads[0].candles[f], want[f])])).toEqual(FIELDS.map((f) => [f, -1]));
  });

  it('takes the interval that covers the most time for each bar, the longer on a tie, among those dividing it', async () => {
    const start = Date.UTC(2025, 5, 1);
    const MIN = 60_000;
    const bar = (t: number, close: number): Candle => ({ timestamp: t, open: close - 1, high: close + 2, low: close - 2, close, volume: close / 10 });
    const run = (minutes: number, count: number, close: number) => Array.from({ length: count }, (_, k) => bar(start + k * minutes * MIN, close + k));
    const [a, b, c] = [`a-${randomUUID()}`, `b-${randomUUID()}`, `c-${randomUUID()}`];
    // a: 15-minute bars over 2 hours beside hourly bars over 3: hourly covers more. A daily bar too, which divides only the daily bar.
    await upsertCandles(handle.db, a, 15, 'csv', run(15, 8, 100));
    await upsertCandles(handle.db, a, 60, 'csv', run(60, 3, 200));
    await upsertCandles(handle.db, a, 1440, 'csv', run(1440, 1, 300));
    // b: four 15-minute bars and one hourly bar cover the same hour: the longer wins.
    await upsertCandles(handle.db, b, 15, 'csv', run(15, 4, 10));
    await upsertCandles(handle.db, b, 60, 'csv', run(60, 1, 20));
    const closedBy = start + DAY;
    const read = byPair(await closedCandleColumnsFor(handle.db, [a, b, c], [15, 60, 1440], start, closedBy));
    // a's daily bars: the daily candle covers a day, more than the hourly ones' three hours.
    expect([...read.keys()].sort()).toEqual([`${a}|15`, `${a}|60`, `${a}|1440`, `${b}|15`, `${b}|60`].sort());
    expect(read.get(`${a}|15`)).toMatchObject({ bars: [15], close: [100, 101, 102, 103, 104, 105, 106, 107] });
    expect(read.get(`${a}|60`)).toMatchObject({ bars: [60], close: [200, 201, 202], volume: [20, 20.1, 20.2] });
    expect(read.get(`${a}|1440`)).toMatchObject({ bars: [1440], close: [300], timestamp: [start] });
    expect(read.get(`${b}|60`)).toMatchObject({ bars: [60, 1440], close: [20] });
    expect(read.get(`${b}|15`)).toMatchObject({ bars: [15], close: [10, 11, 12, 13] });
    expect(await closedCandleColumnsFor(handle.db, [], [60], 0, closedBy)).toEqual([]);

    // The stop check's interval: any length, the one covering most.
    expect(await bestCoveredInterval(handle.db, a, start, closedBy)).toBe(1440);
    // From the second hour on, without the daily candle (it starts before): two hourly bars against four 15-minute ones.
    expect(await bestCoveredInterval(handle.db, a, start + 60 * MIN, start + 3 * 60 * MIN)).toBe(60);
    expect(await bestCoveredInterval(handle.db, b, start, closedBy)).toBe(60);
    expect(await bestCoveredInterval(handle.db, c, start, closedBy)).toBeUndefined();
  });
});

describe('the sessions MTS opens', () => {
  it('run with Postgres\'s JIT compiler off, unless the URL sets options of its own', async () => {
    expect((await handle.db.execute(sql`SHOW jit`)).rows).toEqual([{ jit: 'off' }]);
    const url = new URL(inject('databaseUrl'));
    url.searchParams.set('options', '-c jit=on');
    const own = connectDatabase(url.toString(), 1);
    try {
      expect((await own.db.execute(sql`SHOW jit`)).rows).toEqual([{ jit: 'on' }]);
    } finally {
      await own.close();
    }
  });
});
