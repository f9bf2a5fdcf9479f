/** Task queues. Market data is split by provider so each queue can be capped at its provider's published rate. */
export const TASK_QUEUES = {
  marketData: 'mts-market-data',
  macroData: 'mts-market-data-macro',
  pipeline: 'mts-pipeline',
  trading: 'mts-trading',
  /** The real-time market stream's consumer: one long-running activity, moved to another worker if its own dies. */
  marketStream: 'mts-market-stream',
  backtest: 'mts-backtest',
} as const;
