import { type Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import type { Database } from '../db/client';
import { querySignals } from '../db/signals';
import { type SignalOutcomeRow, signalOutcomes } from '../db/trading';
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

/** A saga's end in one word and why: filled, rejected (the rule's reason), compensated (the cancellation's), or not traded (yet). */
function outcomeOf(o: SignalOutcomeRow | undefined) {
  if (!o) return { status: 'not_traded', reason: null };
  if (!o.approved) return { status: 'rejected', reason: o.rejection };
  if (o.orderStatus === 'filled') return { status: 'filled', reason: null };
  if (o.orderStatus === 'cancelled') return { status: 'compensated', reason: o.orderReason };
  // Approved without an order: refused when the limits were checked again under the lock, or not reserved yet.
  return { status: o.orderStatus === null ? 'not_reserved' : 'in_progress', reason: null };
}

/** Stored signals, newest first; an aggregated one (traded under its row id) with what its saga made of it. */
export async function signalsWithOutcomes(db: Database, portfolioId: string, q: Parameters<typeof querySignals>[1]) {
  const rows = await querySignals(db, q);
  const outcomes = await signalOutcomes(db, portfolioId, rows.filter((r) => r.strategyName === 'aggregate').map((r) => String(r.id)));
  return rows.map((r) => ({
    id: r.id, asset: r.asset, signalType: r.signalType, timestamp: r.timestamp, time: new Date(r.timestamp).toISOString(),
    price: r.price, strategy: r.strategyName, confidence: r.confidence, positionSize: r.positionSize,
    stopLoss: r.stopLoss, takeProfit: r.takeProfit, strategies: r.strategies, analysis: r.analysis,
    ...(r.strategyName === 'aggregate' ? { outcome: outcomeOf(outcomes.get(String(r.id))) } : {}),
  }));
}
