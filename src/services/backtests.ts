import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { ExecutionConfig } from '../config/execution';
import type { Database } from '../db/client';
import { loadResult, recentResults } from '../db/backtests';
import { STRATEGY_DEFINITIONS } from '../domain/strategies';
import { thinnedIndices } from '../domain/thinning';
import { BAR_MINUTES, BAR_SIZES, DEFAULT_BAR } from '../domain/types';
import { assetList, instant, LIMITS, strategyName } from './limits';
import { type ParameterSpec, parametersSchema } from '../domain/strategies/framework';
import { ANALYSIS_ID_PREFIXES, newSweepId, newWalkForwardId, sweepWorkflowId, walkForwardWorkflowId } from '../temporal/analysis-ids';
import { MTS_ASSETS, MTS_STRATEGIES } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { backtestWorkflow } from '../workflows/backtest';
import { sweepWorkflow } from '../workflows/sweep';
import { walkForwardWorkflow } from '../workflows/walk-forward';
import type { BacktestConventionsInput, BacktestRequest } from '../workflows/types';

const time = instant;
const capital = z.number().positive().max(LIMITS.maxCapital, `at most ${LIMITS.maxCapital.toExponential()} USD`).default(10_000);

/** Bars a run replays: its span in bars of the replayed size, for every asset. */
function checkBars(b: { from: number; to: number; assets: string[]; conventions: { bar?: keyof typeof BAR_MINUTES } }, ctx: z.RefinementCtx) {
  const bars = Math.ceil((b.to - b.from) / (BAR_MINUTES[b.conventions.bar ?? '15m'] * 60_000)) * b.assets.length;
  if (bars > LIMITS.backtestBars) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: `the run would replay ${bars.toLocaleString('en-US')} bars; at most ${LIMITS.backtestBars.toLocaleString('en-US')} (shorten the range, use fewer assets or a longer bar)` });
  }
}

