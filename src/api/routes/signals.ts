import { Router } from 'express';
import { z } from 'zod';
import { querySignals } from '../../db/signals';
import { STRATEGY_DEFINITIONS } from '../../domain/strategies';
import { startSignalGeneration } from '../../services/signals';
import { externalSignalSchema, isVolatilityAlert, toExecutionSignal, VOLATILITY_ALERT_REFUSAL } from '../../services/external-signals';
import { startSignalExecution } from '../../services/trading';
import { allow, operator } from '../auth';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';

export const timeParam = z.union([
  z.coerce.number().int().nonnegative(),
  z.string().datetime({ offset: true }).transform((s) => Date.parse(s)),
  z.string().date().transform((s) => Date.parse(`${s}T00:00:00Z`)),
], { error: 'must be epoch milliseconds, an ISO date or an ISO date-time' });

const assetName = z.string().regex(/^[\w.-]+$/, 'letters, digits, ".", "_" and "-" only');

export const generateBody = z.object({
  asOf: timeParam.optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  stepMinutes: z.number().int().min(5).max(10_080).optional(),
  assets: z.array(assetName).min(1).max(100).optional(),
  distribute: z.boolean().optional(),
}).strict()
  .refine((b) => !(b.asOf !== undefined && (b.from !== undefined || b.to !== undefined)), { message: 'give asOf, or from/to, not both', path: ['asOf'] })
  .refine((b) => b.from === undefined || b.to === undefined || b.from <= b.to, { message: 'must not be before from', path: ['to'] })
  .refine((b) => b.from === undefined || b.to === undefined || (b.to - b.from) / ((b.stepMinutes ?? 1440) * 60_000) <= 20_000, {
    message: 'a range may hold at most 20,000 decision times', path: ['to'],
  });

export const signalsQuery = z.object({
  asset: assetName.optional(),
  strategy: z.string().regex(/^\w+$/).optional(),
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
    res.status(202).json(await startSignalExecution(ctx.temporal, signal));
  });
  router.post('/signals/generate', operator, async (req, res) => {
    const body = parseInput(generateBody, req.body, 'body');
    res.status(202).json(await startSignalGeneration(ctx.temporal, body));
  });
  router.get('/signals', async (req, res) => {
    const q = parseInput(signalsQuery, req.query, 'query');
    const rows = await querySignals(ctx.db, q);
    res.json({
      signals: rows.map((r) => ({
        id: r.id, asset: r.asset, signalType: r.signalType, timestamp: r.timestamp, time: new Date(r.timestamp).toISOString(),
        price: r.price, strategy: r.strategyName, confidence: r.confidence, positionSize: r.positionSize,
        stopLoss: r.stopLoss, takeProfit: r.takeProfit, strategies: r.strategies, analysis: r.analysis,
      })),
    });
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
