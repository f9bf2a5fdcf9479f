import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { STRATEGY_DEFINITIONS } from '../domain/strategies';
import { BAR_MINUTES, BAR_SIZES, DEFAULT_BAR } from '../domain/types';
import { createStrategy, parametersSchema, type Strategy, type StrategyConfig, type StrategyDefinition } from '../domain/strategies/framework';
import { type RiskConfig, riskSettingsOf } from '../domain/risk';
import { parseConfig, readJsonFile } from './files';
import { loadRiskConfig } from './risk';
import { fromRoot } from '../paths';

export const defaultStrategiesDir = fromRoot('config', 'strategies');

function configSchemaOf(def: StrategyDefinition) {
  return z.object({
    name: z.literal(def.name),
    enabled: z.boolean().default(true),
    assets: z.array(z.string().min(1)).min(1),
    bar: z.enum(BAR_SIZES).default(DEFAULT_BAR),
    parameters: parametersSchema(def.parameters).default({} as never),
    risk: z.never({ error: 'sizing, stop distance and reward ratio are set once, in config/risk.json' }).optional(),
  }).strict();
}

/** Each strategy's config schema, built once: building them cost ~0.6 ms a strategy, paid again by every backtest a sweep starts. */
const configSchemas = new Map<string, ReturnType<typeof configSchemaOf>>();

/**
 * Validates one strategy config; errors name the file and the field. A strategy keeps only its
 * decision parameters: the size hint and protective levels on its signals come from the one risk
 * configuration (config/risk.json), the same rules that execute.
 */
export function parseStrategyConfig(raw: unknown, origin: string, risk: RiskConfig = loadRiskConfig()): StrategyConfig {
  const name = (raw as { name?: unknown })?.name;
  const def = typeof name === 'string' && Object.hasOwn(STRATEGY_DEFINITIONS, name) ? STRATEGY_DEFINITIONS[name] : undefined;
  if (!def) {
    throw new Error(`${origin}: name: must be one of ${Object.keys(STRATEGY_DEFINITIONS).join(', ')} (got ${JSON.stringify(name)})`);
  }
  let schema = configSchemas.get(def.name);
  if (!schema) configSchemas.set(def.name, (schema = configSchemaOf(def)));
  return { ...parseConfig(schema, raw, origin), risk: riskSettingsOf(risk) } as StrategyConfig;
}

/** Loads every config/strategies/*.json; a bad file stops start-up with its name and field. */
export function loadStrategyConfigs(dir = defaultStrategiesDir, risk: RiskConfig = loadRiskConfig()): StrategyConfig[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((file) => {
    const path = join(dir, file);
    return parseStrategyConfig(readJsonFile(path), path, risk);
  });
}

export function buildStrategies(configs: StrategyConfig[]): Strategy[] {
  return configs.filter((c) => c.enabled).map((c) => createStrategy(STRATEGY_DEFINITIONS[c.name], c));
}

/** The shortest bar (minutes) an enabled strategy decides on: what the live system's market conditions are read from. */
export function shortestStrategyBar(configs: StrategyConfig[]): number {
  return Math.min(BAR_MINUTES['1d'], ...configs.filter((c) => c.enabled).map((c) => BAR_MINUTES[c.bar ?? DEFAULT_BAR]));
}