export const conventionsSchema = z.object({
  trailingStopPct: z.number().positive().max(0.5).nullable(),
  stopCooldownMinutes: z.number().int().min(0).max(525_600),
  periodsPerYear: z.number().positive().max(366 * 24 * 60),
  bar: z.enum(BAR_SIZES),
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


/** One strategy (`strategy`), several aggregated (`strategies`), or the live ensemble (`strategies: "live"`). */
const strategySelection = {
  strategy: strategyName.optional(),
  strategies: z.union([z.literal('live'), z.array(strategyName).min(1).max(10)]).optional(),
};
type Selection = { strategy?: string; strategies?: 'live' | string[] };

function checkSelection(b: Selection, ctx: z.RefinementCtx) {
  if ((b.strategy === undefined) === (b.strategies === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give either strategy (one) or strategies (a list, or "live")', path: ['strategies'] });
  }
}

/** The strategies a selection names; `live` is every strategy definition (the enabled ones are chosen at run time). */
const namesOf = (b: Selection): string[] =>
  b.strategy !== undefined ? [b.strategy] : b.strategies === 'live' ? Object.keys(STRATEGY_DEFINITIONS) : (b.strategies ?? []);

/**
 * A parameter name as `strategy.parameter`; a plain name is allowed when one strategy is selected.
 * Returns the qualified name, or an error message.
 */
function qualify(key: string, b: Selection): { name: string; strategy: string; parameter: string } | string {
  const names = namesOf(b);
  const dot = key.indexOf('.');
  if (dot < 0) {
    if (b.strategy === undefined) return 'name the strategy: strategy.parameter (several strategies are selected)';
    return { name: `${b.strategy}.${key}`, strategy: b.strategy, parameter: key };
  }
  const strategy = key.slice(0, dot);
  if (!names.includes(strategy)) return `"${strategy}" is not one of the selected strategies (${names.join(', ')})`;
  return { name: key, strategy, parameter: key.slice(dot + 1) };
}

/** A parameter of a selected strategy, with its strategy's specs to check values against. */
interface NamedParameter { parameter: string; specs: ParameterSpec[] }

/** The parameter a name stands for among the selected strategies; an issue at `path` when it stands for none. */
function parameterNamed(key: string, b: Selection, path: (string | number)[], ctx: z.RefinementCtx): NamedParameter | undefined {
  const q = qualify(key, b);
  if (typeof q === 'string') { ctx.addIssue({ code: 'custom', message: q, path }); return undefined; }
  if (!Object.hasOwn(STRATEGY_DEFINITIONS, q.strategy)) { ctx.addIssue({ code: 'custom', message: `"${q.strategy}" is not a strategy`, path }); return undefined; }
  const specs = STRATEGY_DEFINITIONS[q.strategy].parameters;
  if (!specs.some((spec) => spec.name === q.parameter)) {
    ctx.addIssue({ code: 'custom', message: `${q.strategy} has no parameter "${q.parameter}" (it has ${specs.map((spec) => spec.name).join(', ')})`, path });
    return undefined;
  }
  return { parameter: q.parameter, specs };
}

/** Checks a value against its parameter's spec; an issue at `path` when it does not fit. */
function checkValue({ parameter, specs }: NamedParameter, value: number | string, path: (string | number)[], ctx: z.RefinementCtx) {
  const parsed = parametersSchema(specs).partial().safeParse({ [parameter]: value });
  if (!parsed.success) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)}: ${parsed.error.issues[0].message}`, path });
}

/** A parameter named twice (`fast` beside `sma_crossover.fast`) in params or a grid: an issue at the second name. */
function checkNamedOnce(names: string[], b: Selection, field: 'params' | 'grid', ctx: z.RefinementCtx) {
  const namedAs = new Map<string, string>();
  for (const name of names) {
    const q = qualify(name, b);
    if (typeof q === 'string') continue;
    const earlier = namedAs.get(q.name);
    if (earlier !== undefined) ctx.addIssue({ code: 'custom', message: `the same parameter as "${earlier}" (${q.name})`, path: [field, name] });
    else namedAs.set(q.name, name);
  }
}

/** Parameter names (of params or a grid) qualified as `strategy.parameter`: what requests carry from the edge on. */
function qualified<V>(byName: Record<string, V>, b: Selection): Record<string, V> {
  return Object.fromEntries(Object.entries(byName).map(([k, v]) => {
    const q = qualify(k, b);
    return [typeof q === 'string' ? k : q.name, v];
  }));
}

const selected = (b: Selection) => ({ strategies: b.strategy !== undefined ? [b.strategy] : b.strategies === 'live' ? [] : b.strategies!, live: b.strategies === 'live' });

export const backtestBodySchema = z.object({
  ...strategySelection,
  params: z.record(z.string().max(128), z.union([z.number(), z.string().max(64)])).default({}),
  assets: assetList,
  from: time,
  to: time,
  initialCapital: capital,
  conventions: conventionsSchema.partial().default({}),
}).strict()
  .refine((b) => b.from < b.to, { message: 'must be after from', path: ['to'] })
  .superRefine((b, ctx) => {
    checkSelection(b, ctx);
    checkBars(b, ctx);
    for (const [k, v] of Object.entries(b.params)) {
      const named = parameterNamed(k, b, ['params', k], ctx);
      if (named) checkValue(named, v, ['params', k], ctx);
    }
    checkNamedOnce(Object.keys(b.params), b, 'params', ctx);
  });

/** Paper trading's conventions: the default, so a backtest behaves like the live portfolio unless told otherwise. */
export function defaultConventions(execution: ExecutionConfig): BacktestConventionsInput {
  return {
    bar: DEFAULT_BAR, fillAt: 'next_open', fillModel: execution.fillModel, sizing: { kind: 'risk' }, units: 'fractional', allowShort: true, protective: true, closeAtEnd: true,
  };
}

export function resolveBacktest(body: z.infer<typeof backtestBodySchema>, execution: ExecutionConfig): BacktestRequest {
  return {
    id: `bt-${randomUUID().slice(0, 8)}`,
    ...selected(body), params: qualified(body.params, body), assets: body.assets, from: body.from, to: body.to, initialCapital: body.initialCapital,
    conventions: conventionsFor(body, execution),
  };
}

/** Paper trading's conventions under the request's; the live system replays its shortest strategy bar unless told a bar. */
function conventionsFor(body: Selection & { conventions: Partial<BacktestConventionsInput> }, execution: ExecutionConfig): BacktestConventionsInput {
  const { bar, ...defaults } = defaultConventions(execution);
  return { ...defaults, ...(body.strategies === 'live' ? {} : { bar }), ...body.conventions };
}

export const backtestWorkflowId = (id: string) => `backtest-${id}`;

/** Runs are findable by strategy: the named ones, or "live". */
const strategyAttribute = (r: { strategies: string[]; live?: boolean }) => (r.live ? ['live'] : r.strategies);

export async function startBacktest(client: Client, req: BacktestRequest) {
  const handle = await client.workflow.start(backtestWorkflow, {
    workflowId: backtestWorkflowId(req.id),
    taskQueue: TASK_QUEUES.backtest,
    args: [req],
    typedSearchAttributes: [{ key: MTS_STRATEGIES, value: strategyAttribute(req) }, { key: MTS_ASSETS, value: req.assets }],
  });
  return { id: req.id, workflowId: handle.workflowId };
}

/** `GET /backtests`: the newest results, and whether sweeps' and walk-forwards' children are among them. */
export const backtestListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  children: z.enum(['true', 'false']).transform((v) => v === 'true').default(false),
});

/** The newest stored backtests, each with its headline figures: what a reader picks one to open from. */
export async function recentBacktests(db: Database, q: z.infer<typeof backtestListQuery>) {
  const rows = await recentResults(db, { limit: q.limit, excludedPrefixes: q.children ? [] : ANALYSIS_ID_PREFIXES });
  return {
    backtests: rows.map((r) => ({
      id: r.backtestId, strategy: r.strategyName, assets: r.assets, from: r.startDate, to: r.endDate, initialCapital: r.initialCapital,
      finalValue: r.finalValue, totalReturn: r.totalReturn, sharpe: r.sharpeRatio, maxDrawdownPct: r.maxDrawdown, tradeCount: r.tradeCount,
      storedAt: r.createdAt,
    })),
  };
}

/** The bounds of `GET /backtests/:id/result` and its report: a six-year minute-bar run has ~3 million points. */
export const backtestResultQuery = z.object({
  points: z.coerce.number().int().min(10).max(100_000).default(2000),
  tradeOffset: z.coerce.number().int().min(0).default(0),
  tradeLimit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

/**
 * How much of a stored result a reader gets: the curve thinned to about `points` (each stretch's
 * lowest and highest point kept, and the first and last), and a page of trades; all of either when
 * left out. The API always bounds both (`backtestResultQuery`).
 */
export type ResultView = Partial<z.infer<typeof backtestResultQuery>>;

export async function backtestResult(db: Database, id: string, view: ResultView = {}) {
  const stored = await loadResult(db, id, { offset: view.tradeOffset, limit: view.tradeLimit });
  if (!stored) return undefined;
  const { row, trades, tradesStored, curve } = stored;
  const points = curve.time.length;
  const shown = thinnedIndices(curve.equity, view.points === undefined ? Infinity : Math.ceil(view.points / 2));
  return {
    id,
    strategy: row.strategyName, assets: row.assets, parameters: row.parameters, conventions: row.conventions,
    from: row.startDate, to: row.endDate, initialCapital: row.initialCapital, finalValue: row.finalValue,
    metrics: row.metrics, buyAndHoldReturn: row.buyAndHoldReturn, exposureTime: row.exposureTime,
    rejectionsByRule: row.ruleCounts.rejected, shrunkByRule: row.ruleCounts.shrunk,
    // Stored as they close; shown in the order they opened.
    trades: trades.map(({ id: _id, backtestId: _b, ...t }) => t),
    tradesPage: { offset: view.tradeOffset ?? 0, returned: trades.length, stored: tradesStored },
    equity: shown.map((i) => ({ time: curve.time[i], equity: curve.equity[i] })),
    equityPoints: { stored: points, returned: shown.length },
  };
}

const sweepFields = {
  ...strategySelection,
  assets: assetList,
  from: time,
  to: time,
  initialCapital: capital,
  conventions: conventionsSchema.partial().default({}),
  // An empty grid would run one backtest at the defaults and call it a sweep.
  grid: z.record(z.string().max(128), z.array(z.union([z.number(), z.string().max(64)])).min(1).max(50))
    .refine((g) => Object.keys(g).length > 0, 'names no parameter: give at least one with its values'),
  metric: z.enum(['sharpe', 'totalReturn', 'maxDrawdownPct', 'finalEquity']).default('sharpe'),
};

/** The grid's names and values must each be valid for the selected strategies' parameter specs. */
function checkGrid(b: Selection & { grid: Record<string, Array<number | string>>; folds?: number }, ctx: z.RefinementCtx) {
  checkSelection(b, ctx);
  const combos = Object.values(b.grid).reduce((n, v) => n * v.length, 1);
  // A walk-forward sweeps every fold and then runs each fold's best: combinations × folds + folds.
  const children = b.folds === undefined ? combos : combos * b.folds + b.folds;
  if (children > LIMITS.childBacktests) {
    const what = b.folds === undefined ? `${combos} combinations` : `${combos} combinations × ${b.folds} folds + ${b.folds} = ${children} backtests`;
    ctx.addIssue({ code: 'custom', message: `${what}; at most ${LIMITS.childBacktests}`, path: [b.folds === undefined ? 'grid' : 'folds'] });
  }
  for (const [name, values] of Object.entries(b.grid)) {
    // The name once, then each value.
    const named = parameterNamed(name, b, ['grid', name], ctx);
    values.forEach((v, k) => {
      if (named) checkValue(named, v, ['grid', name, k], ctx);
      // A repeated value would run the same backtest twice.
      const first = values.indexOf(v);
      if (first < k) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is already value ${first}`, path: ['grid', name, k] });
    });
  }
  // One list would be dropped for the other.
  checkNamedOnce(Object.keys(b.grid), b, 'grid', ctx);
}

