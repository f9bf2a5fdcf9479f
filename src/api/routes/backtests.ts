import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import {
  backtestBodySchema, backtestListQuery, backtestResult, backtestResultQuery, backtestWorkflowId, recentBacktests, resolveBacktest, startBacktest,
  startSweep, startWalkForward, sweepBodySchema, walkForwardBodySchema,
} from '../../services/backtests';
import { sweepWorkflowId, walkForwardWorkflowId } from '../../temporal/analysis-ids';
import { describeRun, RunNotFoundError } from '../../services/runs';
import { operator } from '../auth';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';
import { definitionList, lineChart, money, num, page, pct, table } from '../views/report';

const params = z.object({ id: z.string().regex(/^bt-[\w-]+$/, 'a backtest id such as bt-1a2b3c4d') });

export function backtestsRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json(await recentBacktests(ctx.db, parseInput(backtestListQuery, req.query, 'query')));
  });

  router.post('/', operator, async (req, res) => {
    const body = parseInput(backtestBodySchema, req.body, 'body');
    res.status(202).json(await startBacktest(ctx.temporal, resolveBacktest(body, ctx.execution)));
  });

  router.post('/sweeps', operator, async (req, res) => {
    const body = parseInput(sweepBodySchema, req.body, 'body');
    res.status(202).json(await startSweep(ctx.temporal, body, ctx.execution));
  });

  /** Status and progress while a sweep or walk-forward runs; its result once it has finished. */
  const composite = (kind: string, workflowIdFor: (id: string) => string) => async (req: Request, res: Response) => {
    const { id } = parseInput(params, req.params, 'params');
    const run = await describeRun(ctx.temporal, workflowIdFor(id)).catch((err) => {
      if (err instanceof RunNotFoundError) throw new HttpError(404, 'not_found', `no ${kind} "${id}"`);
      throw err;
    });
    res.json({ id, workflowId: run.workflowId, status: run.status, progress: run.progress, failure: run.failure, result: run.result });
  };
  router.get('/sweeps/:id', composite('sweep', sweepWorkflowId));

  router.post('/walk-forward', operator, async (req, res) => {
    const body = parseInput(walkForwardBodySchema, req.body, 'body');
    res.status(202).json(await startWalkForward(ctx.temporal, body, ctx.execution));
  });
  router.get('/walk-forward/:id', composite('walk-forward', walkForwardWorkflowId));

  router.get('/:id', async (req, res) => {
    const { id } = parseInput(params, req.params, 'params');
    const run = await describeRun(ctx.temporal, backtestWorkflowId(id)).catch((err) => {
      if (err instanceof RunNotFoundError) throw new HttpError(404, 'not_found', `no backtest "${id}"`);
      throw err;
    });
    // Once finished, the summary (bars, final equity, return, Sharpe, drawdown, trades) stands where the progress stood.
    res.json({ id, workflowId: run.workflowId, status: run.status, startTime: run.startTime, closeTime: run.closeTime, failure: run.failure, progress: run.progress, summary: run.result });
  });

  const result = async (req: Request) => {
    const { id } = parseInput(params, req.params, 'params');
    const r = await backtestResult(ctx.db, id, parseInput(backtestResultQuery, req.query, 'query'));
    if (!r) throw new HttpError(404, 'not_found', `backtest "${id}" has no result (yet): see GET /api/v1/backtests/${id}`);
    return r;
  };

  router.get('/:id/result', async (req, res) => {
    res.json(await result(req));
  });

  router.get('/:id/report.html', async (req, res) => {
    const r = await result(req);
    const { id } = r;
    const m = r.metrics as Record<string, number | null>;
    // Intraday bars need the time of day; daily ones only the date.
    const daily = ((r.conventions as { bar?: string }).bar ?? '1d') === '1d';
    const when = (ms: number) => new Date(ms).toISOString().slice(0, daily ? 10 : 16).replace('T', ' ');
    let peak = -Infinity;
    const byRule = (counts: Record<string, number>) => Object.entries(counts).map(([rule, n]) => `${n} by ${rule}`).join(', ') || 'none';
    const body = [
      definitionList([
        ['Strategy', `${r.strategy} ${JSON.stringify(r.parameters)}`], ['Assets', r.assets.join(', ')], ['Period', `${r.from} … ${r.to}`],
        ['Initial capital', money(r.initialCapital)], ['Final value', money(r.finalValue)], ['Total return', pct(m.totalReturn)],
        ['Buy and hold', pct(r.buyAndHoldReturn)], ['Annualised return', pct(m.annualizedReturn)], ['Volatility', pct(m.volatility)],
        ['Sharpe', num(m.sharpe)], ['Sortino', num(m.sortino)], ['Max drawdown', `${pct(m.maxDrawdownPct)} (${money(m.maxDrawdown)})`],
        ['Calmar', num(m.calmar)], ['Trades', String(m.tradeCount)], ['Win rate', pct(m.winRate)], ['Profit factor', num(m.profitFactor)],
        ['Exposure time', pct(r.exposureTime)], ['Signals refused', byRule(r.rejectionsByRule)], ['Trades shrunk by a cap', byRule(r.shrunkByRule)],
        ['Annualised with', `${m.periodsPerYear ?? '—'} periods a year (from the data's calendar unless set)`],
      ]),
      lineChart('Equity', r.equity.map((e) => ({ t: e.time, v: e.equity })), { color: '#2c7be5', format: money }),
      lineChart('Drawdown', r.equity.map((e) => { peak = Math.max(peak, e.equity); return { t: e.time, v: e.equity / peak - 1 }; }), { color: '#e55353', format: pct }),
      '<h2>Trades</h2>',
      r.tradesPage.returned < r.tradesPage.stored
        ? `<p>Trades ${r.tradesPage.offset + 1}–${r.tradesPage.offset + r.tradesPage.returned} of ${r.tradesPage.stored} (tradeOffset, tradeLimit).</p>` : '',
      table(['Asset', 'Direction', 'Entry', 'Entry price', 'Exit', 'Exit price', 'Quantity', 'Fees', 'P&L', 'Return'],
        r.trades.map((t) => [t.asset, t.direction, when(t.entryTime), num(t.entryPrice), t.exitTime ? when(t.exitTime) : 'open',
          num(t.exitPrice), num(t.quantity, 6), num(t.fees), num(t.pnl), pct(t.returnPct)])),
      '<h2>Conventions</h2>',
      definitionList(Object.entries(r.conventions as Record<string, unknown>).map(([k, v]) => [k, JSON.stringify(v)])),
    ].join('\n');
    res.type('html').send(page(`MTS backtest ${id}`, body));
  });
  return router;
}
