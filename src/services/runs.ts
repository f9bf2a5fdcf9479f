import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { innermostMessage } from '../temporal/failures';
import { PROGRESS_QUERIES } from '../temporal/progress';

const { EventType } = proto.temporal.api.enums.v1;

export class RunConflictError extends Error {}
export class RunNotFoundError extends Error {}

const STATUSES = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT'] as const;
export type RunStatus = (typeof STATUSES)[number];
export const RUN_STATUSES = STATUSES;

/** How visibility queries spell a status: TIMED_OUT → TimedOut. */
const queryStatus = (s: RunStatus) => s.toLowerCase().replace(/(^|_)(\w)/g, (_m, _u, c: string) => c.toUpperCase());

export async function listRuns(client: Client, filter: { type?: string; status?: RunStatus; limit: number }) {
  const clauses: string[] = [];
  if (filter.type) clauses.push(`WorkflowType = '${filter.type.replace(/'/g, '')}'`);
  if (filter.status) clauses.push(`ExecutionStatus = '${queryStatus(filter.status)}'`);
  const runs = [];
  for await (const w of client.workflow.list({ query: clauses.join(' AND ') || undefined, pageSize: filter.limit })) {
    runs.push({
      workflowId: w.workflowId,
      runId: w.runId,
      type: w.type,
      status: w.status.name,
      taskQueue: w.taskQueue,
      startTime: w.startTime.toISOString(),
      closeTime: w.closeTime?.toISOString() ?? null,
    });
    if (runs.length >= filter.limit) break;
  }
  return runs;
}

async function describeOrThrow(client: Client, workflowId: string) {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(`no workflow run with id "${workflowId}"`);
    throw err;
  }
}

/** How long a progress query may take before the run is described without it. */
const PROGRESS_QUERY_DEADLINE_MS = 3000;

/**
 * What a running long workflow's progress query answers (`src/temporal/progress.ts` reads it); null
 * for a workflow type that reports none, or when no worker answers within the deadline (a worker
 * answers in milliseconds; with none polling, the server holds a query ~30 s before failing it).
 */
export async function runProgress(client: Client, run: { workflowId: string; runId?: string; type: string }): Promise<unknown> {
  const query = PROGRESS_QUERIES[run.type];
  if (!query) return null;
  try {
    return await client.connection.withDeadline(Date.now() + PROGRESS_QUERY_DEADLINE_MS, () => client.workflow.getHandle(run.workflowId, run.runId).query(query));
  } catch {
    // A run whose worker is gone (or busy past the deadline) cannot answer; status still says what is known.
    return null;
  }
}

/** Status, times, failure message or result, and (for long work while it runs) progress of the latest run of a workflow id. */
export async function describeRun(client: Client, workflowId: string) {
  const d = await describeOrThrow(client, workflowId);
  const handle = client.workflow.getHandle(workflowId, d.runId);
  let failure: string | null = null;
  let result: unknown = null;
  // A completed run's result is in its history: the summary of what it did, no worker needed.
  if (d.status.name === 'COMPLETED') result = await handle.result();
  if (d.status.name === 'FAILED') {
    try {
      await handle.result();
    } catch (err) {
      failure = innermostMessage(err);
    }
  }
  // A closed run would need a worker to replay it to answer; its result says how it ended.
  const progress = d.status.name === 'RUNNING' ? await runProgress(client, { workflowId, runId: d.runId, type: d.type }) : null;
  return {
    workflowId: d.workflowId,
    runId: d.runId,
    type: d.type,
    status: d.status.name,
    taskQueue: d.taskQueue,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString() ?? null,
    historyLength: d.historyLength,
    failure,
    result,
    progress,
  };
}

/**
 * Re-runs a failed, terminated, cancelled or timed-out run: reset to its first workflow task when it
 * has one (same workflow id, history kept), else start the same input again.
 */
export async function retryRun(client: Client, workflowId: string): Promise<{ workflowId: string; runId: string; method: 'reset' | 'restart' }> {
  const d = await describeOrThrow(client, workflowId);
  const status = d.status.name;
  if (status === 'RUNNING' || status === 'COMPLETED' || status === 'CONTINUED_AS_NEW') {
    throw new RunConflictError(`workflow "${workflowId}" is ${status}; only failed, terminated, cancelled or timed-out runs can be retried`);
  }
  const handle = client.workflow.getHandle(workflowId, d.runId);
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const started = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  const firstTaskCompleted = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  if (firstTaskCompleted?.eventId) {
    const response: proto.temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse = await client.workflowService.resetWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId, runId: d.runId },
      workflowTaskFinishEventId: firstTaskCompleted.eventId,
      reason: 'retried through the MTS API',
      requestId: `${d.runId}-retry-${Date.now()}`,
    });
    return { workflowId, runId: response.runId!, method: 'reset' };
  }
  const converter = client.options.loadedDataConverter.payloadConverter;
  const input = (started?.workflowExecutionStartedEventAttributes?.input?.payloads ?? []).map((p) => converter.fromPayload(p));
  const restarted = await client.workflow.start(d.type, {
    workflowId,
    taskQueue: d.taskQueue,
    args: input,
    typedSearchAttributes: d.typedSearchAttributes,
  });
  return { workflowId, runId: restarted.firstExecutionRunId, method: 'restart' };
}

export async function cancelRun(client: Client, workflowId: string): Promise<void> {
  const d = await describeOrThrow(client, workflowId);
  if (d.status.name !== 'RUNNING') throw new RunConflictError(`workflow "${workflowId}" is ${d.status.name}, not running`);
  await client.workflow.getHandle(workflowId).cancel();
}
