import { sql } from 'drizzle-orm';
import { STREAM_SOURCES } from '../domain/market-stream';
import type { RiskAssessment } from '../domain/risk';
import {
  bigint, bigserial, boolean, customType, date, doublePrecision, index, integer, json, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex,
} from 'drizzle-orm/pg-core';

/** Bytes as they are (node-postgres sends and reads a Buffer). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** Order and fill sides, order states and risk levels: typed columns, stored as text. */
const SIDES = ['BUY', 'SELL'] as const;
/** reserved → filled | cancelled (saga orders); submitted → filled (protective exits). */
const ORDER_STATUSES = ['reserved', 'submitted', 'filled', 'cancelled'] as const;
const RISK_LEVELS = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export const FILL_PRICE_SOURCES = ['stream', 'bar', 'protective_bar', 'protective_tick'] as const;

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/**
 * OHLCV bars. `timestamp` is the bar open time in epoch ms (the seed's convention). The bar length is
 * part of the key so 15-minute collection and a daily CSV import of the same coin never collide.
 */
export const cryptoOhlcv = pgTable('crypto_ohlcv', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  asset: text('asset').notNull(),
  intervalMinutes: integer('interval_minutes').notNull(),
  timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
  dateStr: text('date_str').notNull(),
  open: doublePrecision('open').notNull(),
  high: doublePrecision('high').notNull(),
  low: doublePrecision('low').notNull(),
  close: doublePrecision('close').notNull(),
  volume: doublePrecision('volume').notNull(),
  source: text('source').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [uniqueIndex('crypto_ohlcv_asset_interval_timestamp_key').on(t.asset, t.intervalMinutes, t.timestamp)]);

export const macroIndicators = pgTable('macro_indicators', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  indicator: text('indicator').notNull(),
  date: date('date', { mode: 'string' }).notNull(),
  value: doublePrecision('value').notNull(),
  isInterpolated: boolean('is_interpolated').notNull().default(false),
  isForwardFilled: boolean('is_forward_filled').notNull().default(false),
  source: text('source').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [uniqueIndex('macro_indicators_indicator_date_key').on(t.indicator, t.date)]);

/**
 * How often the candles of an asset and interval on one UTC day (days since 1970-01-01) have
 * changed: statement triggers on `crypto_ohlcv` (migration 0013) add one for each statement that
 * inserts, updates or deletes candles of that day, and to every day on a TRUNCATE. Rows are never
 * removed, so a day's revision only grows: a range's count of days and sum of revisions
 * (`marketDataVersion`) changes with any write to it, read from a few thousand rows instead of
 * hashing every candle.
 */
export const candleRevisions = pgTable('candle_revisions', {
  asset: text('asset').notNull(),
  intervalMinutes: integer('interval_minutes').notNull(),
  day: integer('day').notNull(),
  revision: bigint('revision', { mode: 'number' }).notNull(),
}, (t) => [primaryKey({ columns: [t.asset, t.intervalMinutes, t.day] })]);

/** `candleRevisions` for `macro_indicators`: an indicator's observations of one day. */
export const macroRevisions = pgTable('macro_revisions', {
  indicator: text('indicator').notNull(),
  day: integer('day').notNull(),
  revision: bigint('revision', { mode: 'number' }).notNull(),
}, (t) => [primaryKey({ columns: [t.indicator, t.day] })]);

/**
 * One row per strategy signal and per aggregated signal (`strategy_name = 'aggregate'`), keyed by
 * (asset, strategy, decision time) so re-running the same asOf writes nothing twice.
 */
export const signalHistory = pgTable('signal_history', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  asset: text('asset').notNull(),
  signalType: text('signal_type').notNull(),
  timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
  price: doublePrecision('price').notNull(),
  strategyName: text('strategy_name').notNull(),
  confidence: doublePrecision('confidence').notNull(),
  positionSize: doublePrecision('position_size'),
  stopLoss: doublePrecision('stop_loss'),
  takeProfit: doublePrecision('take_profit'),
  /** The numbers the strategy decided on (for an aggregate: how it was aggregated). */
  analysis: jsonb('analysis').notNull().default(sql`'{}'::jsonb`),
  /** For an aggregate: the strategies it stands for. */
  strategies: jsonb('strategies').$type<string[]>(),
  createdAt: createdAt(),
}, (t) => [
  uniqueIndex('signal_history_asset_strategy_timestamp_key').on(t.asset, t.strategyName, t.timestamp),
  index('signal_history_timestamp_idx').on(t.timestamp),
]);

