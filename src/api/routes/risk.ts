import { Router } from 'express';
import { z } from 'zod';
import { assessRisk, type RiskConfig } from '../../domain/risk';
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
    }).strict()).max(1000).default([]),
  }).strict(),
}).strict();

/** A pure calculation answered in-process: no workflow, nothing stored. */
export function riskRouter(config: RiskConfig): Router {
  const router = Router();
  router.post('/assess-risk', (req, res) => {
    const b = parseInput(assessBody, req.body, 'body');
    const a = assessRisk(
      { signalId: b.signal_id, asset: b.asset, signalType: b.signal_type, price: b.price, confidence: b.confidence },
      {
        totalEquity: b.portfolio_state.total_equity,
        currentDrawdown: b.portfolio_state.current_drawdown,
        dailyPnl: b.portfolio_state.daily_pnl,
        positions: b.portfolio_state.positions.map((p) => ({ asset: p.asset, exposure: p.exposure, ...(p.open_risk !== undefined ? { openRisk: p.open_risk } : {}) })),
      },
      config,
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
      processing_time_ms: a.processingTimeMs,
    });
  });
  return router;
}
