import type { Database } from '../db/client';
import { fillsWithOrders, findPortfolio, latestCloses, openPositions, loadTradingState, recentAssessments, snapshots } from '../db/trading';
import { marketConditions } from '../domain/market-conditions';
import { equityColumns, type EquityPoint, performanceMetrics } from '../domain/metrics';
import { portfolioRiskReport, type RiskConfig } from '../domain/risk';
import { newTradingState, openAssets, riskView } from '../domain/trading/core';
import { thinSeries } from '../domain/thinning';
import { DAY_MS, isoDate } from '../domain/types';

/** Annualised figures from a curve shorter than this say nothing yet: they are null until it is this long. */
export const ANNUALISE_AFTER_DAYS = 30;

/** The stored portfolio, or before its first trade the fresh one it will be: its capital in cash. */
async function portfolioRow(db: Database, id: string, initialCapital: number) {
  const p = await findPortfolio(db, id);
  if (p) return p;
  const now = new Date();
  return {
    id, initialCapital, cash: initialCapital, reservedCash: 0, realizedPnl: 0, feesPaid: 0, peakEquity: initialCapital,
    pnlDay: now.toISOString().slice(0, 10), dayStartEquity: initialCapital, createdAt: now, updatedAt: now,
  };
}

/** Positions marked at the latest stored close (average price where none). */
export async function markedPositions(db: Database, id: string) {
  const open = await openPositions(db, id);
  const marks = await latestCloses(db, open.map((p) => p.asset), Date.now());
  return open.map((p) => {
    const mark = marks[p.asset] ?? p.averagePrice;
    return {
      asset: p.asset, side: p.quantity > 0 ? 'LONG' : 'SHORT', quantity: p.quantity, averagePrice: p.averagePrice, mark,
      marketValue: p.quantity * mark, unrealizedPnl: p.quantity * (mark - p.averagePrice), realizedPnl: p.realizedPnl,
      stopLoss: p.stopLoss, takeProfit: p.takeProfit, openedAt: p.openedAt?.toISOString() ?? null,
    };
  });
}

/** Cash, equity = cash + marked positions, P&L, drawdown and heat. */
export async function portfolioSummary(db: Database, id: string, initialCapital: number) {
  const p = await portfolioRow(db, id, initialCapital);
  const open = await markedPositions(db, id);
  const positionsValue = open.reduce((s, x) => s + x.marketValue, 0);
  const equity = p.cash + positionsValue;
  const peak = Math.max(p.peakEquity, equity);
  return {
    id: p.id,
    initialCapital: p.initialCapital,
    cash: p.cash,
    reservedCash: p.reservedCash,
    positionsValue,
    equity,
    realizedPnl: p.realizedPnl,
    unrealizedPnl: open.reduce((s, x) => s + x.unrealizedPnl, 0),
    feesPaid: p.feesPaid,
    peakEquity: peak,
    drawdown: peak > 0 ? 1 - equity / peak : 0,
    dailyPnl: p.pnlDay === isoDate(Date.now()) ? equity - p.dayStartEquity : 0,
    heat: equity > 0 ? open.reduce((s, x) => s + Math.abs(x.marketValue), 0) / equity : null,
    openPositions: open.length,
    ...(open.length === 0 && p.realizedPnl === 0 && p.feesPaid === 0 ? { note: 'no trades yet: the portfolio is its starting cash; post a signal (POST /api/v1/signals) or let the strategies trade' } : {}),
  };
}

export async function trades(db: Database, id: string, limit = 500, symbols: Record<string, string> = {}) {
  const rows = await fillsWithOrders(db, id, limit);
  return rows.map(({ fill: f, order: o }) => ({
    fillId: f.id, orderId: o.id, signalId: o.signalId, asset: f.asset, symbol: symbols[f.asset] ?? null, side: f.side, quantity: f.quantity, price: f.price,
    referencePrice: f.referencePrice, slippage: f.slippage, fee: f.fee, realizedPnl: f.realizedPnl, reason: o.reason,
    time: new Date(f.timestamp).toISOString(), timestamp: f.timestamp,
  }));
}

