import { Router } from 'express';
import { z } from 'zod';
import { shortestStrategyBar } from '../../config/strategies';
import { assessments, equityCurve, thinnedEquityCurve, markedPositions, performance, portfolioRisk, portfolioSummary, trades } from '../../services/portfolio';
import type { ApiContext } from '../context';
import { parseInput } from '../errors';
import { assetName } from '../../services/limits';
import { definitionList, lineChart, money, num, page, pct, table } from '../views/report';

export const equityQuery = z.object({ points: z.coerce.number().int().min(10).max(5000).default(1000) });
export const tradesQuery = z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(500) });
export const assessmentsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  asset: assetName.optional(),
  approved: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

export function portfolioRouter(ctx: ApiContext): Router {
  const router = Router();
  const id = ctx.execution.portfolioId;
  // Before the first trade the portfolio is its starting cash: every view answers 200 and says so.
  const capital = ctx.initialCapital;
  router.get('/', async (_req, res) => {
    res.json(await portfolioSummary(ctx.db, id, capital));
  });
  router.get('/positions', async (_req, res) => {
    res.json({ positions: await markedPositions(ctx.db, id) });
  });
  router.get('/trades', async (req, res) => {
    const { limit } = parseInput(tradesQuery, req.query, 'query');
    res.json({ trades: await trades(ctx.db, id, limit, ctx.execution.symbols) });
  });
  router.get('/risk', async (_req, res) => {
    res.json(await portfolioRisk(ctx.db, id, { risk: ctx.risk, initialCapital: capital, barMinutes: shortestStrategyBar(ctx.strategies) }));
  });
  router.get('/assessments', async (req, res) => {
    const query = parseInput(assessmentsQuery, req.query, 'query');
    res.json({ assessments: await assessments(ctx.db, id, query) });
  });
  /** The equity curve and its drawdown from the snapshots, thinned to about `points` (troughs and peaks kept). */
  router.get('/equity', async (req, res) => {
    const { points } = parseInput(equityQuery, req.query, 'query');
    res.json({ points: await thinnedEquityCurve(ctx.db, id, capital, points) });
  });
  router.get('/performance', async (_req, res) => {
    res.json(await performance(ctx.db, id, capital));
  });
  router.get('/report.html', async (_req, res) => {
    const [summary, curve, perf, fills] = await Promise.all([
      portfolioSummary(ctx.db, id, capital), equityCurve(ctx.db, id, capital), performance(ctx.db, id, capital), trades(ctx.db, id, 1000, ctx.execution.symbols),
    ]);
    const m = perf.metrics;
    const body = [
      ...(fills.length === 0 ? ['<p><strong>No trades yet.</strong> The portfolio is its starting cash. Start <code>npm start</code> and post a signal (<code>POST /api/v1/signals</code>), or let the strategies trade.</p>'] : []),
      definitionList([
        ['Equity', money(summary.equity)], ['Cash', money(summary.cash)], ['Realised P&L', money(summary.realizedPnl)],
        ['Unrealised P&L', money(summary.unrealizedPnl)], ['Fees', money(summary.feesPaid)], ['Drawdown', pct(summary.drawdown)],
        ['Total return', pct(m.totalReturn)], ['Annualised return', pct(m.annualizedReturn)], ['Volatility', pct(m.volatility)],
        ['Sharpe', num(m.sharpe)], ['Sortino', num(m.sortino)], ['Max drawdown', `${pct(m.maxDrawdownPct)} (${money(m.maxDrawdown)})`],
        ['Calmar', num(m.calmar)], ['VaR 95%', pct(m.var95)], ['Trades closed', String(m.tradeCount)], ['Win rate', pct(m.winRate)],
        ['Profit factor', num(m.profitFactor)], ['Expectancy', money(m.expectancy)],
      ]),
      lineChart('Equity', curve.points.map((p) => ({ t: p.timestamp, v: p.equity })), { color: '#2c7be5', format: money }),
      lineChart('Drawdown', curve.points.map((p, i) => ({ t: p.timestamp, v: -curve.drawdown[i] })), { color: '#e55353', format: (v) => pct(-v) }),
      '<h2>Trades</h2>',
      table(['Time', 'Asset', 'Symbol', 'Side', 'Quantity', 'Price', 'Fee', 'Slippage', 'Realised P&L', 'Reason'],
        fills.map((t) => [t.time, t.asset, t.symbol ?? '', t.side, num(t.quantity, 6), num(t.price), num(t.fee), num(t.slippage), num(t.realizedPnl), t.reason ?? 'signal'])),
      '<h2>Conventions</h2>',
      definitionList(Object.entries(perf.conventions).map(([k, v]) => [k, String(v)])),
    ].join('\n');
    res.type('html').send(page(`MTS paper portfolio "${id}"`, body));
  });
  return router;
}
