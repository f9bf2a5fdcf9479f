import { z } from 'zod';
import { backtestBodySchema, backtestListQuery, backtestResultQuery, sweepBodySchema, walkForwardBodySchema } from '../services/backtests';
import { externalSignalSchema } from '../services/external-signals';
import { pricesQuery } from './routes/prices';
import { alertsQuery } from './routes/alerts';
import { auditQuery } from './routes/audit';
import { backfillBody, collectBody } from '../services/collections';
import { candleQuery, chartQuery, macroQuery } from './routes/market-data';
import { assessmentsQuery, equityQuery, tradesQuery } from './routes/portfolio';
import { assessBody } from './routes/risk';
import { runsQuery } from './routes/runs';
import { noteBody } from './routes/schedules';
import { generateBody, signalsQuery } from './routes/signals';

type Role = 'none' | 'any' | 'operator' | 'trader' | 'admin';
export interface Operation { method: 'get' | 'post'; path: string; summary: string; role: Role; body?: z.ZodType; query?: z.ZodType; status?: number }

/** Every route, with the zod schemas the routers validate with: the document cannot drift from the code. */
export const OPERATIONS: Operation[] = [
  { method: 'get', path: '/health', summary: 'Liveness', role: 'none' },
  { method: 'get', path: '/ready', summary: 'Postgres and Temporal reachable (200) or not (503)', role: 'none' },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', role: 'none' },
  { method: 'get', path: '/api/v1/schedules', summary: 'Collection and snapshot Schedules', role: 'any' },
  ...(['pause', 'unpause', 'trigger'] as const).map((a): Operation => ({ method: 'post', path: `/api/v1/schedules/{id}/${a}`, summary: `${a[0].toUpperCase()}${a.slice(1)} a Schedule`, role: 'operator', body: noteBody })),
  { method: 'post', path: '/api/v1/collections', summary: 'Collect a tier or assets now', role: 'operator', body: collectBody, status: 202 },
  { method: 'get', path: '/api/v1/collections/status', summary: 'Per-asset collection health and the daily API budget', role: 'any' },
  { method: 'post', path: '/api/v1/backfills', summary: 'Fill gaps for assets over a range', role: 'operator', body: backfillBody, status: 202 },
  { method: 'get', path: '/api/v1/market-data/coverage', summary: 'Each asset\'s stored intervals with their first and last bar', role: 'any' },
  { method: 'get', path: '/api/v1/market-data/{asset}/candles', summary: 'Stored OHLCV bars', role: 'any', query: candleQuery },
  { method: 'get', path: '/api/v1/macro/{indicator}', summary: 'Stored macro observations', role: 'any', query: macroQuery },
  { method: 'get', path: '/api/v1/runs', summary: 'Workflow runs', role: 'any', query: runsQuery },
  { method: 'get', path: '/api/v1/runs/{workflowId}', summary: 'One run: status, failure, progress', role: 'any' },
  { method: 'post', path: '/api/v1/runs/{workflowId}/retry', summary: 'Re-run a failed or terminated run', role: 'operator', status: 202 },
  { method: 'post', path: '/api/v1/runs/{workflowId}/cancel', summary: 'Cancel a running workflow', role: 'operator', status: 202 },
  { method: 'post', path: '/api/v1/signals/generate', summary: 'Run the strategies now, at asOf or over a range', role: 'operator', body: generateBody, status: 202 },
  { method: 'get', path: '/api/v1/signals', summary: 'Stored signals', role: 'any', query: signalsQuery },
  { method: 'post', path: '/api/v1/signals', summary: 'Trade an external signal (once)', role: 'trader', body: externalSignalSchema, status: 202 },
  { method: 'get', path: '/api/v1/strategies', summary: 'Strategy configs and parameter specs', role: 'any' },
  { method: 'get', path: '/api/v1/alerts', summary: 'Stored alerts', role: 'any', query: alertsQuery },
  { method: 'get', path: '/api/v1/me', summary: 'The calling key\'s name and role', role: 'any' },
  { method: 'get', path: '/api/v1/market-data/{asset}/chart', summary: 'Candles of one interval (built from a shorter stored one when none are stored) merged down to maxBars, for a chart', role: 'any', query: chartQuery },
  { method: 'get', path: '/api/v1/alerts/stream', summary: 'Live alerts (Server-Sent Events)', role: 'any' },
  { method: 'get', path: '/api/v1/prices', summary: 'Latest streamed price of each asset, with its age', role: 'any', query: pricesQuery },
  { method: 'get', path: '/api/v1/prices/stream', summary: 'Live streamed prices (Server-Sent Events)', role: 'any', query: pricesQuery },
  { method: 'post', path: '/api/v1/assess-risk', summary: 'Risk assessment of a signal (in-process)', role: 'any', body: assessBody },
  { method: 'get', path: '/api/v1/portfolio', summary: 'Cash, equity, P&L, drawdown, heat', role: 'any' },
  { method: 'get', path: '/api/v1/portfolio/positions', summary: 'Open positions, marked', role: 'any' },
  { method: 'get', path: '/api/v1/portfolio/trades', summary: 'Fills', role: 'any', query: tradesQuery },
  { method: 'get', path: '/api/v1/portfolio/risk', summary: 'The book against every risk limit: drawdown, daily loss, open stops, exposures, sectors, volatility, liquidity, correlations', role: 'any' },
  { method: 'get', path: '/api/v1/portfolio/assessments', summary: 'Stored risk assessments, newest first', role: 'any', query: assessmentsQuery },
  { method: 'get', path: '/api/v1/portfolio/equity', summary: 'Equity curve and drawdown from the snapshots, thinned', role: 'any', query: equityQuery },
  { method: 'get', path: '/api/v1/portfolio/performance', summary: 'Performance metrics and their conventions', role: 'any' },
  { method: 'get', path: '/api/v1/portfolio/report.html', summary: 'HTML report', role: 'any' },
  { method: 'get', path: '/api/v1/backtests', summary: 'The newest stored backtests with their headline figures (sweeps\' and walk-forwards\' children with children=true)', role: 'any', query: backtestListQuery },
  { method: 'post', path: '/api/v1/backtests', summary: 'Start a backtest', role: 'operator', body: backtestBodySchema, status: 202 },
  { method: 'get', path: '/api/v1/backtests/{id}', summary: 'Backtest status and progress', role: 'any' },
  { method: 'get', path: '/api/v1/backtests/{id}/result', summary: 'Backtest metrics, a page of trades and the equity curve thinned to about `points`', role: 'any', query: backtestResultQuery },
  { method: 'get', path: '/api/v1/backtests/{id}/report.html', summary: 'Backtest HTML report', role: 'any', query: backtestResultQuery },
  { method: 'post', path: '/api/v1/backtests/sweeps', summary: 'Start a parameter sweep', role: 'operator', body: sweepBodySchema, status: 202 },
  { method: 'get', path: '/api/v1/backtests/sweeps/{id}', summary: 'Sweep status and ranking', role: 'any' },
  { method: 'post', path: '/api/v1/backtests/walk-forward', summary: 'Start a walk-forward analysis', role: 'operator', body: walkForwardBodySchema, status: 202 },
  { method: 'get', path: '/api/v1/backtests/walk-forward/{id}', summary: 'Walk-forward status and folds', role: 'any' },
  { method: 'get', path: '/api/v1/audit', summary: 'The audit log of mutating calls, newest first', role: 'admin', query: auditQuery },
];