export const sweepBodySchema = z.object(sweepFields).strict()
  .refine((b) => b.from < b.to, { message: 'must be after from', path: ['to'] })
  .superRefine(checkGrid)
  .superRefine(checkBars);

export const walkForwardBodySchema = z.object({
  ...sweepFields,
  folds: z.number().int().min(1).max(50),
  inSampleDays: z.number().int().min(30).max(3650),
}).strict()
  .refine((b) => b.from < b.to, { message: 'must be after from', path: ['to'] })
  .superRefine(checkGrid);

export async function startSweep(client: Client, body: z.infer<typeof sweepBodySchema>, execution: ExecutionConfig) {
  const id = newSweepId(randomUUID().slice(0, 6));
  const handle = await client.workflow.start(sweepWorkflow, {
    workflowId: sweepWorkflowId(id),
    taskQueue: TASK_QUEUES.backtest,
    args: [{
      id, metric: body.metric, grid: qualified(body.grid, body),
      base: { ...selected(body), assets: body.assets, from: body.from, to: body.to, initialCapital: body.initialCapital, conventions: conventionsFor(body, execution) },
    }],
    typedSearchAttributes: [{ key: MTS_STRATEGIES, value: strategyAttribute(selected(body)) }, { key: MTS_ASSETS, value: body.assets }],
  });
  return { id, workflowId: handle.workflowId };
}

export async function startWalkForward(client: Client, body: z.infer<typeof walkForwardBodySchema>, execution: ExecutionConfig) {
  const id = newWalkForwardId(randomUUID().slice(0, 6));
  const handle = await client.workflow.start(walkForwardWorkflow, {
    workflowId: walkForwardWorkflowId(id),
    taskQueue: TASK_QUEUES.backtest,
    args: [{
      id, from: body.from, to: body.to, initialCapital: body.initialCapital, grid: qualified(body.grid, body), metric: body.metric,
      folds: body.folds, inSampleDays: body.inSampleDays,
      base: { ...selected(body), assets: body.assets, conventions: conventionsFor(body, execution) },
    }],
    typedSearchAttributes: [{ key: MTS_STRATEGIES, value: strategyAttribute(selected(body)) }, { key: MTS_ASSETS, value: body.assets }],
  });
  return { id, workflowId: handle.workflowId };
}
