import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ExecutionConfig } from '../config/execution';
import type { Database } from '../db/client';
import { backtestEquity, backtestResults, backtestTrades } from '../db/schema';
import { STRATEGY_DEFINITIONS } from '../domain/strategies';
import { parametersSchema } from '../domain/strategies/framework';
import { MTS_ASSETS, MTS_STRATEGIES } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { backtestWorkflow } from '../workflows/backtest';
import { sweepWorkflow } from '../workflows/sweep';
import { walkForwardWorkflow } from '../workflows/walk-forward';
import type { BacktestConventionsInput, BacktestRequest } from '../workflows/types';

const time = z.union([
  z.number().int().nonnegative(),
  z.string().datetime({ offset: true }).transform((s) => Date.parse(s)),
  z.string().date().transform((s) => Date.parse(`${s}T00:00:00Z`)),
], { error: 'must be epoch milliseconds, an ISO date or an ISO date-time' });

export const conventionsSchema = z.object({
  bar: z.enum(['1d', '1h', '15m']),
  fillAt: z.enum(['next_open', 'close']),
  fillModel: z.object({
    fixedSlippageBps: z.number().min(0).max(1000), volatilitySlippageFactor: z.number().min(0).max(10), takerFeeBps: z.number().min(0).max(1000),
  }).strict(),
  sizing: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('risk') }).strict(),
    z.object({ kind: z.literal('fixed_fraction'), fraction: z.number().positive().max(1) }).strict(),
    z.object({ kind: z.literal('all_in') }).strict(),
  ]),
  units: z.enum(['fractional', 'whole']),
  allowShort: z.boolean(),
  protective: z.boolean(),
  closeAtEnd: z.boolean(),
}).strict();

const strategyName = z.string().refine((s) => s in STRATEGY_DEFINITIONS, { message: `must be one of ${Object.keys(STRATEGY_DEFINITIONS).join(', ')}` });

export const backtestBodySchema = z.object({
  strategy: strategyName,
  params: z.record(z.string(), z.union([z.number(), z.string()])).default({}),
  assets: z.array(z.string().regex(/^[\w.-]+$/)).min(1).max(50),
  from: time,
  to: time,
  initialCapital: z.number().positive().default(10_000),
  conventions: conventionsSchema.partial().default({}),
}).strict()
  .refine((b) => b.from < b.to, { message: 'must be after from', path: ['to'] })
  .superRefine((b, ctx) => {
    const def = STRATEGY_DEFINITIONS[b.strategy];
    if (!def) return;
    const parsed = parametersSchema(def.parameters).partial().safeParse(b.params);
    if (!parsed.success) for (const i of parsed.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: ['params', ...i.path] });
  });

/** Paper trading's conventions: the default, so a backtest behaves like the live portfolio unless told otherwise. */
export function defaultConventions(execution: ExecutionConfig): BacktestConventionsInput {
  return { bar: '1d', fillAt: 'next_open', fillModel: execution.fillModel, sizing: { kind: 'risk' }, units: 'fractional', allowShort: true, protective: true, closeAtEnd: true };
}

export function resolveBacktest(body: z.infer<typeof backtestBodySchema>, execution: ExecutionConfig): BacktestRequest {
  return {
    id: `bt-${randomUUID().slice(0, 8)}`,
    strategy: body.strategy, params: body.params, assets: body.assets, from: body.from, to: body.to, initialCapital: body.initialCapital,
    conventions: { ...defaultConventions(execution), ...body.conventions },
  };
}

export const backtestWorkflowId = (id: string) => `backtest-${id}`;

export async function startBacktest(client: Client, req: BacktestRequest) {
  const handle = await client.workflow.start(backtestWorkflow, {
    workflowId: backtestWorkflowId(req.id),
    taskQueue: TASK_QUEUES.backtest,
    args: [req],
    typedSearchAttributes: [{ key: MTS_STRATEGIES, value: [req.strategy] }, { key: MTS_ASSETS, value: req.assets }],
  });
  return { id: req.id, workflowId: handle.workflowId };
}

