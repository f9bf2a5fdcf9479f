import { sql } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { upsertCandles, upsertMacro } from '../../src/db/market-data';
import { scopedMarketDataBars } from '../../src/db/market-series';
import { clearMarketData, testDatabase } from '../support/db';

const handle = testDatabase();

beforeEach(() => clearMarketData(handle));
afterAll(() => handle.close());

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2024, 0, 1);
const FROM = T0;
const UNTIL = T0 + 10 * DAY;
const ASSETS = ['bitcoin', 'ethereum'];
const BARS = [60, 1440];

/** Hourly candles over [from, from + hours), each close its hour's index plus `base`. */
const hourly = (from: number, hours: number, base: number) => Array.from({ length: hours }, (_, k) => {
  const close = base + k;
  return { timestamp: from + k * HOUR, open: close, high: close + 1, low: close - 1, close, volume: 1 };
});

const vix = (days: number, value: (day: number) => number) => Array.from({ length: days }, (_, d) => ({
  date: new Date(T0 + d * DAY).toISOString().slice(0, 10), value: value(d), isForwardFilled: false, isInterpolated: false,
}));

async function store() {
  await upsertCandles(handle.db, 'bitcoin', 60, 'simulated', hourly(T0, 10 * 24, 40_000));
  await upsertCandles(handle.db, 'ethereum', 60, 'simulated', hourly(T0, 10 * 24, 2_000));
  await upsertMacro(handle.db, 'VIXCLS', 'fred', vix(10, (d) => 15 + d));
}

describe("a sweep's market data, kept from one scope to the next while Postgres holds the same rows", () => {
  it('shares the read of an earlier scope until a candle or an observation in the range changes', async () => {
    await store();
    const marketData = scopedMarketDataBars(handle.db);
    const read = (scope: string | undefined) => marketData(scope, ASSETS, FROM, UNTIL, BARS);
    const first = await read('sweep-1');
    expect(first.get(60)!.prices.bitcoin.close.length).toBe(10 * 24);
    expect(await read('sweep-1')).toBe(first);
    // A new scope over unchanged rows.
    expect(await read('sweep-2')).toBe(first);
    // The same candles stored again write nothing; candles after the range change nothing it reads.
    await upsertCandles(handle.db, 'bitcoin', 60, 'simulated', hourly(T0, 10 * 24, 40_000));
    await upsertCandles(handle.db, 'bitcoin', 60, 'simulated', hourly(UNTIL + DAY, 5, 50_000));
    await upsertMacro(handle.db, 'VIXCLS', 'fred', vix(10, (d) => 15 + d));
    expect(await read('sweep-3')).toBe(first);
    // Without a scope, every call reads.
    expect(await read(undefined)).not.toBe(first);

    // A candle corrected inside the range: same count, same keys, a new version of the row.
    await upsertCandles(handle.db, 'ethereum', 60, 'simulated', [{ timestamp: T0 + 30 * HOUR, open: 1, high: 2, low: 0.5, close: 1.5, volume: 9 }]);
    const corrected = await read('sweep-4');
    expect(corrected).not.toBe(first);
    expect(corrected.get(60)!.prices.ethereum.close[30]).toBe(1.5);
    expect(first.get(60)!.prices.ethereum.close[30]).toBe(2_030);
    // Its daily bar was built again from the same read.
    expect(corrected.get(1440)!.prices.ethereum.low[1]).toBe(0.5);
    // The scope that read it keeps its read; a later scope shares it.
    expect(await read('sweep-4')).toBe(corrected);
    expect(await read('sweep-5')).toBe(corrected);

    // A candle deleted inside the range.
    await handle.db.execute(sql`DELETE FROM crypto_ohlcv WHERE asset = 'bitcoin' AND timestamp = ${T0 + 5 * HOUR}::bigint`);
    const deleted = await read('sweep-6');
    expect(deleted).not.toBe(corrected);
    expect(deleted.get(60)!.prices.bitcoin.close.length).toBe(10 * 24 - 1);

    // A VIX observation revised inside the range.
    await upsertMacro(handle.db, 'VIXCLS', 'fred', vix(3, (d) => (d === 2 ? 99 : 15 + d)));
    const revised = await read('sweep-7');
    expect(revised).not.toBe(deleted);
    expect(revised.get(60)!.macro.VIXCLS.value[2]).toBe(99);
    expect(deleted.get(60)!.macro.VIXCLS.value[2]).toBe(17);

    // Daily candles that cover the range as well as the hourly ones do: the daily bars are now built from them.
    await upsertCandles(handle.db, 'ethereum', 1440, 'csv', Array.from({ length: 10 }, (_, d) => (
      { timestamp: T0 + d * DAY, open: 7, high: 8, low: 6, close: 7, volume: 24 })));
    const daily = await read('sweep-8');
    expect(daily).not.toBe(revised);
    expect(daily.get(1440)!.prices.ethereum.close[0]).toBe(7);
    expect(daily.get(60)!.prices.ethereum.close[0]).toBe(2_000);

    // A candle moved out of the range (its day in the range has lost it).
    await handle.db.execute(sql`UPDATE crypto_ohlcv SET timestamp = timestamp + ${30 * DAY}::bigint
      WHERE asset = 'ethereum' AND interval_minutes = 60 AND timestamp = ${T0 + 2 * HOUR}::bigint`);
    const moved = await read('sweep-9');
    expect(moved).not.toBe(daily);
    expect(moved.get(60)!.prices.ethereum.close.length).toBe(10 * 24 - 1);

    // The candles emptied, then the observations; everything stored again: the same values, read
    // again (the rows are new).
    await handle.db.execute(sql`TRUNCATE crypto_ohlcv`);
    const noCandles = await read('sweep-10');
    expect(noCandles.get(60)!.prices.bitcoin).toBeUndefined();
    expect(noCandles.get(60)!.macro.VIXCLS.value.length).toBe(10);
    await handle.db.execute(sql`TRUNCATE macro_indicators`);
    expect((await read('sweep-10b')).get(60)!.macro.VIXCLS.value.length).toBe(0);
    await store();
    const restored = await read('sweep-11');
    expect(restored.get(60)!.prices.bitcoin.close.length).toBe(10 * 24);
    expect(await read('sweep-12')).toBe(restored);
  });
});
