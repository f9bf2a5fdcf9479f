import { createHash } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { MTS_ASSETS } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { riskAndExecuteWorkflow } from '../workflows/trading';
import type { ExecutionSignal } from '../workflows/types';

/** A signal without an id gets one from its content, so the same signal always maps to the same saga. */
export function externalSignalId(s: Omit<ExecutionSignal, 'signalId'>): string {
  const key = [s.asset, s.signalType, s.timestamp, s.price, s.confidence].join('|');
  return `ext-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** The same signal id arrived with other content: nothing is traded, and the caller is told what differs. */
export class SignalConflictError extends Error {
  constructor(readonly signalId: string, readonly fields: Array<{ field: string; stored: unknown; received: unknown }>) {
    super(`signal ${signalId} exists with other content: ${fields.map((f) => `${f.field} is ${JSON.stringify(f.stored)}, not ${JSON.stringify(f.received)}`).join('; ')}`);
  }
}

// What makes the trade; the timestamp of a signal posted without one is the time it arrived.
const COMPARED = ['asset', 'signalType', 'price', 'confidence'] as const;

/** The signal a saga was started with, read from the first event of its history. */
async function startedSignal(client: Client, workflowId: string): Promise<ExecutionSignal | undefined> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<ExecutionSignal>(payload) : undefined;
}

/**
 * Starts the saga for a signal; the same signal again returns the same workflow and trades nothing
 * more; the same id with different content is a `SignalConflictError`.
 */
export async function startSignalExecution(client: Client, signal: ExecutionSignal): Promise<{ workflowId: string; duplicate: boolean }> {
  const workflowId = `signal-${signal.signalId}`;
  try {
    await client.workflow.start(riskAndExecuteWorkflow, {
      workflowId,
      taskQueue: TASK_QUEUES.trading,
      args: [signal],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: [{ key: MTS_ASSETS, value: [signal.asset] }],
    });
    return { workflowId, duplicate: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const stored = await startedSignal(client, workflowId);
    const differing = stored ? COMPARED.filter((f) => stored[f] !== signal[f]).map((f) => ({ field: f, stored: stored[f], received: signal[f] })) : [];
    if (differing.length > 0) throw new SignalConflictError(signal.signalId, differing);
    return { workflowId, duplicate: true };
  }
}
