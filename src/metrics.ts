import client from 'prom-client';

/**
 * The process's own metrics, the seed's names: one registry per process (the API and the workers of
 * `mts dev` share it; a worker process serves it on its health port). HTTP metrics live with each
 * app (see src/api/app.ts).
 */
export const processMetrics = new client.Registry();
client.collectDefaultMetrics({ register: processMetrics });

const counter = (name: string, help: string, labelNames: string[]) => new client.Counter({ name, help, labelNames, registers: [processMetrics] });

export const signalsGenerated = counter('signals_generated_total', 'Strategy and aggregated signals stored, by strategy and asset', ['strategy', 'asset']);
export const collectionRuns = counter('collection_runs_total', 'Collection attempts of one tier and asset, by outcome (ok, failed)', ['tier', 'outcome']);
export const providerCalls = counter('provider_calls_total', 'Calls made to a market data provider', ['provider']);
export const alertsDelivered = counter('alerts_delivered_total', 'Alert deliveries by channel and outcome (delivered, skipped, failed)', ['channel', 'outcome']);
export const sagaOutcomes = counter('saga_outcomes_total', 'Risk-and-execute sagas by final status', ['status']);
export const portfolioValue = new client.Gauge({
  name: 'portfolio_value_usd', help: 'Paper portfolio equity at its latest mark', labelNames: ['portfolio'], registers: [processMetrics],
});
export const backtestSlotsAvailable = new client.Gauge({
  name: 'backtest_slots_available', help: 'Backtests this worker process could still take: BACKTESTS_PER_WORKER less those running',
  registers: [processMetrics],
});
export const streamEvents = counter('stream_events_total',
  'Market stream events by outcome (bar, price, duplicate, out_of_order, malformed, unknown_symbol)', ['source', 'outcome']);
export const streamReconnects = counter('stream_reconnects_total', 'Market stream reconnects by why the connection ended (closed, stale, error)', ['source', 'reason']);
export const streamBackfills = counter('stream_backfill_total', 'REST backfills of stream gaps by outcome (ok, rate_limited, failed)', ['source', 'outcome']);
export const streamPriceWrites = counter('stream_price_writes_total', 'Latest prices written (at most one per asset per interval)', ['source']);
