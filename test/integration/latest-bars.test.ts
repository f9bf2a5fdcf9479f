import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { upsertCandles } from '../../src/db/market-data';
import { latestBar, latestBars, latestCloses } from '../../src/db/trading';
import { clearMarketData, testDatabase } from '../support/db';

const handle = testDatabase();

beforeEach(() => clearMarketData(handle));
afterAll(() => handle.close());

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const T0 = Date.UTC(2026, 0, 1);

/** `count` bars of `minutes` from `from`, each closing at its index + 1000 × its length in hours (so every bar is told apart by its close). */
function bars(from: number, minutes: number, count: number) {
  return Array.from({ length: count }, (_, k) => {
    const close = 1000 * (minutes / 60) + k;
    return { timestamp: from + k * minutes * MINUTE, open: close, high: close + 1, low: close - 1, close, volume: 1 };
  });
}

describe('the newest closed bar of each asset, in one statement', () => {
  it('takes the bar that ended last over every stored length, the longer one on a tie, never one still open', async () => {
    // Bitcoin: two days of daily bars, a day and a half of hourly bars, the last 90 minutes of 1-minute bars.
    await upsertCandles(handle.db, 'bitcoin', 1440, 'simulated', bars(T0, 1440, 2));
    await upsertCandles(handle.db, 'bitcoin', 60, 'simulated', bars(T0, 60, 36));
    await upsertCandles(handle.db, 'bitcoin', 1, 'simulated', bars(T0 + 36 * 60 * MINUTE - 90 * MINUTE, 1, 90));
    // An asset with a name that needs quoting in an array literal, and one with only daily bars.
    await upsertCandles(handle.db, 'we"ird, {asset}', 60, 'simulated', bars(T0, 60, 3));
    await upsertCandles(handle.db, 'ethereum', 1440, 'simulated', bars(T0, 1440, 1));

    // At midnight after the first day: the daily bar and the 24th hourly bar both end then; the longer wins.
    const midnight = await latestBars(handle.db, ['bitcoin', 'ethereum', 'we"ird, {asset}', 'nothing'], T0 + DAY);
    expect(midnight.get('bitcoin')).toMatchObject({ intervalMinutes: 1440, timestamp: T0, close: 24_000 });
    expect(midnight.get('ethereum')).toMatchObject({ intervalMinutes: 1440, close: 24_000 });
    expect(midnight.get('we"ird, {asset}')).toMatchObject({ intervalMinutes: 60, timestamp: T0 + 2 * 60 * MINUTE, close: 1002 });
    expect(midnight.has('nothing')).toBe(false);
    expect([...midnight.keys()].sort()).toEqual(['bitcoin', 'ethereum', 'we"ird, {asset}']);

    // Half a minute into a minute bar: the minute bar before it, which closed after the last hourly bar.
    const inMinutes = T0 + 36 * 60 * MINUTE - 30 * MINUTE + 30_000;
    expect(await latestBar(handle.db, 'bitcoin', inMinutes)).toMatchObject({ intervalMinutes: 1, timestamp: inMinutes - 30_000 - MINUTE, close: 1000 / 60 + 59 });
    // Before the first bar closed: nothing.
    expect(await latestBar(handle.db, 'bitcoin', T0 + 59 * MINUTE)).toBeUndefined();
    expect(await latestCloses(handle.db, ['bitcoin', 'bitcoin', 'ethereum'], T0 + 2 * DAY)).toEqual({ bitcoin: 24_001, ethereum: 24_000 });
    expect(await latestCloses(handle.db, [], T0 + 2 * DAY)).toEqual({});
  });
});
