/**
 * Performance analytics. Conventions (also printed in reports):
 * - Returns are simple returns between consecutive equity points; the points are at one period
 *   (e.g. daily snapshots) and `periodsPerYear` annualises them (365 for crypto's every-day market).
 * - Volatility, Sharpe and Sortino use the sample standard deviation (n − 1); the risk-free rate is
 *   per year and converted to a per-period rate by division. Sortino's downside deviation is
 *   √(Σ min(r − rf, 0)² / n) over all periods.
 * - Annualised return is geometric: (final / initial)^(periodsPerYear / periods) − 1.
 * - Max drawdown is the largest peak-to-trough fall of equity, in USD and as a fraction of the
 *   peak, with its duration from the peak to the recovery (or the end).
 * - VaR(95%) is historical: the loss at the 5th percentile of period returns, as a positive fraction.
 * - Trade statistics use closed trades' net P&L (after fees). Values that do not exist (no trades,
 *   no losses, a flat curve, fewer than two periods for a ratio) are null, never NaN or Infinity.
 */

export interface EquityPoint {
  timestamp: number;
  equity: number;
}

export interface ClosedTrade {
  pnl: number;
}

export interface PerformanceMetrics {
  periods: number;
  initialEquity: number | null;
  finalEquity: number | null;
  totalReturn: number | null;
  annualizedReturn: number | null;
  volatility: number | null;
  sharpe: number | null;
  sortino: number | null;
  maxDrawdown: number;
  maxDrawdownPct: number;
  maxDrawdownDurationMs: number;
  calmar: number | null;
  var95: number | null;
  tradeCount: number;
  winRate: number | null;
  profitFactor: number | null;
  averageWin: number | null;
  averageLoss: number | null;
  largestWin: number | null;
  largestLoss: number | null;
  expectancy: number | null;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function sampleStd(xs: number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

export function drawdown(curve: EquityPoint[]) {
  let peak = -Infinity;
  let peakTime = 0;
  let maxAmount = 0;
  let maxPct = 0;
  let maxDuration = 0;
  for (const p of curve) {
    if (p.equity >= peak) {
      peak = p.equity;
      peakTime = p.timestamp;
    }
    const amount = peak - p.equity;
    if (amount > maxAmount) maxAmount = amount;
    if (peak > 0 && amount / peak > maxPct) maxPct = amount / peak;
    if (amount > 0) maxDuration = Math.max(maxDuration, p.timestamp - peakTime);
  }
  return { maxDrawdown: maxAmount, maxDrawdownPct: maxPct, maxDrawdownDurationMs: maxDuration };
}

export function performanceMetrics(curve: EquityPoint[], trades: ClosedTrade[], opts: { periodsPerYear: number; riskFreeRate?: number }): PerformanceMetrics {
  const rfPeriod = (opts.riskFreeRate ?? 0) / opts.periodsPerYear;
  const returns = curve.slice(1).map((p, i) => p.equity / curve[i].equity - 1);
  const excess = returns.map((r) => r - rfPeriod);
  const mean = excess.length ? excess.reduce((a, b) => a + b, 0) / excess.length : Number.NaN;
  const std = sampleStd(returns);
  const downside = excess.length ? Math.sqrt(excess.reduce((s, r) => s + Math.min(r, 0) ** 2, 0) / excess.length) : Number.NaN;
  const first = curve[0]?.equity;
  const last = curve.at(-1)?.equity;
  const totalReturn = first && last !== undefined ? last / first - 1 : Number.NaN;
  const annualized = returns.length ? (1 + totalReturn) ** (opts.periodsPerYear / returns.length) - 1 : Number.NaN;
  const dd = drawdown(curve);
  const sorted = [...returns].sort((a, b) => a - b);
  const var95 = sorted.length ? -sorted[Math.floor(0.05 * (sorted.length - 1))] : Number.NaN;

  const wins = trades.filter((t) => t.pnl > 0).map((t) => t.pnl);
  const losses = trades.filter((t) => t.pnl < 0).map((t) => t.pnl);
  const grossProfit = wins.reduce((a, b) => a + b, 0);
  const grossLoss = -losses.reduce((a, b) => a + b, 0);
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

  return {
    periods: returns.length,
    initialEquity: first ?? null,
    finalEquity: last ?? null,
    totalReturn: finite(totalReturn),
    annualizedReturn: finite(annualized),
    volatility: finite(std * Math.sqrt(opts.periodsPerYear)),
    sharpe: std > 0 ? finite((mean / std) * Math.sqrt(opts.periodsPerYear)) : null,
    sortino: downside > 0 && returns.length >= 2 ? finite((mean / downside) * Math.sqrt(opts.periodsPerYear)) : null,
    ...dd,
    calmar: dd.maxDrawdownPct > 0 && returns.length >= 2 ? finite(annualized / dd.maxDrawdownPct) : null,
    var95: finite(var95),
    tradeCount: trades.length,
    winRate: trades.length ? wins.length / trades.length : null,
    profitFactor: grossLoss > 0 ? grossProfit / grossLoss : null,
    averageWin: finite(avg(wins)),
    averageLoss: finite(avg(losses)),
    largestWin: wins.length ? Math.max(...wins) : null,
    largestLoss: losses.length ? Math.min(...losses) : null,
    expectancy: finite(avg(trades.map((t) => t.pnl))),
  };
}
