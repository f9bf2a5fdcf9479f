export { backfillWorkflow, collectTierWorkflow } from './collection';
