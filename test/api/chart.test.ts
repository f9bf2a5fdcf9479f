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
let api: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  await clearMarketData(ctx.handle);
  await upsertCandles(ctx.handle.db, 'bitcoin', 1, 'binance', bars);
  api = await startTestApi(ctx.kit.client, ctx.handle, `read:${key}`);
});
afterAll(() => api?.close());

describe('GET /api/v1/market-data/{asset}/chart', () => {
  it('merges 100,000 stored bars into at most maxBars candles, each the OHLC of its run of bars', async () => {
    const res = await fetch(`${api.base}/api/v1/market-data/bitcoin/chart?interval=1&maxBars=2000`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const body = await res.json() as { storedBars: number; barMinutes: number; candles: Candle[] };
    expect(body.storedBars).toBe(100_000);
    expect(body.candles).toHaveLength(2000);
    expect(body.barMinutes).toBe(50);
    // Independently: candle k covers bars 50k … 50k + 49.
    for (const k of [0, 1, 999, 1999]) {
      const run = bars.slice(k * 50, k * 50 + 50);
      expect(body.candles[k]).toEqual({
        timestamp: run[0].timestamp, open: run[0].open, close: run[49].close, volume: 50,
        high: Math.max(...run.map((b) => b.high)), low: Math.min(...run.map((b) => b.low)),
      });
    }
  });

  it('names the field that is wrong', async () => {
    const res = await fetch(`${api.base}/api/v1/market-data/bitcoin/chart?interval=1&maxBars=9`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(400);
    expect((await res.json() as { error: { message: string } }).error.message).toMatch(/maxBars/);
  });
});
