export { backfillWorkflow, collectTierWorkflow } from './collection';
export { generateSignalsWorkflow } from './signals';
export { riskAndExecuteWorkflow } from './trading';
