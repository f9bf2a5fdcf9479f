import { createHash } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { MTS_ASSETS } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { riskAndExecuteWorkflow } from '../workflows/trading';
import type { ExecutionSignal } from '../workflows/types';

/** A signal without an id gets one from its content, so the same signal always maps to the same saga. */
export function externalSignalId(s: Omit<ExecutionSignal, 'signalId'>): string {
  const key = [s.asset, s.signalType, s.timestamp, s.price, s.confidence].join('|');
  return `ext-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** Starts the saga for a signal; the same signal again returns the same workflow and trades nothing more. */
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
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, duplicate: true };
    throw err;
  }
}