export async function backtestResult(db: Database, id: string) {
  const [row] = await db.select().from(backtestResults).where(eq(backtestResults.backtestId, id));
  if (!row) return undefined;
  // Stored as they close; shown in the order they opened.
  const trades = await db.select().from(backtestTrades).where(eq(backtestTrades.backtestId, id)).orderBy(asc(backtestTrades.entryTime), asc(backtestTrades.seq));
  const equity = await db.select().from(backtestEquity).where(eq(backtestEquity.backtestId, id)).orderBy(asc(backtestEquity.time));
  return {
    id,
    strategy: row.strategyName, assets: row.assets, parameters: row.parameters, conventions: row.conventions,
    from: row.startDate, to: row.endDate, initialCapital: row.initialCapital, finalValue: row.finalValue,
    metrics: row.metrics, buyAndHoldReturn: row.buyAndHoldReturn, exposureTime: row.exposureTime,
    trades: trades.map(({ id: _id, backtestId: _b, ...t }) => t),
    equity: equity.map((e) => ({ time: e.time, equity: e.equity })),
  };
}

const sweepFields = {
  strategy: strategyName,
  assets: z.array(z.string().regex(/^[\w.-]+$/)).min(1).max(50),
  from: time,
  to: time,
  initialCapital: z.number().positive().default(10_000),
  conventions: conventionsSchema.partial().default({}),
  grid: z.record(z.string(), z.array(z.union([z.number(), z.string()])).min(1).max(50)),
  metric: z.enum(['sharpe', 'totalReturn', 'maxDrawdownPct', 'finalEquity']).default('sharpe'),
};

/** The grid's values must each be valid for the strategy's parameter specs. */
function checkGrid(b: { strategy: string; grid: Record<string, Array<number | string>> }, ctx: z.RefinementCtx) {
  const def = STRATEGY_DEFINITIONS[b.strategy];
  if (!def) return;
  const combos = Object.values(b.grid).reduce((n, v) => n * v.length, 1);
  if (combos > 500) ctx.addIssue({ code: 'custom', message: `${combos} combinations; at most 500`, path: ['grid'] });
  const schema = parametersSchema(def.parameters).partial();
  for (const [name, values] of Object.entries(b.grid)) {
    for (const v of values) {
      const parsed = schema.safeParse({ [name]: v });
      if (!parsed.success) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)}: ${parsed.error.issues[0].message}`, path: ['grid', name] });
    }
  }
}

export const sweepBodySchema = z.object(sweepFields).strict()
  .refine((b) => b.from < b.to, { message: 'must be after from', path: ['to'] })
  .superRefine(checkGrid);

export const walkForwardBodySchema = z.object({
  ...sweepFields,
  folds: z.number().int().min(1).max(50),
  inSampleDays: z.number().int().min(30).max(3650),
}).strict()
  .refine((b) => b.from < b.to, { message: 'must be after from', path: ['to'] })
  .superRefine(checkGrid);

export const sweepWorkflowId = (id: string) => `sweep-${id}`;

export async function startSweep(client: Client, body: z.infer<typeof sweepBodySchema>, execution: ExecutionConfig) {
  const id = `bt-sw${randomUUID().slice(0, 6)}`;
  const handle = await client.workflow.start(sweepWorkflow, {
    workflowId: sweepWorkflowId(id),
    taskQueue: TASK_QUEUES.backtest,
    args: [{
      id, metric: body.metric, grid: body.grid,
      base: { strategy: body.strategy, assets: body.assets, from: body.from, to: body.to, initialCapital: body.initialCapital, conventions: { ...defaultConventions(execution), ...body.conventions } },
    }],
    typedSearchAttributes: [{ key: MTS_STRATEGIES, value: [body.strategy] }, { key: MTS_ASSETS, value: body.assets }],
  });
  return { id, workflowId: handle.workflowId };
}

export const walkForwardWorkflowId = (id: string) => `walkforward-${id}`;

export async function startWalkForward(client: Client, body: z.infer<typeof walkForwardBodySchema>, execution: ExecutionConfig) {
  const id = `bt-wf${randomUUID().slice(0, 6)}`;
  const handle = await client.workflow.start(walkForwardWorkflow, {
    workflowId: walkForwardWorkflowId(id),
    taskQueue: TASK_QUEUES.backtest,
    args: [{
      id, from: body.from, to: body.to, initialCapital: body.initialCapital, grid: body.grid, metric: body.metric, folds: body.folds, inSampleDays: body.inSampleDays,
      base: { strategy: body.strategy, assets: body.assets, conventions: { ...defaultConventions(execution), ...body.conventions } },
    }],
    typedSearchAttributes: [{ key: MTS_STRATEGIES, value: [body.strategy] }, { key: MTS_ASSETS, value: body.assets }],
  });
  return { id, workflowId: handle.workflowId };
}
