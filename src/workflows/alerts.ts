import { proxyActivities } from '@temporalio/workflow';
import type { SignalActivities } from '../activities/signals';
import { innermostMessage } from '../temporal/failures';
import { TASK_QUEUES } from '../temporal/task-queues';
import type { DeliverAlertInput, NewAlert } from './types';

const DELIVERY_BATCH = 20;

/** Each delivery is its own activity with its own retries, so one failing channel never holds up another. */
const { deliverAlert } = proxyActivities<SignalActivities>({
  taskQueue: TASK_QUEUES.pipeline,
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 6 },
});

/** Delivers each stored alert on each channel, twenty alerts at a time; returns what failed (after its retries). */
export async function deliverAlerts(alerts: NewAlert[], channels: Array<DeliverAlertInput['channel']>, onDelivered: () => void = () => undefined) {
  const failures: Array<{ alertId: number; channel: string; error: string }> = [];
  for (let i = 0; i < alerts.length; i += DELIVERY_BATCH) {
    await Promise.all(alerts.slice(i, i + DELIVERY_BATCH).flatMap((alert) => channels.map(async (channel) => {
      try {
        await deliverAlert({ alertId: alert.id, channel });
        onDelivered();
      } catch (err) {
        failures.push({ alertId: alert.id, channel, error: innermostMessage(err) });
      }
    })));
  }
  return failures;
}
