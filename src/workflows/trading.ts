import { ActivityFailure, ApplicationFailure, proxyActivities, proxySinks } from '@temporalio/workflow';
import type { TradingActivities } from '../activities/trading';
import { innermostMessage } from '../temporal/failures';
import { TASK_QUEUES } from '../temporal/task-queues';
import type { ExecutionSignal, MetricSinks, ProtectiveExit, SagaOutcome } from './types';

const { metrics } = proxySinks<MetricSinks>();

const trading = proxyActivities<TradingActivities>({
  taskQueue: TASK_QUEUES.trading,
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** Protection is retried longer: a position that stays unprotected is worse than a slow saga. */
const protection = proxyActivities<TradingActivities>({
  taskQueue: TASK_QUEUES.trading,
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
});

/**
 * The per-signal saga, run under workflow id `signal-<signal id>` so a signal executes at most once:
 * assess (the trading core's decision, recorded) → stop if rejected → reserve cash → paper fill →
 * book the fill → protect (stop and target from the fill price). A failure after the reservation and
 * before the fill is booked runs the compensation (cancel the order, release the cash). Once booked,
 * a trade stands: protection is retried, and if it still fails the outcome is `filled_unprotected`
 * with an alert, never `compensated`.
 */
export async function riskAndExecuteWorkflow(signal: ExecutionSignal): Promise<SagaOutcome> {
  const outcome = await riskAndExecute(signal);
  // Counted by the worker (saga_outcomes_total), not again when the history is replayed.
  metrics.sagaOutcome(outcome.status);
  return outcome;
}

async function riskAndExecute(signal: ExecutionSignal): Promise<SagaOutcome> {
  const assessment = await trading.assessSignalRisk(signal);
  if (!assessment.isApproved) {
    return { status: 'rejected', signalId: signal.signalId, reason: assessment.rejectionReason ?? 'not approved' };
  }
  const orderId = `signal-${signal.signalId}`;
  try {
    await trading.reserveOrder({ orderId, signal, notional: assessment.recommendedPositionSize });
  } catch (err) {
    // Refused at reservation (a limit re-checked under the lock, or no free cash): nothing to undo.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
      return { status: 'rejected', signalId: signal.signalId, reason: err.cause.message };
    }
    throw err;
  }
  let fill;
  let booked;
  try {
    fill = await trading.executeOrder({ orderId });
    booked = await trading.applyFillToPortfolio({ fillId: fill.fillId });
  } catch (err) {
    const reason = innermostMessage(err);
    await trading.cancelOrder({ orderId, reason });
    return { status: 'compensated', signalId: signal.signalId, orderId, reason };
  }
  try {
    const levels = await protection.registerProtection({ fillId: fill.fillId });
    return {
      status: 'filled', signalId: signal.signalId, orderId, fill, realized: booked.realized,
      stopLoss: levels?.stopLoss ?? null, takeProfit: levels?.takeProfit ?? null,
    };
  } catch (err) {
    const reason = innermostMessage(err);
    await trading.reportUnprotected({ signal, fill, reason });
    return { status: 'filled_unprotected', signalId: signal.signalId, orderId, fill, realized: booked.realized, reason };
  }
}

/** Checks stops and targets against the bars collected since the last check; started after each crypto collection. */
export async function protectPositionsWorkflow(input: { assets?: string[] }): Promise<ProtectiveExit[]> {
  return trading.checkProtectiveOrders(input);
}

/** Marks the portfolio on a Schedule, so the equity curve moves with prices between trades. */
export async function snapshotPortfolioWorkflow(): Promise<void> {
  await trading.snapshotPortfolio();
}