const jsonSchema = (s: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const errorSchema = {
  type: 'object', required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
};

/** OpenAPI 3.1 for the whole API, built from the routers' zod schemas. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = op.query ? Object.entries((jsonSchema(op.query).properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({ name, in: 'query', required: false, schema })) : [];
    const responses: Record<string, unknown> = { [String(op.status ?? 200)]: { description: 'OK' }, 400: { description: 'A field is invalid', content: { 'application/json': { schema: errorSchema } } } };
    if (op.role !== 'none') {
      responses[401] = { description: 'No or unknown API key', content: { 'application/json': { schema: errorSchema } } };
      if (op.role !== 'any') responses[403] = { description: op.role === 'admin' ? 'Needs the admin role' : `Needs the ${op.role} or admin role`, content: { 'application/json': { schema: errorSchema } } };
      responses[503] = { description: 'Postgres or Temporal is not reachable (database_unavailable, temporal_unavailable): retry after Retry-After', content: { 'application/json': { schema: errorSchema } } };
    }
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      ...(op.role === 'none' ? { security: [] } : {}),
      ...(op.role === 'operator' || op.role === 'trader' || op.role === 'admin' ? { 'x-mts-role': op.role } : {}),
      parameters: [...pathParams, ...query],
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'MTS API', version: '1', description: 'Market data, signals, risk, paper trading and backtests on Temporal. Keys: Authorization: Bearer <key>.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
