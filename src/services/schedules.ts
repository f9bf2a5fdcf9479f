import { type Client, ScheduleNotFoundError, type ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import type { CollectionConfig } from '../config/collection';
import { MTS_ASSETS, MTS_TIER } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { collectTierWorkflow } from '../workflows/collection';
import { dataHealthWorkflow } from '../workflows/health';
import { snapshotPortfolioWorkflow } from '../workflows/trading';
import { tierTargets } from './targets';

export const scheduleIdForTier = (tier: string) => `mts-tier-${tier}`;

function scheduleOptions(config: CollectionConfig, tier: string) {
  const t = config.tiers.find((x) => x.name === tier)!;
  return {
    spec: { intervals: [{ every: `${t.intervalMinutes} minutes` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: collectTierWorkflow,
      // Temporal appends the scheduled time, giving ids like collect-hourly-2026-11-24T10:00:00Z.
      workflowId: `collect-${tier}`,
      taskQueue: TASK_QUEUES.pipeline,
      args: [{ tier, targets: tierTargets(config, tier) }] as [Parameters<typeof collectTierWorkflow>[0]],
      typedSearchAttributes: [
        { key: MTS_TIER, value: tier },
        { key: MTS_ASSETS, value: t.assets },
      ],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${config.catchupWindowMinutes} minutes` },
  };
}

export const PORTFOLIO_SNAPSHOT_SCHEDULE = 'mts-portfolio-snapshots';
export const DATA_HEALTH_SCHEDULE = 'mts-data-health';

function healthScheduleOptions(everyMinutes: number) {
  return {
    spec: { intervals: [{ every: `${everyMinutes} minutes` }] },
    action: { type: 'startWorkflow' as const, workflowType: dataHealthWorkflow, workflowId: 'data-health', taskQueue: TASK_QUEUES.pipeline, args: [] as [] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
  };
}

function snapshotScheduleOptions(intervalMinutes: number) {
  return {
    spec: { intervals: [{ every: `${intervalMinutes} minutes` }] },
    action: { type: 'startWorkflow' as const, workflowType: snapshotPortfolioWorkflow, workflowId: 'portfolio-snapshot', taskQueue: TASK_QUEUES.trading, args: [] as [] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
  };
}

/**
 * Creates or updates one Schedule per tier from the config, the portfolio snapshot and the data health Schedules;
 * running it again changes nothing.
 */
export async function syncSchedules(
  client: Client, config: CollectionConfig, snapshotIntervalMinutes: number,
): Promise<Array<{ scheduleId: string; action: 'created' | 'updated' }>> {
  const results: Array<{ scheduleId: string; action: 'created' | 'updated' }> = [];
  const wanted: Array<{ scheduleId: string; options: Omit<ScheduleOptions, 'scheduleId'> }> = [
    ...config.tiers.map((tier) => ({ scheduleId: scheduleIdForTier(tier.name), options: scheduleOptions(config, tier.name) as Omit<ScheduleOptions, 'scheduleId'> })),
    { scheduleId: PORTFOLIO_SNAPSHOT_SCHEDULE, options: snapshotScheduleOptions(snapshotIntervalMinutes) as Omit<ScheduleOptions, 'scheduleId'> },
    { scheduleId: DATA_HEALTH_SCHEDULE, options: healthScheduleOptions(config.health.checkEveryMinutes) as Omit<ScheduleOptions, 'scheduleId'> },
  ];
  for (const { scheduleId, options } of wanted) {
    try {
      await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, ...options, state: previous.state }));
      results.push({ scheduleId, action: 'updated' });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create({ scheduleId, ...options });
      results.push({ scheduleId, action: 'created' });
    }
  }
  return results;
}

export async function listSchedules(client: Client) {
  const out = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith('mts-')) continue;
    const d = await client.schedule.getHandle(s.scheduleId).describe();
    out.push({
      id: d.scheduleId,
      paused: d.state.paused,
      note: d.state.note ?? null,
      intervalMs: d.spec.intervals?.[0]?.every ?? null,
      overlap: d.policies.overlap,
      catchupWindowMs: d.policies.catchupWindow,
      nextActionTimes: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
      recentActions: d.info.recentActions.slice(-5).map((a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        workflowId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : null,
      })),
      numActionsTaken: d.info.numActionsTaken,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
