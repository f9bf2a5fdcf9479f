import type { Sinks } from '@temporalio/workflow';
import type { BacktestConventions } from '../domain/backtest/engine';
import type { BarSize, TierKind } from '../domain/types';

/** One asset to collect, with what the collector needs to know about it (resolved from config/collection.json). */
export interface CollectionTarget {
  tier: string;
  asset: string;
  kind: TierKind;
  intervalMinutes: number;
}

export interface CollectInput {
  /** The tier's name, or "manual" for an ad-hoc list of assets. */
  tier: string;
  targets: CollectionTarget[];
  /** Start generateSignalsWorkflow after a successful run (default true). */
  generateSignals?: boolean;
}

export interface CollectAssetResult {
  asset: string;
  rowsWritten: number;
  calls: number;
}

export interface CollectSummary {
  tier: string;
  assets: Array<CollectAssetResult | { asset: string; error: string }>;
  rowsWritten: number;
  signalsWorkflowId?: string;
}

export interface BackfillInput {
  targets: CollectionTarget[];
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** How long a backfill activity may go without a heartbeat before another worker takes over (default 30s). */
  heartbeatTimeoutMs?: number;
}

export interface BackfillAssetInput extends CollectionTarget {
  from: number;
  to: number;
}

export interface AssetBackfillProgress {
  asset: string;
  chunksDone: number;
  chunksTotal: number;
  /**
   * Rows inserted or corrected by attempts that checkpointed. Rows a killed attempt wrote after its
   * last heartbeat are stored (and not fetched again) but not counted here.
   */
  rowsWritten: number;
  /** Where the next chunk starts: the checkpoint a resumed attempt continues from. */
  resumeFrom: number;
  resumedFromCheckpoint: boolean;
}

export interface BackfillProgress {
  chunksDone: number;
  chunksTotal: number;
  rowsWritten: number;
  assets: AssetBackfillProgress[];
}

export interface GenerateSignalsInput {
  /** One decision time (epoch ms); or give from/to for a historical range. */
  asOf?: number;
  from?: number;
  to?: number;
  /** Spacing of decision times in a range (default one day). */
  stepMinutes?: number;
  assets?: string[];
  /** Send new alerts on the configured channels (default true). */
  distribute?: boolean;
  /** Start a risk-and-execute saga for each new aggregated signal (default: true for one asOf, false for a range). */
  execute?: boolean;
}

export interface EvaluateSignalsInput {
  asOfs: number[];
  assets?: string[];
}

export interface NewAlert {
  id: number;
  type: string;
  asset: string;
  timestamp: number;
}

export interface EvaluateSignalsResult {
  steps: number;
  signals: number;
  aggregated: number;
  alerts: NewAlert[];
  /** Newly stored aggregated signals, for the risk-and-execute sagas. */
  trades: ExecutionSignal[];
  strategyFailures: Array<{ strategy: string; asOf: number; error: string }>;
  channels: Array<'file' | 'sse' | 'webhook' | 'discord'>;
  strategies: string[];
}

export interface DeliverAlertInput {
  alertId: number;
  channel: 'file' | 'sse' | 'webhook' | 'discord';
}

export interface GenerateSignalsProgress {
  stepsDone: number;
  stepsTotal: number;
  signals: number;
  aggregated: number;
  alerts: number;
  deliveries: { delivered: number; failed: number };
  sagasStarted: number;
  /** How the sagas this run started ended, by status (filled, rejected, compensated, filled_unprotected, failed). */
  sagaOutcomes: Record<string, number>;
}

export interface GenerateSignalsSummary extends GenerateSignalsProgress {
  strategyFailures: EvaluateSignalsResult['strategyFailures'];
  deliveryFailures: Array<{ alertId: number; channel: string; error: string }>;
}

/** What the saga needs to know about a signal; `signalId` makes its workflow id and so its exactly-once. */
export interface ExecutionSignal {
  signalId: string;
  asset: string;
  signalType: 'LONG' | 'SHORT';
  price: number;
  confidence: number;
  timestamp: number;
  /** The pooled scored signals of the strategies behind an aggregated signal (Kelly sizing); absent for an external one. */
  trackRecord?: { total: number; hits: number; gain: number; loss: number };
}

export interface ExecutedFill {
  fillId: string;
  price: number;
  quantity: number;
  fee: number;
  slippage: number;
}