/**
 * One row per finished backtest: the seed's columns, plus the run's id, its inputs (strategy
 * parameters, assets, execution conventions) and every metric.
 */
export const backtestResults = pgTable('backtest_results', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  backtestId: text('backtest_id').notNull(),
  strategyName: text('strategy_name').notNull(),
  startDate: text('start_date').notNull(),
  endDate: text('end_date').notNull(),
  initialCapital: doublePrecision('initial_capital').notNull(),
  finalValue: doublePrecision('final_value').notNull(),
  totalReturn: doublePrecision('total_return').notNull(),
  sharpeRatio: doublePrecision('sharpe_ratio'),
  maxDrawdown: doublePrecision('max_drawdown'),
  tradeCount: integer('trade_count'),
  assets: jsonb('assets').$type<string[]>().notNull(),
  parameters: jsonb('parameters').notNull(),
  conventions: jsonb('conventions').notNull(),
  metrics: jsonb('metrics').notNull(),
  buyAndHoldReturn: doublePrecision('buy_and_hold_return'),
  exposureTime: doublePrecision('exposure_time').notNull(),
  /** How often each rule refused a signal, and each cap shrank a trade. */
  ruleCounts: jsonb('rule_counts').$type<{ rejected: Record<string, number>; shrunk: Record<string, number> }>().notNull().default({ rejected: {}, shrunk: {} }),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('backtest_results_backtest_id_key').on(t.backtestId)]);

export const backtestTrades = pgTable('backtest_trades', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  backtestId: text('backtest_id').notNull(),
  seq: integer('seq').notNull(),
  asset: text('asset').notNull(),
  direction: text('direction').notNull(),
  entryTime: bigint('entry_time', { mode: 'number' }).notNull(),
  entryPrice: doublePrecision('entry_price').notNull(),
  exitTime: bigint('exit_time', { mode: 'number' }),
  exitPrice: doublePrecision('exit_price'),
  quantity: doublePrecision('quantity').notNull(),
  fees: doublePrecision('fees').notNull(),
  grossPnl: doublePrecision('gross_pnl').notNull(),
  pnl: doublePrecision('pnl').notNull(),
  returnPct: doublePrecision('return_pct').notNull(),
}, (t) => [uniqueIndex('backtest_trades_backtest_seq_key').on(t.backtestId, t.seq)]);

/**
 * A backtest's equity curve in segments, one per store as the run goes (about one a second of replay):
 * its points' times and values as two arrays, from point `firstPoint` of the curve on. A segment
 * replaces whatever an earlier one held from its first point on (the last point revalued at the end).
 * A row per point cost Postgres ~2 µs a point in index upkeep: most of a sweep child's database time.
 * The arrays are stored uncompressed (STORAGE EXTERNAL, set in migration 0009: Drizzle has no word for it).
 */
export const backtestCurve = pgTable('backtest_curve', {
  backtestId: text('backtest_id').notNull(),
  firstPoint: integer('first_point').notNull(),
  time: bigint('time', { mode: 'number' }).array().notNull(),
  equity: doublePrecision('equity').array().notNull(),
}, (t) => [primaryKey({ columns: [t.backtestId, t.firstPoint] })]);

/**
 * A running backtest's past signals (what its track records score) in segments, one per progress
 * report: numbers `firstSeq` on of the signals the replay made (the engine's `pastTotal`), as
 * parallel arrays, their names coded. Working state, not a result: the heartbeat checkpoint counts
 * them instead of carrying them (an ensemble deciding at every hourly close keeps ~100,000, 10–16 MB
 * of JSON), a retry reads back those its checkpoint counts, and the run's rows are dropped when it
 * ends. A segment replaces what earlier ones held from its first on.
 */
export const backtestPastSignals = pgTable('backtest_past_signals', {
  backtestId: text('backtest_id').notNull(),
  firstSeq: integer('first_seq').notNull(),
  timestamp: bigint('timestamp', { mode: 'number' }).array().notNull(),
  price: doublePrecision('price').array().notNull(),
  /** The segment's asset, strategy and signal-type names, each once. */
  names: text('names').array().notNull(),
  /** Per signal its asset, strategy and signal type as indices into `names` (three uint16, little-endian). */
  codes: bytea('codes').notNull(),
}, (t) => [primaryKey({ columns: [t.backtestId, t.firstSeq] })]);

