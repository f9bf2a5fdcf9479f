import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createHealthActivities } from '../../src/activities/health';
import { createSignalActivities } from '../../src/activities/signals';
import { loadCollectionConfig } from '../../src/config/collection';
import { recordCollectionOutcome } from '../../src/db/collection-runs';
import { upsertCandles } from '../../src/db/market-data';
import { collectionStatus } from '../../src/services/collections';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { dataHealthWorkflow } from '../../src/workflows/health';
import { startTestApi } from '../support/api';
import { testSignalDeps, withWorkers, workflowBundle, workflowTestContext } from '../support/temporal';

const ctx = workflowTestContext();

describe('data health', () => {
  it('marks a tier and asset unhealthy in the status and /ready, alerts once per incident and once on recovery', async () => {
    const config = loadCollectionConfig();
    const now = Date.now();
    const fail = (at: number) => recordCollectionOutcome(ctx.handle.db, { tier: 'high_frequency', asset: 'bitcoin', source: 'coingecko', calls: 1, at: new Date(at), error: 'HTTP 500' });
    // Fresh bars for both coins; ethereum collects fine, bitcoin fails three times in a row.
    for (const asset of ['bitcoin', 'ethereum']) {
      await upsertCandles(ctx.handle.db, asset, 15, 'simulated', [{ timestamp: now - 30 * 60_000, open: 1, high: 1, low: 1, close: 1, volume: 1 }]);
    }
    await recordCollectionOutcome(ctx.handle.db, { tier: 'high_frequency', asset: 'ethereum', source: 'coingecko', calls: 1, at: new Date(now - 60_000), rowsWritten: 1 });
    for (const k of [3, 2, 1]) await fail(now - k * 60_000);

    const status = await collectionStatus(ctx.handle.db, config);
    expect(status.unhealthy).toBe(1);
    const byAsset = Object.fromEntries(status.assets.map((a) => [a.asset, a]));
    expect(byAsset.bitcoin).toMatchObject({ health: 'unhealthy', attemptsToday: 3, failuresToday: 3 });
    expect(byAsset.bitcoin.reasons).toEqual(['3 consecutive failures (limit 3)', '3 of 3 attempts failed today (limit 10%)']);
    expect(byAsset.ethereum).toMatchObject({ health: 'healthy', reasons: [] });
    const api = await startTestApi(ctx.kit.client, ctx.handle, 'read:read-key-00001');
    try {
      const ready = await (await fetch(`${api.base}/ready`)).json() as { status: string; checks: { data: unknown } };
      // Stale or failing data is detail: the API stays ready.
      expect(ready.status).toBe('ready');
      expect(ready.checks.data).toEqual({ ok: false, unhealthy: [{ tier: 'high_frequency', asset: 'bitcoin', reasons: byAsset.bitcoin.reasons }] });
    } finally {
      await api.close();
    }

    // The pipeline worker's activities with the health check on a clock the test moves.
    let clock = now;
    const signals = testSignalDeps(ctx.handle, { channels: ['file'] });
    const worker = await Worker.create({
      connection: ctx.kit.nativeConnection, namespace: 'default', taskQueue: TASK_QUEUES.pipeline, workflowBundle: await workflowBundle(),
      activities: { ...createSignalActivities(signals), ...createHealthActivities({ db: ctx.handle.db, collection: config, channels: ['file'], clock: () => clock }) },
    });
    const check = () => ctx.kit.client.workflow.execute(dataHealthWorkflow, { workflowId: `test-health-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline });
    const results = await withWorkers([worker], async () => {
      const opened = await check();
      const repeated = await check();
      // A success ends the streak, but 3 failures of 4 attempts today are still over 10%: not recovered.
      await recordCollectionOutcome(ctx.handle.db, { tier: 'high_frequency', asset: 'bitcoin', source: 'coingecko', calls: 1, at: new Date(now), rowsWritten: 1 });
      const still = await check();
      // The next day, one good attempt (and bars 24.5 hours old, inside 25): recovered.
      clock = now + 86_400_000;
      await recordCollectionOutcome(ctx.handle.db, { tier: 'high_frequency', asset: 'bitcoin', source: 'coingecko', calls: 1, at: new Date(clock), rowsWritten: 1 });
      const closed = await check();
      const quiet = await check();
      return { opened, repeated, still, closed, quiet };
    });
    expect(results.opened).toEqual({ unhealthy: 1, alerts: 1, deliveryFailures: 0 });
    expect(results.repeated).toEqual({ unhealthy: 1, alerts: 0, deliveryFailures: 0 });
    expect(results.still).toEqual({ unhealthy: 1, alerts: 0, deliveryFailures: 0 });
    expect(results.closed).toEqual({ unhealthy: 0, alerts: 1, deliveryFailures: 0 });
    expect(results.quiet).toEqual({ unhealthy: 0, alerts: 0, deliveryFailures: 0 });
    const alerts = readdirSync(signals.alertsDirectory).filter((f) => f.startsWith('data_health_bitcoin_')).sort()
      .map((f) => JSON.parse(readFileSync(`${signals.alertsDirectory}/${f}`, 'utf8')) as Record<string, unknown>);
    expect(alerts).toEqual([
      { timestamp: now, asset: 'bitcoin', tier: 'high_frequency', status: 'unhealthy', reasons: byAsset.bitcoin.reasons, alert_type: 'data_health' },
      { timestamp: now + 86_400_000, asset: 'bitcoin', tier: 'high_frequency', status: 'recovered', reasons: [], alert_type: 'data_health' },
    ]);
  });
});
