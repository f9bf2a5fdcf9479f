export { backfillWorkflow, collectTierWorkflow } from './collection';
export { generateSignalsWorkflow } from './signals';
