import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  defineQuery, executeChild, ParentClosePolicy, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { SignalActivities } from '../activities/signals';
import { MTS_STRATEGIES } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { deliverAlerts } from './alerts';
import { riskAndExecuteWorkflow } from './trading';
import type { ExecutionSignal, GenerateSignalsInput, GenerateSignalsProgress, GenerateSignalsSummary, NewAlert } from './types';

const DAY_MS = 86_400_000;
/** Decision times per activity call: small enough to heartbeat often, large enough to load data once for many. */
const STEPS_PER_CHUNK = 120;

const { evaluateSignals } = proxyActivities<SignalActivities>({
  taskQueue: TASK_QUEUES.pipeline,
  startToCloseTimeout: '30m',
  heartbeatTimeout: '5m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 3 },
});

export const signalsProgressQuery = defineQuery<GenerateSignalsProgress>('progress');

export function decisionTimes(input: GenerateSignalsInput, now: number): number[] {
  if (input.from === undefined && input.to === undefined) return [input.asOf ?? now];
  const step = (input.stepMinutes ?? 1440) * 60_000;
  const from = input.from ?? (input.to! - DAY_MS);
  const to = input.to ?? now;
  const times: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) times.push(t);
  return times;
}

/**
 * Runs the strategies at one decision time (default: now) or at every step of a range, aggregates,
 * stores signals and alerts, then delivers each new alert on each channel.
 */
export async function generateSignalsWorkflow(input: GenerateSignalsInput): Promise<GenerateSignalsSummary> {
  const times = decisionTimes(input, workflowInfo().startTime.getTime());
  const progress: GenerateSignalsProgress = {
    stepsDone: 0, stepsTotal: times.length, signals: 0, aggregated: 0, alerts: 0, deliveries: { delivered: 0, failed: 0 }, sagasStarted: 0, sagaOutcomes: {},
  };
  setHandler(signalsProgressQuery, () => progress);
  const strategyFailures: GenerateSignalsSummary['strategyFailures'] = [];
  const deliveryFailures: GenerateSignalsSummary['deliveryFailures'] = [];
  const alerts: NewAlert[] = [];
  const trades: ExecutionSignal[] = [];
  let channels: Awaited<ReturnType<typeof evaluateSignals>>['channels'] = [];

  for (let i = 0; i < times.length; i += STEPS_PER_CHUNK) {
    const r = await evaluateSignals({ asOfs: times.slice(i, i + STEPS_PER_CHUNK), assets: input.assets });
    progress.stepsDone += r.steps;
    progress.signals += r.signals;
    progress.aggregated += r.aggregated;
    progress.alerts += r.alerts.length;
    alerts.push(...r.alerts);
    trades.push(...r.trades);
    strategyFailures.push(...r.strategyFailures);
    channels = r.channels;
    // The worker knows which strategies ran; record them so runs are findable by strategy.
    if (i === 0) upsertSearchAttributes([{ key: MTS_STRATEGIES, value: r.strategies }]);
  }

  if (input.distribute ?? true) {
    const failed = await deliverAlerts(alerts, channels, () => { progress.deliveries.delivered += 1; });
    progress.deliveries.failed += failed.length;
    deliveryFailures.push(...failed);
  }

  // Historical ranges are for research; only a present decision trades the paper portfolio by default.
  // One saga at a time, in decision-time then asset order: each sees the book the previous one left,
  // exactly as a backtest decides the assets closing at one time.
  if (input.execute ?? times.length === 1) {
    for (const signal of trades) {
      let outcome: string;
      try {
        const result = await executeChild(riskAndExecuteWorkflow, {
          workflowId: `signal-${signal.signalId}`,
          taskQueue: TASK_QUEUES.trading,
          args: [signal],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
        outcome = result.status;
      } catch (err) {
        // Exactly once: a signal whose saga already exists is not traded again.
        if (err instanceof WorkflowExecutionAlreadyStartedError) continue;
        outcome = 'failed';
      }
      progress.sagasStarted += 1;
      progress.sagaOutcomes[outcome] = (progress.sagaOutcomes[outcome] ?? 0) + 1;
    }
  }
  return { ...progress, strategyFailures, deliveryFailures };
}
