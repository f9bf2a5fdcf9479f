import { Router } from 'express';
import { z } from 'zod';
import { queryCandles, queryMacro } from '../../db/market-data';
import { chartCandles, marketCoverage } from '../../services/market-data';
import type { ApiContext } from '../context';
import { parseInput } from '../errors';
import { assetName, instant, LIMITS } from '../../services/limits';

export const candleQuery = z.object({
  from: instant.optional(),
  to: instant.optional(),
  interval: z.coerce.number().int().positive().max(LIMITS.maxIntervalMinutes, `at most ${LIMITS.maxIntervalMinutes} minutes`).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(500),
});
export const chartQuery = z.object({
  interval: z.coerce.number().int().positive().max(LIMITS.maxIntervalMinutes, `at most ${LIMITS.maxIntervalMinutes} minutes`),
  from: instant.optional(),
  to: instant.optional(),
  /** Stored bars read, newest first: the bound on the work. */
  limit: z.coerce.number().int().min(1).max(200_000).default(100_000),
  /** Bars sent: runs of stored bars are merged into one so a chart stays responsive. */
  maxBars: z.coerce.number().int().min(10).max(5000).default(2000),
});
export const macroQuery = z.object({ from: z.string().date().optional(), to: z.string().date().optional() });
const assetParams = z.object({ asset: assetName });
const indicatorParams = z.object({ indicator: z.string().max(LIMITS.nameLength).regex(/^[A-Za-z0-9_]+$/, 'letters, digits and "_" only') });

export function marketDataRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/market-data/coverage', async (_req, res) => {
    res.json(await marketCoverage(ctx.db));
  });
  router.get('/market-data/:asset/candles', async (req, res) => {
    const { asset } = parseInput(assetParams, req.params, 'params');
    const q = parseInput(candleQuery, req.query, 'query');
    const rows = await queryCandles(ctx.db, { asset, intervalMinutes: q.interval, from: q.from, to: q.to, limit: q.limit });
    res.json({
      asset,
      candles: rows.map((r) => ({
        timestamp: r.timestamp, time: r.dateStr, intervalMinutes: r.intervalMinutes,
        open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume, source: r.source,
      })),
    });
  });
  /** Candles for a chart: the stored bars of one interval, merged down to at most `maxBars`. */
  router.get('/market-data/:asset/chart', async (req, res) => {
    const { asset } = parseInput(assetParams, req.params, 'params');
    const q = parseInput(chartQuery, req.query, 'query');
    res.json(await chartCandles(ctx.db, asset, q));
  });
  router.get('/macro/:indicator', async (req, res) => {
    const { indicator } = parseInput(indicatorParams, req.params, 'params');
    const q = parseInput(macroQuery, req.query, 'query');
    const rows = await queryMacro(ctx.db, indicator, q.from, q.to);
    res.json({
      indicator,
      observations: rows.map((r) => ({
        date: r.date, value: r.value, isForwardFilled: r.isForwardFilled, isInterpolated: r.isInterpolated, source: r.source,
      })),
    });
  });
  return router;
}
