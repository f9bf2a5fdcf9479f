export { backtestWorkflow } from './backtest';
export { backfillWorkflow, collectTierWorkflow } from './collection';
export { generateSignalsWorkflow } from './signals';
export { protectPositionsWorkflow, riskAndExecuteWorkflow, snapshotPortfolioWorkflow } from './trading';
