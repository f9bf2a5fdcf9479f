export { backtestWorkflow } from './backtest';
export { backfillWorkflow, collectTierWorkflow } from './collection';
export { dataHealthWorkflow } from './health';
export { generateSignalsWorkflow } from './signals';
export { sweepWorkflow } from './sweep';
export { protectPositionsWorkflow, riskAndExecuteWorkflow, snapshotPortfolioWorkflow } from './trading';
export { walkForwardWorkflow } from './walk-forward';
export { marketStreamWorkflow } from './market-stream';
export { warmUpWorkflow } from './warm-up';
