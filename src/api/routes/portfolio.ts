import { Router } from 'express';
import { z } from 'zod';
import { equityCurve, markedPositions, performance, PortfolioNotFoundError, portfolioSummary, trades } from '../../services/portfolio';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';
import { definitionList, lineChart, money, num, page, pct, table } from '../views/report';

export const tradesQuery = z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(500) });

function notFound(err: unknown): never {
  if (err instanceof PortfolioNotFoundError) throw new HttpError(404, 'not_found', err.message);
  throw err;
}

export function portfolioRouter(ctx: ApiContext): Router {
  const router = Router();
  const id = ctx.execution.portfolioId;
  router.get('/', async (_req, res) => {
    res.json(await portfolioSummary(ctx.db, id).catch(notFound));
  });
  router.get('/positions', async (_req, res) => {
    res.json({ positions: await markedPositions(ctx.db, id) });
  });
  router.get('/trades', async (req, res) => {
    const { limit } = parseInput(tradesQuery, req.query, 'query');
    res.json({ trades: await trades(ctx.db, id, limit, ctx.execution.symbols) });
  });
  router.get('/performance', async (_req, res) => {
    res.json(await performance(ctx.db, id).catch(notFound));
  });
  router.get('/report.html', async (_req, res) => {
    const [summary, curve, perf, fills] = await Promise.all([
      portfolioSummary(ctx.db, id), equityCurve(ctx.db, id), performance(ctx.db, id), trades(ctx.db, id, 1000, ctx.execution.symbols),
    ]).catch(notFound);
    const m = perf.metrics;
    const body = [
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
