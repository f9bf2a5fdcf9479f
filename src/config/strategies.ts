import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { STRATEGY_DEFINITIONS } from '../domain/strategies';
import { createStrategy, parametersSchema, type Strategy, type StrategyConfig } from '../domain/strategies/framework';
import { parseConfig, readJsonFile } from './files';

export const defaultStrategiesDir = fileURLToPath(new URL('../../config/strategies', import.meta.url));

export const riskSchema = z.object({
  positionSize: z.number().positive().max(1),
  maxPositionSize: z.number().positive().max(1),
  stopLossPct: z.number().positive().max(0.5),
  riskRewardRatio: z.number().positive().max(20),
}).strict();

/** Validates one strategy config; errors name the file and the field. */
export function parseStrategyConfig(raw: unknown, origin: string): StrategyConfig {
  const name = (raw as { name?: unknown })?.name;
  const def = typeof name === 'string' ? STRATEGY_DEFINITIONS[name] : undefined;
  if (!def) {
    throw new Error(`${origin}: name: must be one of ${Object.keys(STRATEGY_DEFINITIONS).join(', ')} (got ${JSON.stringify(name)})`);
  }
  const schema = z.object({
    name: z.literal(def.name),
    enabled: z.boolean().default(true),
    assets: z.array(z.string().min(1)).min(1),
    parameters: parametersSchema(def.parameters).default({} as never),
    risk: riskSchema,
  }).strict();
  return parseConfig(schema, raw, origin) as StrategyConfig;
}

/** Loads every config/strategies/*.json; a bad file stops start-up with its name and field. */
export function loadStrategyConfigs(dir = defaultStrategiesDir): StrategyConfig[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((file) => {
    const path = join(dir, file);
    return parseStrategyConfig(readJsonFile(path), path);
  });
}

export function buildStrategies(configs: StrategyConfig[]): Strategy[] {
  return configs.filter((c) => c.enabled).map((c) => createStrategy(STRATEGY_DEFINITIONS[c.name], c));
}