/** The equity curve: every snapshot, and the capital then each day's last equity for period statistics. */
export async function equityCurve(db: Database, id: string, initialCapital: number): Promise<{ points: EquityPoint[]; daily: EquityPoint[]; drawdown: number[] }> {
  const rows = await snapshots(db, id);
  const p = await portfolioRow(db, id, initialCapital);
  // The curve starts at the initial capital just before the first snapshot (a replay books in the past).
  const start = Math.min(p.createdAt.getTime(), (rows[0]?.timestamp ?? Infinity) - 1);
  const points = [{ timestamp: start, equity: p.initialCapital }, ...rows.map((r) => ({ timestamp: r.timestamp, equity: r.equity }))];
  // Daily: the starting capital, then each UTC day's last equity, so the first period starts at the capital.
  const byDay = new Map<number, EquityPoint>();
  for (const pt of points.slice(1)) byDay.set(Math.floor(pt.timestamp / DAY_MS), pt);
  let peak = -Infinity;
  const drawdown = points.map((pt) => { peak = Math.max(peak, pt.equity); return peak > 0 ? 1 - pt.equity / peak : 0; });
  return { points, daily: [points[0], ...byDay.values()], drawdown };
}

/** The equity curve with its drawdown, thinned to about `points` (each bucket's trough and peak kept), for a chart. */
export async function thinnedEquityCurve(db: Database, id: string, initialCapital: number, points: number) {
  const curve = await equityCurve(db, id, initialCapital);
  const all = curve.points.map((p, i) => ({ t: p.timestamp, v: p.equity, drawdown: curve.drawdown[i] }));
  return thinSeries(all, Math.ceil(points / 2)).map((p) => ({ timestamp: p.t, equity: p.v, drawdown: p.drawdown }));
}

/** Metrics on daily equity (365 periods a year, risk-free 0) and on closed trades (realised P&L less the exit fee). */
export async function performance(db: Database, id: string, initialCapital: number) {
  const curve = await equityCurve(db, id, initialCapital);
  const closed = (await trades(db, id, 100_000)).filter((t) => t.realizedPnl !== null && t.realizedPnl !== 0).map((t) => t.realizedPnl! - t.fee);
  const metrics = performanceMetrics(equityColumns(curve.daily), closed, { periodsPerYear: 365 });
  const spanDays = (curve.points.at(-1)!.timestamp - curve.points[0].timestamp) / DAY_MS;
  const annualised = spanDays >= ANNUALISE_AFTER_DAYS;
  return {
    conventions: {
      period: 'one UTC day (last equity of the day)', periodsPerYear: 365, riskFreeRate: 0, std: 'sample (n − 1)',
      trades: 'every reducing fill: realised P&L less its fee', var: 'historical, 95%, one period',
      annualised: `annualised figures need ${ANNUALISE_AFTER_DAYS} days of history (this curve spans ${spanDays.toFixed(1)})`,
    },
    metrics: annualised ? metrics : { ...metrics, annualizedReturn: null, volatility: null, sharpe: null, sortino: null, calmar: null },
  };
}

/**
 * The live book against every limit now: drawdown, daily loss, portfolio risk (open stops), each
 * position's exposure, volatility and liquidity, each sector, and the open positions' correlations.
 */
export async function portfolioRisk(db: Database, id: string, opts: { risk: RiskConfig; initialCapital: number; barMinutes: number; now?: number }) {
  const now = opts.now ?? Date.now();
  const lookbackDays = opts.risk.correlationLookbackDays;
  const { state, marks, prices } = (await findPortfolio(db, id))
    ? await loadTradingState(db, id, now, { lookbackDays, barMinutes: opts.barMinutes })
    : { state: newTradingState(opts.initialCapital), marks: {}, prices: {} };
  const market = marketConditions({ prices, macro: {} }, openAssets(state), now, lookbackDays);
  const report = portfolioRiskReport(riskView(state, marks, now), opts.risk, market);
  return {
    asOf: new Date(now).toISOString(),
    ...report,
    ...(report.positions.length === 0 ? { note: 'no open positions: every limit has its full room; post a signal (POST /api/v1/signals) or let the strategies trade' } : {}),
  };
}

/** Stored risk assessments of the paper portfolio, newest first: each decision with why. */
export async function assessments(db: Database, id: string, opts: { limit: number; asset?: string; approved?: boolean }) {
  return (await recentAssessments(db, id, opts)).map((r) => ({
    signalId: r.signalId, asset: r.asset, approved: r.approved, riskLevel: r.riskLevel, createdAt: r.createdAt.toISOString(), assessment: r.assessment,
  }));
}