export const alertHistory = pgTable('alert_history', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  alertType: text('alert_type').notNull(),
  asset: text('asset').notNull(),
  timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
  /** `json`, not `jsonb`: the alert keeps the seed's field order in files, webhooks and the API. */
  alertData: json('alert_data').notNull(),
  filePath: text('file_path'),
  distributedChannels: jsonb('distributed_channels').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  createdAt: createdAt(),
}, (t) => [
  uniqueIndex('alert_history_type_asset_timestamp_key').on(t.alertType, t.asset, t.timestamp),
  index('alert_history_asset_timestamp_idx').on(t.asset, t.timestamp),
]);

/** Each provider call in its provider's rate window: the cap every worker process shares (see src/db/provider-calls.ts). */
export const providerCalls = pgTable('provider_calls', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  provider: text('provider').notNull(),
  /** When the call was let through (epoch ms). */
  at: bigint('at', { mode: 'number' }).notNull(),
}, (t) => [index('provider_calls_provider_at_idx').on(t.provider, t.at)]);

/** Health of collection per tier and asset, and the provider calls it used today. */
export const collectionRuns = pgTable('collection_runs', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  tier: text('tier').notNull(),
  asset: text('asset').notNull(),
  source: text('source').notNull(),
  lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
  lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
  lastError: text('last_error'),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  lastRowsWritten: integer('last_rows_written').notNull().default(0),
  callsDay: date('calls_day', { mode: 'string' }),
  callsToday: integer('calls_today').notNull().default(0),
  totalCalls: bigint('total_calls', { mode: 'number' }).notNull().default(0),
  /** Attempts and failures on `callsDay` (UTC), for the daily error rate. */
  attemptsToday: integer('attempts_today').notNull().default(0),
  failuresToday: integer('failures_today').notNull().default(0),
  /** Set when the health check found it unhealthy (and alerted), cleared when it recovered (and alerted). */
  unhealthySince: timestamp('unhealthy_since', { withTimezone: true }),
}, (t) => [uniqueIndex('collection_runs_tier_asset_key').on(t.tier, t.asset)]);

export type CryptoOhlcvRow = typeof cryptoOhlcv.$inferSelect;
export type MacroIndicatorRow = typeof macroIndicators.$inferSelect;
export type CollectionRunRow = typeof collectionRuns.$inferSelect;
export type SignalRow = typeof signalHistory.$inferSelect;
export type AlertRow = typeof alertHistory.$inferSelect;

