import type { StrategyDefinition } from './framework';
import { meanReversion } from './mean-reversion';
import { smaCrossover } from './sma-crossover';
import { vixCorrelation } from './vix-correlation';
import { volatilitySpike } from './volatility-spike';

/** Every strategy MTS knows, by name. Adding one: a definition here and a config/strategies/<name>.json. */
export const STRATEGY_DEFINITIONS: Record<string, StrategyDefinition> = Object.fromEntries(
  [vixCorrelation, meanReversion, volatilitySpike, smaCrossover].map((d) => [d.name, d]),
);

export { createStrategy, parametersSchema, type Strategy, type StrategyConfig, type ParameterSpec, type Analysis } from './framework';
