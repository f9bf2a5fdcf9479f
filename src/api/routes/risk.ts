import { Router } from 'express';
import { z } from 'zod';
import { conditionsOf } from '../../domain/market-conditions';
import { assessRisk, type RiskAssessment, type RiskConfig } from '../../domain/risk';
import { parseInput } from '../errors';

/** The seed's request; positions are open exposures in USD (market value, positive for shorts too). */
export const assessBody = z.object({
  signal_id: z.string().min(1).max(200),
  asset: z.string().min(1).max(100),
  signal_type: z.enum(['LONG', 'SHORT']),
  price: z.number().positive(),
  confidence: z.number().min(0).max(1),
  portfolio_state: z.object({
    total_equity: z.number().positive(),
    current_drawdown: z.number().min(0).max(1).default(0),
    daily_pnl: z.number().default(0),
    // open_risk: what the position loses if its stop fires (USD); without it, exposure × the per-trade stop.
    positions: z.array(z.object({
      asset: z.string().min(1).max(64), exposure: z.number().nonnegative().max(1e15), open_risk: z.number().nonnegative().max(1e15).optional(),
      side: z.enum(['LONG', 'SHORT']).default('LONG'),
    }).strict()).max(1000).default([]),
  }).strict(),
  // Market conditions per asset (the signal's and the positions'): daily returns oldest first, over the
  // correlation lookback, and USD traded in the last 24 hours. Without them the market checks are not evaluated.
  market: z.record(z.string().min(1).max(64), z.object({
    daily_returns: z.array(z.number().min(-1).max(100).nullable()).max(366),
    traded_value_24h: z.number().nonnegative().max(1e15).nullable().default(null),
  }).strict()).refine((m) => Object.keys(m).length <= 1000, { message: 'at most 1000 assets' }).optional(),
  // The scored past signals behind the signal (for the Kelly size): how many, how many won, Σ returns won and lost.
  track_record: z.object({
    total: z.number().int().nonnegative().max(1e9), hits: z.number().int().nonnegative().max(1e9),
    gain: z.number().nonnegative().max(1e9), loss: z.number().nonnegative().max(1e9),
  }).strict().refine((r) => r.hits <= r.total, { message: 'hits must not exceed total', path: ['hits'] }).optional(),
  // The decision time (ISO 8601); now when absent.
  timestamp: z.iso.datetime({ offset: true }).optional(),
}).strict();

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The assessment's per-limit enforcement as the seed shows it: the measure, the limit, utilisation in percent. */
function enforcementView(a: RiskAssessment) {
  return Object.fromEntries(Object.entries(a.riskLimitsEnforcement).map(([name, use]) => [snake(name), {
    value: use.value, limit: use.limit, unit: use.unit, utilization_pct: use.utilization === null ? null : use.utilization * 100,
  }]));
}

/** A pure calculation answered in-process: no workflow, nothing stored, nothing read. */
export function riskRouter(config: RiskConfig): Router {
  const router = Router();
  router.post('/assess-risk', (req, res) => {
    const b = parseInput(assessBody, req.body, 'body');
    const a = assessRisk(
      { signalId: b.signal_id, asset: b.asset, signalType: b.signal_type, price: b.price, confidence: b.confidence, trackRecord: b.track_record },
      {
        totalEquity: b.portfolio_state.total_equity,
        currentDrawdown: b.portfolio_state.current_drawdown,
        dailyPnl: b.portfolio_state.daily_pnl,
        positions: b.portfolio_state.positions.map((p) => ({
          asset: p.asset, exposure: p.exposure, side: p.side, ...(p.open_risk !== undefined ? { openRisk: p.open_risk } : {}),
        })),
      },
      config,
      {
        at: b.timestamp ? Date.parse(b.timestamp) : Date.now(),
        market: b.market && Object.fromEntries(Object.entries(b.market).map(([asset, m]) => [asset,
          conditionsOf(m.daily_returns.map((r) => r ?? Number.NaN), m.traded_value_24h)])),
      },
    );
    res.json({
      is_approved: a.isApproved,
      risk_level: a.riskLevel,
      recommended_position_size: a.recommendedPositionSize,
      stop_loss_price: a.stopLossPrice,
      take_profit_price: a.takeProfitPrice,
      risk_warnings: a.riskWarnings,
      rejection_reason: a.rejectionReason,
      rejected_by: a.rejectedBy,
      signal_id: a.signalId,
      asset: a.asset,
      signal_type: a.signalType,
      risk_reward_ratio: a.riskRewardRatio,
      position_risk_percent: a.positionRiskPercent,
      portfolio_heat: a.portfolioHeat,
      risk_score: a.riskScore,
      current_drawdown: a.currentDrawdown,
      daily_pnl_impact: a.dailyPnlImpact,
      limits_used: a.limitsUsed,
      timestamp: a.timestamp,
      market_volatility: a.marketVolatility,
      correlation_risk: a.correlationRisk,
      position_size_method: a.positionSizeMethod,
      position_sizing: {
        components: Object.fromEntries(Object.entries(a.positionSizing.components).map(([k, v]) => [snake(k), v])),
        weights: Object.fromEntries(Object.entries(a.positionSizing.weights).map(([k, v]) => [snake(k), v])),
        kelly_fraction: a.positionSizing.kellyFraction, blended: a.positionSizing.blended, limited_by: a.positionSizing.limitedBy,
        notes: a.positionSizing.notes,
      },
      portfolio_impact: Object.fromEntries(Object.entries(a.portfolioImpact).map(([k, v]) => [snake(k), v])),
      risk_limits_enforcement: enforcementView(a),
      processing_time_ms: a.processingTimeMs,
    });
  });
  return router;
}
