import { proxyActivities } from '@temporalio/workflow';
import type { HealthActivities } from '../activities/health';
import { TASK_QUEUES } from '../temporal/task-queues';
import { deliverAlerts } from './alerts';

const { checkDataHealth } = proxyActivities<HealthActivities>({
  taskQueue: TASK_QUEUES.pipeline,
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 5 },
});

/**
 * The data health check (on its own Schedule, so it runs even when collections stop): the seed's
 * rules per tier and asset, one alert when one turns unhealthy and one when it recovers, delivered
 * on the alert channels.
 */
export async function dataHealthWorkflow(): Promise<{ unhealthy: number; alerts: number; deliveryFailures: number }> {
  const { alerts, channels, unhealthy } = await checkDataHealth();
  const failures = await deliverAlerts(alerts, channels);
  return { unhealthy, alerts: alerts.length, deliveryFailures: failures.length };
}
