/** Task queues. Market data is split by provider so each queue can be capped at its provider's published rate. */
export const TASK_QUEUES = {
  marketData: 'mts-market-data',
  macroData: 'mts-market-data-macro',
  pipeline: 'mts-pipeline',
  trading: 'mts-trading',
  backtest: 'mts-backtest',
} as const;
