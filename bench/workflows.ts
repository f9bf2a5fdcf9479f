import { proxyActivities } from '@temporalio/workflow';

type BenchActivities = { noop(step: string): Promise<void> };
const { noop } = proxyActivities<BenchActivities>({ startToCloseTimeout: '30s' });

/** The saga's shape with the work taken out: five activities in a row, for a baseline. */
export async function emptySagaWorkflow(): Promise<void> {
  for (const step of ['assess', 'reserve', 'execute', 'book', 'protect']) await noop(step);
}
