import { type Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import { MTS_ASSETS } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { generateSignalsWorkflow } from '../workflows/signals';
import type { GenerateSignalsInput } from '../workflows/types';

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Starts signal generation. The workflow id names the decision time(s), so asking twice for the
 * same asOf while it runs returns the same run, and a finished one re-runs idempotently.
 */
export async function startSignalGeneration(client: Client, input: GenerateSignalsInput, now = Date.now()) {
  const scope = input.assets ? `-${input.assets.join('+')}` : '';
  const when = input.from !== undefined || input.to !== undefined
    ? `${iso(input.from ?? (input.to ?? now) - 86_400_000)}-${iso(input.to ?? now)}`
    : iso(input.asOf ?? now);
  const request = input.asOf === undefined && input.from === undefined && input.to === undefined ? { ...input, asOf: now } : input;
  const handle = await client.workflow.start(generateSignalsWorkflow, {
    workflowId: `signals-${when}${scope}`,
    taskQueue: TASK_QUEUES.pipeline,
    args: [request],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: input.assets ? [{ key: MTS_ASSETS, value: input.assets }] : [],
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}
