import { Router } from 'express';
import { z } from 'zod';
import { collectionStatus, startBackfill, startCollection } from '../../services/collections';
import { UnknownTargetError } from '../../services/targets';
import { operator } from '../auth';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';
import { assetList, days, instant, LIMITS } from '../../services/limits';

export const collectBody = z.union([
  z.object({ tier: z.string().min(1).max(LIMITS.nameLength) }).strict(),
  z.object({ assets: assetList }).strict(),
], { error: 'give either "tier" (a tier name) or "assets" (a list of configured assets)' });


export const backfillBody = z.object({
  assets: assetList,
  from: instant,
  to: instant,
  heartbeatTimeoutMs: z.number().int().min(1000).max(600_000).optional(),
}).strict()
  .refine((b) => b.from < b.to, { message: 'must be after from', path: ['to'] })
  .refine((b) => days(b.to - b.from) <= LIMITS.backfillDays, { message: `a backfill may cover at most ${LIMITS.backfillDays} days; split it`, path: ['from'] });

/** Unknown tiers and assets are the caller's mistake: a 400 naming the field. */
function asBadRequest(field: string, err: unknown): never {
  if (err instanceof UnknownTargetError) {
    throw new HttpError(400, 'validation_error', `body.${field}: ${err.message}`, [{ field: `body.${field}`, message: err.message }]);
  }
  throw err;
}

export function collectionsRouter(ctx: ApiContext): Router {
  const router = Router();
  router.post('/collections', operator, async (req, res) => {
    const body = parseInput(collectBody, req.body, 'body');
    const started = await startCollection(ctx.temporal, ctx.collection, body).catch((e) => asBadRequest('tier' in body ? 'tier' : 'assets', e));
    res.status(202).json(started);
  });
  router.get('/collections/status', async (_req, res) => {
    res.json(await collectionStatus(ctx.db, ctx.collection));
  });
  router.post('/backfills', operator, async (req, res) => {
    const body = parseInput(backfillBody, req.body, 'body');
    const started = await startBackfill(ctx.temporal, ctx.collection, body).catch((e) => asBadRequest('assets', e));
    res.status(202).json(started);
  });
  return router;
}
