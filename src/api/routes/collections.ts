import { Router } from 'express';
import { backfillBody, collectBody, collectionStatus, startBackfill, startCollection } from '../../services/collections';
import { UnknownTargetError } from '../../services/targets';
import { operator } from '../auth';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';

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