/** A paper portfolio: cash and running totals; positions, orders and fills hang off it. */
export const portfolios = pgTable('portfolios', {
  id: text('id').primaryKey(),
  initialCapital: doublePrecision('initial_capital').notNull(),
  cash: doublePrecision('cash').notNull(),
  /** Cash set aside for orders between reservation and fill. */
  reservedCash: doublePrecision('reserved_cash').notNull().default(0),
  realizedPnl: doublePrecision('realized_pnl').notNull().default(0),
  feesPaid: doublePrecision('fees_paid').notNull().default(0),
  peakEquity: doublePrecision('peak_equity').notNull(),
  /** UTC day the daily P&L counts from, and equity at its start. */
  pnlDay: date('pnl_day', { mode: 'string' }).notNull(),
  dayStartEquity: doublePrecision('day_start_equity').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const positions = pgTable('positions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  portfolioId: text('portfolio_id').notNull().references(() => portfolios.id),
  asset: text('asset').notNull(),
  quantity: doublePrecision('quantity').notNull(),
  averagePrice: doublePrecision('average_price').notNull(),
  realizedPnl: doublePrecision('realized_pnl').notNull().default(0),
  stopLoss: doublePrecision('stop_loss'),
  takeProfit: doublePrecision('take_profit'),
  /** Bars that closed up to this time (ms) have been checked against the stop and target. */
  protectionCheckedUntil: bigint('protection_checked_until', { mode: 'number' }),
  /** After a stop-out, no new entry in this asset before this time (ms). */
  cooldownUntil: bigint('cooldown_until', { mode: 'number' }),
  openedAt: timestamp('opened_at', { withTimezone: true }),
  updatedAt: updatedAt(),
}, (t) => [uniqueIndex('positions_portfolio_asset_key').on(t.portfolioId, t.asset)]);

/** Paper orders; the id carries meaning (`signal-<id>`), so a retried step finds its own order. */
export const orders = pgTable('orders', {
  id: text('id').primaryKey(),
  portfolioId: text('portfolio_id').notNull().references(() => portfolios.id),
  signalId: text('signal_id'),
  asset: text('asset').notNull(),
  side: text('side', { enum: SIDES }).notNull(),
  notional: doublePrecision('notional').notNull(),
  status: text('status', { enum: ORDER_STATUSES }).notNull(),
  reason: text('reason'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  // A reservation weighs the portfolio's reserved orders under its lock: found through the few reserved
  // ones, not by reading every order the portfolio ever placed.
  index('orders_reserved_idx').on(t.portfolioId).where(sql`${t.status} = 'reserved'`),
]);

/** One fill per order; `applied` flips once the portfolio has booked it. */
export const fills = pgTable('fills', {
  id: text('id').primaryKey(),
  orderId: text('order_id').notNull().references(() => orders.id),
  portfolioId: text('portfolio_id').notNull().references(() => portfolios.id),
  asset: text('asset').notNull(),
  side: text('side', { enum: SIDES }).notNull(),
  quantity: doublePrecision('quantity').notNull(),
  price: doublePrecision('price').notNull(),
  referencePrice: doublePrecision('reference_price').notNull(),
  slippage: doublePrecision('slippage').notNull(),
  fee: doublePrecision('fee').notNull(),
  realizedPnl: doublePrecision('realized_pnl'),
  applied: boolean('applied').notNull().default(false),
  timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
  /** Where the reference price came from: a streamed price fresh enough, the newest bar's close, or the bar a stop or target met. */
  priceSource: text('price_source', { enum: FILL_PRICE_SOURCES }),
  /** When the reference price was quoted (a streamed price's event time, a bar's close): its age is `timestamp − price_time`. */
  priceTime: bigint('price_time', { mode: 'number' }),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('fills_order_key').on(t.orderId)]);

/**
 * The latest streamed price of each asset and when the exchange quoted it: written at most once a
 * second per asset, only ever forwards in time. Paper fills use it while it is fresh.
 */
export const latestPrices = pgTable('latest_prices', {
  asset: text('asset').primaryKey(),
  price: doublePrecision('price').notNull(),
  /** The exchange's event time (ms). */
  time: bigint('time', { mode: 'number' }).notNull(),
  source: text('source', { enum: STREAM_SOURCES }).notNull(),
  updatedAt: updatedAt(),
});

/** The equity curve: one row per change and per scheduled mark. */
export const portfolioSnapshots = pgTable('portfolio_snapshots', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  portfolioId: text('portfolio_id').notNull().references(() => portfolios.id),
  timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
  cash: doublePrecision('cash').notNull(),
  positionsValue: doublePrecision('positions_value').notNull(),
  equity: doublePrecision('equity').notNull(),
  drawdown: doublePrecision('drawdown').notNull(),
  reason: text('reason').notNull(),
}, (t) => [index('portfolio_snapshots_portfolio_timestamp_idx').on(t.portfolioId, t.timestamp)]);

export const riskAssessments = pgTable('risk_assessments', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  signalId: text('signal_id').notNull(),
  portfolioId: text('portfolio_id').notNull(),
  asset: text('asset').notNull(),
  approved: boolean('approved').notNull(),
  riskLevel: text('risk_level', { enum: RISK_LEVELS }).notNull(),
  assessment: jsonb('assessment').$type<RiskAssessment>().notNull(),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('risk_assessments_signal_portfolio_key').on(t.signalId, t.portfolioId)]);

export const API_ROLES = ['read', 'operator', 'trader', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/**
 * API keys made with `mts keys create`. The key itself is never stored: `mts_<id>_<secret>` is
 * looked up by its public id and verified against the scrypt hash of its secret.
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role', { enum: API_ROLES }).notNull(),
  salt: text('salt').notNull(),
  hash: text('hash').notNull(),
  createdAt: createdAt(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
}, (t) => [uniqueIndex('api_keys_name_key').on(t.name)]);

/** Every mutating API call: who (key name and role), what (route, body digest), how it ended. */
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  keyName: text('key_name').notNull(),
  role: text('role', { enum: API_ROLES }).notNull(),
  method: text('method').notNull(),
  route: text('route').notNull(),
  /** SHA-256 of the request body as received (hex), null without a body. */
  bodyDigest: text('body_digest'),
  status: integer('status').notNull(),
}, (t) => [index('audit_log_at_idx').on(t.at)]);
