import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alertHistory, signalHistory } from '../../src/db/schema';
import type { Strategy } from '../../src/domain/strategies/framework';
import { DAY_MS } from '../../src/domain/types';
import { simulatedSources } from '../../src/providers/simulated';
import { MTS_STRATEGIES } from '../../src/temporal/search-attributes';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { backfillWorkflow } from '../../src/workflows/collection';
import { generateSignalsWorkflow } from '../../src/workflows/signals';
import type { GenerateSignalsInput } from '../../src/workflows/types';
import { startTestApi } from '../support/api';
import { clearMarketData, testDatabase } from '../support/db';
import { FakeHttpServer } from '../support/fake-http';
import { connectTemporal, marketDataWorkers, pipelineWorker, progressReporter, type TemporalKit, testSignalDeps, withWorkers } from '../support/temporal';

const handle = testDatabase();
const receiver = new FakeHttpServer();
const SECRET = 'test-webhook-secret-0123456789';
let kit: TemporalKit;
let receiverUrl = '';

beforeAll(async () => {
  kit = await connectTemporal();
  receiverUrl = await receiver.start();
  receiver.on((_req, url) => (url.pathname === '/gone' ? { status: 410, body: { error: 'this hook is gone' } } : { status: 204, body: '' }));
});
afterAll(async () => {
  await Promise.all([kit.close(), handle.close(), receiver.stop()]);
});

const END = Date.UTC(2026, 0, 1);
const START = END - 2 * 365 * DAY_MS;

