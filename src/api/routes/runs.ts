import { Router } from 'express';
import { z } from 'zod';
import { cancelRun, describeRun, listRuns, RUN_STATUSES, retryRun, RunConflictError, RunNotFoundError } from '../../services/runs';
import { operator } from '../auth';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';

export const runsQuery = z.object({
  type: z.string().regex(/^\w+$/, 'a workflow type such as collectTierWorkflow').optional(),
  status: z.string().transform((s) => s.toUpperCase()).pipe(z.enum(RUN_STATUSES)).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});
const params = z.object({ workflowId: z.string().min(1).max(1000) });

function httpFromRunError(err: unknown): never {
  if (err instanceof RunNotFoundError) throw new HttpError(404, 'not_found', err.message);
  if (err instanceof RunConflictError) throw new HttpError(409, 'conflict', err.message);
  throw err;
}

export function runsRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const q = parseInput(runsQuery, req.query, 'query');
    res.json({ runs: await listRuns(ctx.temporal, q), temporalUiUrl: ctx.temporalUiUrl ?? null, namespace: ctx.temporal.options.namespace });
  });
  router.get('/:workflowId', async (req, res) => {
    const { workflowId } = parseInput(params, req.params, 'params');
    res.json(await describeRun(ctx.temporal, workflowId).catch(httpFromRunError));
  });
  router.post('/:workflowId/retry', operator, async (req, res) => {
    const { workflowId } = parseInput(params, req.params, 'params');
    res.status(202).json(await retryRun(ctx.temporal, workflowId).catch(httpFromRunError));
  });
  router.post('/:workflowId/cancel', operator, async (req, res) => {
    const { workflowId } = parseInput(params, req.params, 'params');
    await cancelRun(ctx.temporal, workflowId).catch(httpFromRunError);
    res.status(202).json({ workflowId, action: 'cancel' });
  });
  return router;
}
