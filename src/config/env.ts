import { z } from 'zod';
import { describeIssues } from './files';

/** Every environment variable MTS reads, validated once at start-up. Documented in README and .env.example. */
const envSchema = z.object({
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/mts'),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  /** Where operators open the Temporal Web UI: the dashboard links each run there. `mts dev` uses its own UI's address. */
  TEMPORAL_UI_URL: z.string().url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** `mts worker` serves /health and /metrics here (on HOST); 0 turns it off. */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /**
   * Backtests one `mts worker --role backtest` process runs at once. A process replays on one thread:
   * a second one computes while the first waits on Postgres or Temporal; more cores take more processes.
   */
  BACKTESTS_PER_WORKER: z.coerce.number().int().min(1).max(64).default(2),
  /** The API listens on this address only: loopback unless a deployment says otherwise (compose sets 0.0.0.0). */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** When set, GET /metrics needs it as a bearer token. */
  METRICS_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_SIGNAL_GENERATION_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  SSE_STREAMS_PER_KEY: z.coerce.number().int().min(1).default(10),
  MTS_API_KEYS: z.string().optional(),
  MTS_DATA_DIR: z.string().min(1).default('data'),
  MARKET_DATA_SOURCE: z.enum(['simulated', 'coingecko']).default('simulated'),
  MACRO_DATA_SOURCE: z.enum(['simulated', 'fred']).optional(),
  SIMULATED_SEED: z.coerce.number().int().default(42),
  /** `mts dev` on the simulated market, on a database with no signals: backfill, then paper-trade this many past days (0: no warm-up). */
  SIMULATED_WARM_UP_DAYS: z.coerce.number().int().min(0).max(90).default(30),
  COINGECKO_API_KEY: z.string().min(1).optional(),
  COINGECKO_API_PLAN: z.enum(['demo', 'pro']).default('demo'),
  COINGECKO_BASE_URL: z.string().url().optional(),
  COINGECKO_CALLS_PER_MINUTE: z.coerce.number().positive().default(50),
  FRED_API_KEY: z.string().min(1).optional(),
  FRED_BASE_URL: z.string().url().default('https://api.stlouisfed.org'),
  FRED_CALLS_PER_HOUR: z.coerce.number().positive().default(1000),
  /** The real-time market stream the market-stream workers consume: the simulated market (no network), an exchange, or none. */
  MARKET_STREAM: z.enum(['simulated', 'binance', 'bybit', 'none']).default('simulated'),
  BINANCE_STREAM_URL: z.string().url().default('wss://stream.binance.com:9443'),
  BINANCE_REST_URL: z.string().url().default('https://api.binance.com'),
  BYBIT_STREAM_URL: z.string().url().default('wss://stream.bybit.com'),
  BYBIT_REST_URL: z.string().url().default('https://api.bybit.com'),
  INITIAL_CAPITAL: z.coerce.number().positive().default(10_000),
  ALERTS_DIR: z.string().min(1).optional(),
  ALERTS_INBOX_DIR: z.string().min(1).optional(),
  ALERT_WEBHOOK_URL: z.string().url().optional(),
  ALERT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  DISCORD_WEBHOOK_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema> & { MACRO_DATA_SOURCE: 'simulated' | 'fred' };

/** Every variable MTS reads: the deployment files (docker-compose.yml, deploy/k8s) set each one, except the dev-only ones. */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as Array<keyof typeof envSchema.shape>;
/** Only `mts dev` and setup read these (its own Temporal dev server, its binary); a deployment has a Temporal service instead. */
export const DEV_ONLY_ENV: ReadonlyArray<(typeof ENV_VARIABLES)[number]> = ['TEMPORAL_CLI_PATH', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'SIMULATED_WARM_UP_DAYS'];
/** Keys, secrets, tokens and URLs that carry them: a Kubernetes Secret, not the ConfigMap. */
export const SECRET_ENV: ReadonlyArray<(typeof ENV_VARIABLES)[number]> = [
  'DATABASE_URL', 'MTS_API_KEYS', 'METRICS_KEY', 'COINGECKO_API_KEY', 'FRED_API_KEY', 'ALERT_WEBHOOK_SECRET', 'DISCORD_WEBHOOK_URL',
];

export class ConfigError extends Error {}

/** Parses the environment; a bad value throws a ConfigError that names the variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(`Invalid environment: ${describeIssues(parsed.error)}`);
  }
  const env = parsed.data;
  // Live crypto data implies live macro data unless told otherwise.
  const macro = env.MACRO_DATA_SOURCE ?? (env.MARKET_DATA_SOURCE === 'coingecko' ? 'fred' : 'simulated');
  if (macro === 'fred' && !env.FRED_API_KEY) {
    throw new ConfigError('Invalid environment: FRED_API_KEY: required when the macro source is fred');
  }
  if (env.ALERT_WEBHOOK_URL && !env.ALERT_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid environment: ALERT_WEBHOOK_SECRET: required when ALERT_WEBHOOK_URL is set (the webhook body is signed with it)');
  }
  return { ...env, MACRO_DATA_SOURCE: macro };
}