function generate(input: GenerateSignalsInput) {
  return kit.client.workflow.execute(generateSignalsWorkflow, { workflowId: `test-signals-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline, args: [input] });
}

/** Reads `event: alert` messages from the SSE stream until `stop` resolves. */
async function collectSse(url: string, key: string, ready: () => void, stop: Promise<void>) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
  const events: Array<{ id: number; data: { alert_type: string; alert: Record<string, unknown> } }> = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  ready();
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let split;
      while ((split = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const id = /^id: (\d+)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (/^event: alert$/m.test(block) && id && data) events.push({ id: Number(id[1]), data: JSON.parse(data[1]) });
      }
    }
  })();
  await stop;
  controller.abort();
  await reading;
  return events;
}

describe('generateSignalsWorkflow on a backfilled simulated market', () => {
  beforeEach(() => clearMarketData(handle));

  it('produces LONG and SHORT signals from several strategies, and delivers alerts to files, alert_history, a signed webhook and SSE', async () => {
    const signals = testSignalDeps(handle, { channels: ['file', 'sse', 'webhook'], webhook: { url: `${receiverUrl}/hooks/mts`, secret: SECRET } });
    const deps = { db: handle.db, ...simulatedSources(3), reportBackfillProgress: progressReporter(kit.client) };
    const workers = [await pipelineWorker(kit, signals), ...await marketDataWorkers(kit, deps)];
    const api = await startTestApi(kit.client, handle, 'read:read-key-0001');
    try {
      await withWorkers(workers, async () => {
        await kit.client.workflow.execute(backfillWorkflow, {
          workflowId: `test-backfill-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
          args: [{
            from: START, to: END,
            targets: [
              { tier: 'high_frequency', asset: 'bitcoin', kind: 'crypto', intervalMinutes: 15 },
              { tier: 'high_frequency', asset: 'ethereum', kind: 'crypto', intervalMinutes: 15 },
              { tier: 'hourly', asset: 'solana', kind: 'crypto', intervalMinutes: 60 },
              { tier: 'macro', asset: 'VIXCLS', kind: 'macro', intervalMinutes: 1440 },
            ],
          }],
        });

        let ready!: () => void;
        const connected = new Promise<void>((r) => { ready = r; });
        let finish!: () => void;
        const finished = new Promise<void>((r) => { finish = r; });
        const sse = collectSse(`${api.base}/api/v1/alerts/stream`, 'read-key-0001', ready, finished);
        await connected;

        const year = { from: END - 365 * DAY_MS, to: END - DAY_MS };
        const run = await kit.client.workflow.start(generateSignalsWorkflow, { workflowId: `test-signals-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline, args: [year] });
        const summary = await run.result();
        const attributes = (await run.describe()).typedSearchAttributes;
        expect(attributes.get(MTS_STRATEGIES)?.sort()).toEqual(['mean_reversion', 'sma_crossover', 'vix_correlation', 'volatility_spike']);
        // Give the last notifications a moment to travel Postgres → API → client.
        await new Promise((r) => setTimeout(r, 500));
        finish();
        const events = await sse;

        expect(summary.stepsDone).toBe(365);
        expect(summary.strategyFailures).toEqual([]);
        expect(summary.deliveryFailures).toEqual([]);

        const byStrategy = await handle.db.execute<{ strategy_name: string; signal_type: string; n: number }>(
          sql`select strategy_name, signal_type, count(*)::int as n from ${signalHistory} group by 1, 2`);
        const rows = byStrategy.rows;
        const strategiesWith = (type: string) => new Set(rows.filter((r) => r.signal_type === type && r.strategy_name !== 'aggregate').map((r) => r.strategy_name));
        expect(strategiesWith('LONG').size).toBeGreaterThanOrEqual(2);
        expect(strategiesWith('SHORT').size).toBeGreaterThanOrEqual(2);
        expect(rows.some((r) => r.strategy_name === 'aggregate')).toBe(true);

        const alerts = await handle.db.select().from(alertHistory).orderBy(alertHistory.id);
        expect(alerts.length).toBe(summary.alerts);
        expect(alerts.some((a) => a.alertType === 'signal')).toBe(true);
        expect(alerts.some((a) => a.alertType === 'volatility_spike')).toBe(true);
        for (const a of alerts) {
          expect([...a.distributedChannels].sort()).toEqual(['file', 'sse', 'webhook']);
          expect(existsSync(a.filePath!)).toBe(true);
          expect(basename(a.filePath!)).toMatch(new RegExp(`^${a.alertType}_${a.asset}_\\d{8}_\\d{6}\\.json$`));
          const file = JSON.parse(readFileSync(a.filePath!, 'utf8'));
          expect(file).toEqual(a.alertData);
          // The seed's fields, in the seed's order.
          if (a.alertType === 'signal') {
            expect(Object.keys(file)).toEqual(['timestamp', 'asset', 'signal_type', 'confidence', 'strategies', 'price', 'position_size', 'risk_metrics']);
            expect(file.confidence).toBeGreaterThanOrEqual(0.8);
          } else {
            expect(Object.keys(file)).toEqual(['timestamp', 'asset', 'current_price', 'volatility_value', 'volatility_threshold',
              'volatility_percentile', 'position_direction', 'signal_type', 'alert_type', 'threshold_exceeded']);
          }
        }

        const hooks = receiver.requests.filter((r) => r.url.pathname === '/hooks/mts');
        expect(hooks).toHaveLength(alerts.length);
        for (const h of hooks) {
          const t = Number(h.headers['x-mts-timestamp']);
          expect(t).toBeGreaterThan(0);
          expect(h.headers['x-mts-signature']).toBe(`t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${h.body}`).digest('hex')}`);
        }
        expect(new Set(hooks.map((h) => h.body))).toEqual(new Set(alerts.map((a) => JSON.stringify(a.alertData))));

        expect(events.map((e) => e.id).sort((a, b) => a - b)).toEqual(alerts.map((a) => a.id));
        expect(events.find((e) => e.id === alerts[0].id)!.data.alert).toEqual(alerts[0].alertData);

        // The same decision times again: nothing new anywhere.
        const again = await generate(year);
        expect(again).toMatchObject({ signals: 0, aggregated: 0, alerts: 0 });
        expect(receiver.requests.filter((r) => r.url.pathname === '/hooks/mts')).toHaveLength(alerts.length);
      });
    } finally {
      await api.close();
    }
  });

  it('skips a failing strategy and keeps the others; a failing channel never blocks the rest', async () => {
    const deps = { db: handle.db, ...simulatedSources(3) };
    const broken: Strategy = {
      name: 'broken', config: { name: 'broken', enabled: true, assets: ['bitcoin'], parameters: {}, risk: { positionSize: 0.02, maxPositionSize: 0.05, stopLossPct: 0.02, riskRewardRatio: 2 } },
      parameters: () => [],
      analyze: () => { throw new Error('division by zero in broken'); },
      generateSignals: () => [],
    };
    const base = testSignalDeps(handle);
    const signals = testSignalDeps(handle, {
      strategies: [broken, ...base.strategies],
      channels: ['file', 'webhook'],
      // The receiver answers 410 Gone: a final refusal, not retried.
      webhook: { url: `${receiverUrl}/gone`, secret: SECRET },
    });
    const workers = [await pipelineWorker(kit, signals), ...await marketDataWorkers(kit, deps)];
    await withWorkers(workers, async () => {
      await kit.client.workflow.execute(backfillWorkflow, {
        workflowId: `test-backfill-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
        args: [{ from: START, to: END, targets: [{ tier: 'daily', asset: 'bitcoin', kind: 'crypto', intervalMinutes: 1440 }, { tier: 'macro', asset: 'VIXCLS', kind: 'macro', intervalMinutes: 1440 }] }],
      });
      const summary = await generate({ from: END - 120 * DAY_MS, to: END - DAY_MS, assets: ['bitcoin'] });
      expect(summary.strategyFailures.length).toBe(120);
      expect(summary.strategyFailures[0]).toMatchObject({ strategy: 'broken', error: 'division by zero in broken' });
      expect(summary.signals).toBeGreaterThan(0);
      expect(summary.alerts).toBeGreaterThan(0);
      expect(summary.deliveries.delivered).toBe(summary.alerts);
      expect(summary.deliveries.failed).toBe(summary.alerts);
      expect(summary.deliveryFailures[0]).toMatchObject({ channel: 'webhook', error: expect.stringMatching(/^webhook: HTTP 410/) });
      expect(receiver.requests.filter((r) => r.url.pathname === '/gone')).toHaveLength(summary.alerts);
      const alerts = await handle.db.select().from(alertHistory);
      expect(alerts.every((a) => a.distributedChannels.length === 1 && a.distributedChannels[0] === 'file')).toBe(true);
    });
  });
});
