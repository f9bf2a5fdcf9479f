import { z } from 'zod';
import type { AggregationSettings } from '../domain/aggregation';
import { parseConfig, readJsonFile } from './files';
import { type RiskConfig, riskSettingsOf } from '../domain/risk';
import { loadRiskConfig } from './risk';
import { fromRoot } from '../paths';

const regimeWeights = z.record(z.string(), z.object({
  trending: z.number().nonnegative().optional(),
  ranging: z.number().nonnegative().optional(),
  high_volatility: z.number().nonnegative().optional(),
}).strict());

const channel = z.object({ enabled: z.boolean(), url: z.string().url().nullable().optional() }).strict();

const signalsSchema = z.object({
  aggregation: z.object({
    consensusThreshold: z.number().min(0.5).max(1),
    minResolvedConfidence: z.number().min(0).max(1),
    minTrackRecord: z.number().int().min(0),
    trackRecordHorizonDays: z.number().positive(),
    regimeWeights,
  }).strict(),
  alerts: z.object({
    minConfidence: z.number().min(0).max(1),
    cooldownHours: z.number().min(0),
    directory: z.string().min(1),
    channels: z.object({ file: channel, sse: channel, webhook: channel, discord: channel }).strict(),
  }).strict(),
  historyDays: z.number().int().min(30).max(5000),
}).strict();

export type SignalsConfig = z.infer<typeof signalsSchema> & { aggregation: AggregationSettings & { trackRecordHorizonDays: number } };

export const defaultSignalsConfigPath = fromRoot('config', 'signals.json');

/** The aggregate's size hint and protective levels come from the one risk configuration. */
export function loadSignalsConfig(path = defaultSignalsConfigPath, risk: RiskConfig = loadRiskConfig()): SignalsConfig {
  const parsed = parseConfig(signalsSchema, readJsonFile(path), path);
  return { ...parsed, aggregation: { ...parsed.aggregation, risk: riskSettingsOf(risk) } };
}