export type SagaOutcome =
  | { status: 'rejected'; signalId: string; reason: string }
  | { status: 'filled'; signalId: string; orderId: string; fill: ExecutedFill; realized: number; stopLoss: number | null; takeProfit: number | null }
  /** Booked, but its stop and target could not be placed: alerted, and a person must act. */
  | { status: 'filled_unprotected'; signalId: string; orderId: string; fill: ExecutedFill; realized: number; reason: string }
  | { status: 'compensated'; signalId: string; orderId: string; reason: string };

export interface ProtectiveExit {
  asset: string;
  kind: 'stop_loss' | 'take_profit';
  price: number;
  quantity: number;
  realized: number;
  /** Close time of the bar that triggered it. */
  at: number;
}

/** Bar sizes a backtest can replay, in minutes: built from the stored candles that divide them. */
export { BAR_MINUTES } from '../domain/types';

/** The engine's conventions as a request carries them, with the bar to replay. */
export interface BacktestConventionsInput extends BacktestConventions {
  /** The bar the history is replayed in (default 1d); strategy lengths count these bars. */
  bar?: BarSize;
}

/** A fully resolved backtest: every default already filled in, so the run is reproducible from its input. */
export interface BacktestRequest {
  id: string;
  /** Strategies replayed together, aggregated and sized as paper trading does (one for a single-strategy run). */
  strategies: string[];
  /** The live system: the enabled strategies, each on its configured coins among `assets`. */
  live?: boolean;
  /** Parameter overrides, `strategy.parameter` → value. */
  params: Record<string, number | string>;
  assets: string[];
  from: number;
  to: number;
  initialCapital: number;
  conventions: BacktestConventionsInput;
  /** Bars per checkpoint; by default one checkpoint (and progress report) a second, whatever the bars cost. */
  chunkBars?: number;
  /**
   * Backtests of one scope (a sweep's children) replay the market data the first of them loaded in a
   * worker process, rather than each reading the same bars from Postgres again; a later scope shares
   * it too while Postgres holds the same rows (`scopedMarketDataBars`).
   */
  dataScope?: string;
  heartbeatTimeoutMs?: number;
}

export interface BacktestProgress {
  barsDone: number;
  barsTotal: number;
  equity: number;
  resumedFromCheckpoint: boolean;
}

export interface BacktestSummary {
  id: string;
  bars: number;
  finalEquity: number;
  totalReturn: number | null;
  sharpe: number | null;
  maxDrawdownPct: number;
  tradeCount: number;
  /** What the annualised figures were computed with. */
  periodsPerYear: number;
  /** Holding every asset from the first close to the last, equally weighted; null without prices. */
  buyAndHoldReturn: number | null;
  /** Share of closes with a position open. */
  exposureTime: number;
  /** Signals refused, by the rule that refused them. */
  rejectionsByRule: Record<string, number>;
  /** Trades a rule shrank (the maximum position size capping the blended size), by rule. */
  shrunkByRule: Record<string, number>;
}

export interface SweepRequest {
  id: string;
  /** Everything but the parameters, which come from the grid. */
  base: Omit<BacktestRequest, 'id' | 'params'>;
  /** Each combination of these values is one child backtest. */
  grid: Record<string, Array<number | string>>;
  /** Rank by this metric, higher first (maxDrawdownPct: lower first). */
  metric: 'sharpe' | 'totalReturn' | 'maxDrawdownPct' | 'finalEquity';
  /** Child backtests running at once (default 8). */
  concurrency?: number;
}

export interface SweepEntry {
  backtestId: string;
  params: Record<string, number | string>;
  summary: BacktestSummary | null;
  error?: string;
}

export interface SweepResult {
  id: string;
  metric: SweepRequest['metric'];
  ranked: SweepEntry[];
}

export interface WalkForwardRequest {
  id: string;
  base: Omit<BacktestRequest, 'id' | 'params' | 'from' | 'to' | 'initialCapital'>;
  from: number;
  to: number;
  initialCapital: number;
  grid: Record<string, Array<number | string>>;
  metric: SweepRequest['metric'];
  folds: number;
  inSampleDays: number;
}

export interface WalkForwardFold {
  fold: number;
  inSample: { from: number; to: number; best: SweepEntry | null };
  outOfSample: { from: number; to: number; backtestId: string; initialCapital: number; summary: BacktestSummary | null };
}

export interface WalkForwardResult {
  id: string;
  folds: WalkForwardFold[];
  /** Out-of-sample folds chained: each starts with the equity the previous one ended with. */
  stitched: { initialCapital: number; finalEquity: number; totalReturn: number };
}

/** Metrics workflows report through the worker (Temporal sinks): counted once, not on replay. */
export interface MetricSinks extends Sinks {
  metrics: { sagaOutcome(status: SagaOutcome['status']): void };
}
