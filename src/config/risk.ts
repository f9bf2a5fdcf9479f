import { z } from 'zod';
import type { RiskConfig } from '../domain/risk';
import { parseConfig, readJsonFile } from './files';
import { fromRoot } from '../paths';

const fraction = z.number().positive().max(1);

export const riskConfigSchema = z.object({
  maxDrawdown: fraction,
  drawdownWarningLevel: fraction,
  dailyLossLimit: fraction,
  perTradeStopLoss: fraction,
  maxPositionSize: fraction,
  maxSingleAssetExposure: fraction,
  warningLevel: fraction,
  basePositionPercent: fraction,
  minPositionSize: z.number().min(0).max(1),
  riskRewardRatio: z.number().positive().max(20),
  trailingStopPct: z.number().positive().max(0.5).nullable(),
  stopCooldownMinutes: z.number().int().min(0).max(525_600),
  maxPortfolioRisk: fraction,
  maxSectorExposure: fraction,
  sectors: z.record(z.string().max(64), z.string().min(1).max(64)),
  maxCorrelationRisk: fraction,
  correlationLookbackDays: z.number().int().min(10).max(365),
  volatilityThreshold: fraction,
  volatilityWarningThreshold: fraction,
  lowLiquidityThreshold: z.number().nonnegative(),
  confidenceThreshold: z.number().min(0).max(1),
  positionSizingWeights: z.object({
    fixedPercent: z.number().positive().max(1), kelly: z.number().min(0).max(1), volatility: z.number().min(0).max(1), riskParity: z.number().min(0).max(1),
  }).strict().refine((w) => Math.abs(w.fixedPercent + w.kelly + w.volatility + w.riskParity - 1) < 1e-9, { message: 'the four weights must add up to 1' }),
  kellyMinScoredSignals: z.number().int().min(1),
  volatilityTarget: fraction,
  processingTimeoutMs: z.number().int().positive().max(600_000),
}).strict().refine((c) => c.volatilityWarningThreshold <= c.volatilityThreshold, {
  message: 'volatilityWarningThreshold must not be above volatilityThreshold', path: ['volatilityWarningThreshold'],
}).refine((c) => c.drawdownWarningLevel <= c.maxDrawdown, { message: 'drawdownWarningLevel must not be above maxDrawdown', path: ['drawdownWarningLevel'] });

export const defaultRiskConfigPath = fromRoot('config', 'risk.json');

export function loadRiskConfig(path = defaultRiskConfigPath): RiskConfig {
  return parseConfig(riskConfigSchema, readJsonFile(path), path);
}
