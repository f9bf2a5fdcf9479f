import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertCandles } from '../../src/db/market-data';
import type { Candle } from '../../src/domain/types';
import { startTestApi } from '../support/api';
import { clearMarketData } from '../support/db';
import { workflowTestContext } from '../support/temporal';

const ctx = workflowTestContext();
const key = 'chart-read-key-0001';
const MIN = 60_000;
const start = Date.UTC(2026, 5, 1);
// 100,000 minutes of a known walk: close i is 1000 + (i mod 97) − (i mod 13).
const bars: Candle[] = Array.from({ length: 100_000 }, (_, i) => {
  const close = 1000 + (i % 97) - (i % 13);
  return { timestamp: start + i * MIN, open: close - 0.5, high: close + 1 + (i % 5), low: close - 1 - (i % 7), close, volume: 1 };
});
const DAY = 1440 * MIN;
// Three daily ethereum bars: nothing shorter to build hourly bars from.
const days: Candle[] = [0, 1, 2].map((d) => ({ timestamp: start + d * DAY, open: 10, high: 12, low: 9, close: 11, volume: 5 }));
let api: Awaited<ReturnType<typeof startTestApi>>;
const get = (path: string) => fetch(`${api.base}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } });

/** The OHLCV of a run of bars, worked out here: what one candle built from them holds. */
const candleOf = (run: Candle[], timestamp: number) => ({
  timestamp, open: run[0].open, close: run.at(-1)!.close, volume: run.length,
  high: Math.max(...run.map((b) => b.high)), low: Math.min(...run.map((b) => b.low)),
});

beforeAll(async () => {
  await clearMarketData(ctx.handle);
  await upsertCandles(ctx.handle.db, 'bitcoin', 1, 'binance', bars);
  await upsertCandles(ctx.handle.db, 'ethereum', 1440, 'binance', days);
  api = await startTestApi(ctx.kit.client, ctx.handle, `read:${key}`);
});
afterAll(() => api?.close());

describe('GET /api/v1/market-data/{asset}/chart and /coverage', () => {
  it('merges 100,000 stored bars into at most maxBars candles, each the OHLC of its run of bars', async () => {
    const res = await get('/market-data/bitcoin/chart?interval=1&maxBars=2000');
    expect(res.status).toBe(200);
    const body = await res.json() as { storedBars: number; barMinutes: number; candles: Candle[] };
    expect(body.storedBars).toBe(100_000);
    expect(body.candles).toHaveLength(2000);
    expect(body.barMinutes).toBe(50);
    // Independently: candle k covers bars 50k … 50k + 49.
    for (const k of [0, 1, 999, 1999]) expect(body.candles[k]).toEqual(candleOf(bars.slice(k * 50, k * 50 + 50), start + k * 50 * MIN));
  });

  it('builds hourly candles from the stored minute bars when no hourly bars are stored', async () => {
    const res = await get('/market-data/bitcoin/chart?interval=60&maxBars=2000');
    expect(res.status).toBe(200);
    const body = await res.json() as { storedBars: number; bars: number; builtFromMinutes: number; barMinutes: number; candles: Candle[] };
    // 100,000 minutes from a midnight: 1,666 whole hours and the first 40 minutes of the next.
    expect(body).toMatchObject({ storedBars: 100_000, bars: 1667, builtFromMinutes: 1, barMinutes: 60 });
    expect(body.candles).toHaveLength(1667);
    for (const h of [0, 1, 800, 1665]) expect(body.candles[h]).toEqual(candleOf(bars.slice(h * 60, h * 60 + 60), start + h * 60 * MIN));
    expect(body.candles[1666]).toEqual(candleOf(bars.slice(1666 * 60), start + 1666 * 60 * MIN));
  });

  it('drops the first built candle when the read stopped inside its hour', async () => {
    // The newest 1,030 minutes begin half-way through hour 1,649: that hour is not shown, 1,650 on are.
    const body = await (await get('/market-data/bitcoin/chart?interval=60&limit=1030')).json() as { bars: number; candles: Candle[] };
    expect(body.bars).toBe(17);
    expect(body.candles[0]).toEqual(candleOf(bars.slice(1650 * 60, 1651 * 60), start + 1650 * 60 * MIN));
  });

  it('builds nothing from longer bars, and says what is stored', async () => {
    const body = await (await get('/market-data/ethereum/chart?interval=60')).json() as { candles: Candle[]; builtFromMinutes?: number };
    expect(body.candles).toEqual([]);
    expect(body.builtFromMinutes).toBeUndefined();
    const coverage = await (await get('/market-data/coverage')).json();
    expect(coverage).toEqual({
      assets: [
        { asset: 'bitcoin', intervals: [{ intervalMinutes: 1, first: start, last: start + 99_999 * MIN, firstTime: '2026-06-01T00:00:00.000Z', lastTime: new Date(start + 99_999 * MIN).toISOString() }] },
        { asset: 'ethereum', intervals: [{ intervalMinutes: 1440, first: start, last: start + 2 * DAY, firstTime: '2026-06-01T00:00:00.000Z', lastTime: '2026-06-03T00:00:00.000Z' }] },
      ],
    });
  });

  it('names the field that is wrong', async () => {
    const res = await get('/market-data/bitcoin/chart?interval=1&maxBars=9');
    expect(res.status).toBe(400);
    expect((await res.json() as { error: { message: string } }).error.message).toMatch(/maxBars/);
  });
});
