import type { Env } from '../config/env';
import type { CallLimit } from '../db/provider-calls';
import { coingeckoSource } from './coingecko';
import { fredSource } from './fred';
import { simulatedSources } from './simulated';
import type { CryptoDataSource, MacroDataSource } from './types';

export interface ConfiguredSources {
  crypto: CryptoDataSource;
  macro: MacroDataSource;
  /** Provider call limits for the task queues; undefined where the source makes no provider calls. */
  cryptoCallsPerSecond?: number;
  macroCallsPerSecond?: number;
  /** The same caps per provider call (a backfill makes one per chunk), shared by every worker through Postgres. */
  callLimits: Record<string, CallLimit>;
}

/** The sources chosen by MARKET_DATA_SOURCE and MACRO_DATA_SOURCE. */
export function sourcesFromEnv(env: Env): ConfiguredSources {
  const simulated = simulatedSources(env.SIMULATED_SEED);
  const live = env.MARKET_DATA_SOURCE === 'coingecko';
  const fred = env.MACRO_DATA_SOURCE === 'fred';
  return {
    crypto: live
      ? coingeckoSource({ apiKey: env.COINGECKO_API_KEY, plan: env.COINGECKO_API_PLAN, baseURL: env.COINGECKO_BASE_URL })
      : simulated.crypto,
    macro: fred ? fredSource({ apiKey: env.FRED_API_KEY!, baseURL: env.FRED_BASE_URL }) : simulated.macro,
    cryptoCallsPerSecond: live ? env.COINGECKO_CALLS_PER_MINUTE / 60 : undefined,
    macroCallsPerSecond: fred ? env.FRED_CALLS_PER_HOUR / 3600 : undefined,
    callLimits: {
      ...(live ? { coingecko: { calls: env.COINGECKO_CALLS_PER_MINUTE, windowMs: 60_000 } } : {}),
      ...(fred ? { fred: { calls: env.FRED_CALLS_PER_HOUR, windowMs: 3_600_000 } } : {}),
    },
  };
}
