import { Router } from 'express';
import { z } from 'zod';
import { STRATEGY_DEFINITIONS } from '../../domain/strategies';
import { signalsWithOutcomes, startSignalGeneration } from '../../services/signals';
import { externalSignalSchema, isVolatilityAlert, toExecutionSignal, VOLATILITY_ALERT_REFUSAL } from '../../services/external-signals';
import { SignalConflictError, startSignalExecution } from '../../services/trading';
import { allow, operator } from '../auth';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';
import { assetList, assetName, instant, LIMITS } from '../../services/limits';

/** Times in queries and bodies: epoch ms, ISO date or date-time, within the plausible range. */
export const timeParam = instant;

const DAY_MS = 86_400_000;

/**
 * The decision times a request covers, with the workflow's defaults filled in (a missing `to` is
 * now, a missing `from` a day before `to`): the step cap holds however the range is given.
 */
export function decisionSteps(b: { from?: number; to?: number; stepMinutes?: number }, now = Date.now()): number {
  if (b.from === undefined && b.to === undefined) return 1;
  const to = b.to ?? now;
  const from = b.from ?? to - DAY_MS;
  return Math.floor((to - from) / ((b.stepMinutes ?? 1440) * 60_000)) + 1;
}

export const generateBody = z.object({
  asOf: timeParam.optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  stepMinutes: z.number().int().min(5).max(10_080).optional(),
  assets: assetList.optional(),
  distribute: z.boolean().optional(),
}).strict()
  .refine((b) => !(b.asOf !== undefined && (b.from !== undefined || b.to !== undefined)), { message: 'give asOf, or from/to, not both', path: ['asOf'] })
  .refine((b) => b.from === undefined || b.to === undefined || b.from <= b.to, { message: 'must not be before from', path: ['to'] })
  .superRefine((b, ctx) => {
    const steps = decisionSteps(b);
    if (steps > LIMITS.signalSteps) {
      ctx.addIssue({ code: 'custom', path: [b.from !== undefined ? 'from' : 'to'], message: `the range holds ${steps.toLocaleString('en-US')} decision times; at most ${LIMITS.signalSteps.toLocaleString('en-US')} (narrow it or raise stepMinutes)` });
    }
  });

export const signalsQuery = z.object({
  asset: assetName.optional(),
  strategy: z.string().max(LIMITS.nameLength).regex(/^\w+$/).optional(),
  type: z.enum(['LONG', 'SHORT']).optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
});

export function signalsRouter(ctx: ApiContext): Router {
  const router = Router();
  router.post('/signals', allow('trader'), async (req, res) => {
    if (isVolatilityAlert(req.body)) throw new HttpError(422, 'unprocessable', `body: ${VOLATILITY_ALERT_REFUSAL}`);
    const signal = toExecutionSignal(parseInput(externalSignalSchema, req.body, 'body'));
    const started = await startSignalExecution(ctx.temporal, signal).catch((err: unknown) => {
      if (err instanceof SignalConflictError) throw new HttpError(409, 'conflict', err.message, err.fields);
      throw err;
    });
    res.status(202).json(started);
  });
  router.post('/signals/generate', operator, async (req, res) => {
    const body = parseInput(generateBody, req.body, 'body');
    res.status(202).json(await startSignalGeneration(ctx.temporal, body));
  });
  router.get('/signals', async (req, res) => {
    const q = parseInput(signalsQuery, req.query, 'query');
    res.json({ signals: await signalsWithOutcomes(ctx.db, ctx.execution.portfolioId, q) });
  });
  router.get('/strategies', (_req, res) => {
    res.json({
      strategies: ctx.strategies.map((c) => ({
        name: c.name,
        description: STRATEGY_DEFINITIONS[c.name].description,
        enabled: c.enabled,
        assets: c.assets,
        parameters: c.parameters,
        risk: c.risk,
        parameterSpecs: STRATEGY_DEFINITIONS[c.name].parameters,
      })),
    });
  });
  return router;
}
