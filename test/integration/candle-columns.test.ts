import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { closedCandleColumnsOf, upsertCandles } from '../../src/db/market-data';
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
  // −0 is sent as "0" when stored (JavaScript prints it so), so it is stored as 0.
  return Object.fromEntries(FIELDS.map((f) => [f, kept.map((c) => (Object.is(c[f], -0) ? 0 : c[f]))]));
}

describe('candles read from Postgres as columns', () => {
  it('returns every stored number to the bit, per pair, from `from` on and closed by `closedBy`', async () => {
    const doubles = fc.oneof(
      fc.double({ noNaN: true }),
      fc.constantFrom(0.1 + 0.2, 1e-300, 5e-324, -0, 123_456.789_012_345_68, 1.7976931348623157e308, Infinity, -Infinity),
    );
    const candle = fc.record({ open: doubles, high: doubles, low: doubles, close: doubles, volume: doubles });
    await fc.assert(fc.asyncProperty(
      fc.array(candle, { minLength: 1, maxLength: 60 }), fc.array(candle, { minLength: 1, maxLength: 5 }), fc.nat(70), fc.nat(80),
      async (hourly, daily, fromHour, closedHour) => {
        const asset = `coin-${randomUUID()}`;
        const start = Date.UTC(2026, 0, 1);
        // Stored newest first, so the order comes from the read.
        const hours = hourly.map((c, i) => ({ ...c, timestamp: start + i * HOUR })).reverse();
        const days = daily.map((c, i) => ({ ...c, timestamp: start + i * DAY }));
        await upsertCandles(handle.db, asset, 60, 'csv', hours);
        await upsertCandles(handle.db, asset, 1440, 'csv', days);
        const [from, closedBy] = [start + fromHour * HOUR, start + closedHour * HOUR];
        const read = await closedCandleColumnsOf(handle.db, [{ asset, intervalMinutes: 60 }, { asset, intervalMinutes: 1440 }], from, closedBy);
        const columns = (key: string) => {
          const c = read.get(key);
          return c && Object.fromEntries(FIELDS.map((f) => [f, Array.from(c[f])]));
        };
        const want = (candles: Candle[], ms: number) => {
          const e = expected(candles, ms, from, closedBy);
          return e.timestamp.length ? e : undefined;
        };
        // Compared with Object.is, number by number.
        expect(columns(`${asset}|60`)).toEqual(want(hours, HOUR));
        expect(columns(`${asset}|1440`)).toEqual(want(days, DAY));
      },
    ), { numRuns: 25 });
  });

  it('reads several assets in one call and leaves out a pair with nothing stored', async () => {
    const start = Date.UTC(2025, 5, 1);
    const bar = (k: number, close: number): Candle => ({ timestamp: start + k * HOUR, open: close - 1, high: close + 2, low: close - 2, close, volume: 10 * k });
    const [a, b] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
    await upsertCandles(handle.db, a, 60, 'csv', [bar(0, 100), bar(1, 101), bar(2, 102)]);
    await upsertCandles(handle.db, b, 60, 'csv', [bar(1, 50), bar(2, 51)]);
    const read = await closedCandleColumnsOf(handle.db, [
      { asset: a, intervalMinutes: 60 }, { asset: b, intervalMinutes: 60 }, { asset: a, intervalMinutes: 15 },
    ], start + HOUR, start + 3 * HOUR);
    expect([...read.keys()].sort()).toEqual([`${a}|60`, `${b}|60`].sort());
    expect(Array.from(read.get(`${a}|60`)!.close)).toEqual([101, 102]);
    expect(Array.from(read.get(`${b}|60`)!.timestamp)).toEqual([start + HOUR, start + 2 * HOUR]);
    expect(Array.from(read.get(`${b}|60`)!.volume)).toEqual([10, 20]);
    expect(await closedCandleColumnsOf(handle.db, [], 0, start)).toEqual(new Map());
  });
});
