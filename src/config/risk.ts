import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { RiskConfig } from '../domain/risk';
import { parseConfig, readJsonFile } from './files';

const fraction = z.number().positive().max(1);

export const riskConfigSchema = z.object({
  maxDrawdown: fraction,
  dailyLossLimit: fraction,
  perTradeStopLoss: fraction,
  maxPositionSize: fraction,
  maxSingleAssetExposure: fraction,
  warningLevel: fraction,
  basePositionPercent: fraction,
  minPositionUsd: z.number().nonnegative(),
  riskRewardRatio: z.number().positive().max(20),
  trailingStopPct: z.number().positive().max(0.5).nullable(),
  stopCooldownMinutes: z.number().int().min(0).max(525_600),
  maxPortfolioRisk: fraction,
  maxSectorExposure: fraction,
  sectors: z.record(z.string().max(64), z.string().min(1).max(64)),
}).strict();

export const defaultRiskConfigPath = fileURLToPath(new URL('../../config/risk.json', import.meta.url));

export function loadRiskConfig(path = defaultRiskConfigPath): RiskConfig {
  return parseConfig(riskConfigSchema, readJsonFile(path), path);
}
