import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadCollectionConfig } from '../../src/config/collection';
import { upsertCandles } from '../../src/db/market-data';
import { insertAlert, insertSignals } from '../../src/db/signals';
import { syncSchedules } from '../../src/services/schedules';
import { clearMarketData, testDatabase } from '../support/db';
import { startTestApi } from '../support/api';
import { connectTemporal, type TemporalKit } from '../support/temporal';

const handle = testDatabase();
let kit: TemporalKit;
let api: Awaited<ReturnType<typeof startTestApi>>;
let base = '';
const keys = { read: 'read-key-0001', operator: 'operator-key-0001', admin: 'admin-key-0001' };

beforeAll(async () => {
  kit = await connectTemporal();
  await clearMarketData(handle);
  api = await startTestApi(kit.client, handle, `read:${keys.read},operator:${keys.operator},admin:${keys.admin}`);
  base = api.base;
});
afterAll(async () => {
  await api.close();
  await Promise.all([kit.close(), handle.close()]);
});

async function call(method: string, path: string, key?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  // Response bodies are JSON of many shapes, checked field by field in each test.
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

describe('health', () => {
  it('answers /health without a key and /ready with both checks', async () => {
    expect(await call('GET', '/health')).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await call('GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({ postgres: { ok: true }, temporal: { ok: true } });
  });

  it('serves an OpenAPI document built from the same zod schemas the routes validate with', async () => {
    const res = await fetch(`${base}/openapi.json`);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    const backfill = doc.paths['/api/v1/backfills'].post;
    expect(backfill.requestBody.content['application/json'].schema.required).toEqual(['assets', 'from', 'to']);
    expect(backfill.responses['403'].description).toBe('Needs the operator or admin role');
    expect(backfill.responses['503'].description).toMatch(/^Postgres or Temporal is not reachable/);
    const risk = doc.paths['/api/v1/assess-risk'].post.requestBody.content['application/json'].schema;
    expect(risk.properties.confidence).toMatchObject({ type: 'number', minimum: 0, maximum: 1 });
    expect(doc.paths['/api/v1/market-data/{asset}/candles'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['asset', 'from', 'to', 'interval', 'limit']);
    expect(doc.paths['/health'].get.security).toEqual([]);
  });

  it('serves Prometheus metrics', async () => {
    await call('GET', '/api/v1/strategies', keys.read);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('mts_http_requests_total');
    // The request just made, by its declared route; and the process's metrics beside the app's.
    expect(text).toMatch(/api_request_duration_seconds_count\{method="GET",route="\/api\/v1\/strategies\/?",status="200"\} [1-9]/);
    for (const name of ['signals_generated_total', 'collection_runs_total', 'provider_calls_total', 'alerts_delivered_total', 'saga_outcomes_total', 'portfolio_value_usd']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });
});

describe('auth', () => {
  it('401 without a key or with an unknown one', async () => {
    const none = await call('GET', '/api/v1/schedules');
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: 'unauthorized' });
    expect((await call('GET', '/api/v1/schedules', 'wrong-key-123')).status).toBe(401);
  });

  it('403 for a read key on a mutating route', async () => {
    const res = await call('POST', '/api/v1/collections', keys.read, { tier: 'high_frequency' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });
});

describe('validation', () => {
  it('400 naming the field', async () => {
    const bad = await call('POST', '/api/v1/backfills', keys.operator, { assets: ['bitcoin'], from: '2025-02-01', to: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    expect(bad.body.error.message).toMatch(/^body\.to: must be epoch milliseconds, an ISO date or an ISO date-time/);
    expect(bad.body.error.details).toEqual([{ field: 'body.to', message: expect.any(String) }]);

    const order = await call('POST', '/api/v1/backfills', keys.operator, { assets: ['bitcoin'], from: '2025-02-01', to: '2025-01-01' });
    expect(order.body.error.message).toBe('body.to: must be after from');

    const tier = await call('POST', '/api/v1/collections', keys.operator, { tier: 'weekly' });
    expect(tier.status).toBe(400);
    expect(tier.body.error.message).toMatch(/^body\.tier: unknown tier "weekly"/);

    const limit = await call('GET', '/api/v1/market-data/bitcoin/candles?limit=0', keys.read);
    expect(limit.status).toBe(400);
    expect(limit.body.error.message).toMatch(/^query\.limit: /);

    const json = await call('POST', '/api/v1/collections', keys.operator, '{"tier":');
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('invalid_json');
  });

  it('404 in the error format for unknown routes, runs and schedules', async () => {
    expect((await call('GET', '/api/v1/nothing', keys.read)).body.error.code).toBe('not_found');
    expect((await call('GET', '/api/v1/runs/no-such-run', keys.read)).status).toBe(404);
    expect((await call('POST', '/api/v1/schedules/mts-tier-none/pause', keys.operator, {})).status).toBe(404);
  });

  it('400 for a path parameter that is not valid percent-encoding, on every route that takes one', async () => {
    const routes = [
      'runs/%E0%A4%A', 'market-data/%E0%A4%A/candles', 'market-data/%E0%A4%A/chart', 'macro/%E0%A4%A', 'backtests/%E0%A4%A',
      'backtests/%E0%A4%A/result', 'backtests/%E0%A4%A/report.html', 'backtests/sweeps/%E0%A4%A', 'backtests/walk-forward/%E0%A4%A',
    ];
    for (const route of routes) {
      const res = await call('GET', `/api/v1/${route}`, keys.read);
      expect({ route, status: res.status, code: res.body?.error?.code }).toEqual({ route, status: 400, code: 'invalid_path' });
    }
    expect((await call('POST', '/api/v1/runs/%zz/cancel', keys.operator, {})).body.error).toMatchObject({ code: 'invalid_path', message: /percent-encoding/ });
  });
});

describe('schedules', () => {
  it('has one Schedule per tier with the configured interval, SKIP overlap, and can pause and unpause', async () => {
    const created = await syncSchedules(kit.client, loadCollectionConfig(), 60);
    // Live Schedules would start collections (and signals, and snapshots) in whatever test runs at the next interval.
    onTestFinished(async () => { for (const { scheduleId } of created) await kit.client.schedule.getHandle(scheduleId).delete(); });
    // A second sync changes nothing.
    expect((await syncSchedules(kit.client, loadCollectionConfig(), 60)).map((r) => r.action)).toEqual(['updated', 'updated', 'updated', 'updated', 'updated']);
    const res = await call('GET', '/api/v1/schedules', keys.read);
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.schedules.map((s: { id: string }) => [s.id, s]));
    expect(byId['mts-tier-high_frequency']).toMatchObject({ intervalMs: 15 * 60_000, overlap: 'SKIP', paused: false, catchupWindowMs: 3_600_000 });
    expect(byId['mts-tier-hourly']).toMatchObject({ intervalMs: 60 * 60_000 });
    expect(byId['mts-tier-macro']).toMatchObject({ intervalMs: 24 * 60 * 60_000 });
    expect(byId['mts-portfolio-snapshots']).toMatchObject({ intervalMs: 60 * 60_000, overlap: 'SKIP' });
    expect(byId['mts-data-health']).toMatchObject({ intervalMs: 15 * 60_000, overlap: 'SKIP' });

    expect((await call('POST', '/api/v1/schedules/mts-tier-hourly/pause', keys.operator, { note: 'maintenance' })).status).toBe(200);
    let hourly = (await call('GET', '/api/v1/schedules', keys.read)).body.schedules.find((s: { id: string }) => s.id === 'mts-tier-hourly');
    expect(hourly).toMatchObject({ paused: true, note: 'maintenance' });
    await call('POST', '/api/v1/schedules/mts-tier-hourly/unpause', keys.admin, {});
    hourly = (await call('GET', '/api/v1/schedules', keys.read)).body.schedules.find((s: { id: string }) => s.id === 'mts-tier-hourly');
    expect(hourly.paused).toBe(false);
  });
});

describe('data', () => {
  it('returns stored candles oldest first within the window, and the daily budget', async () => {
    const t0 = Date.UTC(2025, 0, 1);
    await upsertCandles(handle.db, 'bitcoin', 60, 'csv', [0, 1, 2, 3].map((i) => ({
      timestamp: t0 + i * 3_600_000, open: 100 + i, high: 102 + i, low: 99 + i, close: 101 + i, volume: 5,
    })));
    const res = await call('GET', `/api/v1/market-data/bitcoin/candles?from=${t0 + 3_600_000}&limit=2`, keys.read);
    expect(res.body.candles.map((c: { timestamp: number }) => c.timestamp)).toEqual([t0 + 2 * 3_600_000, t0 + 3 * 3_600_000]);
    expect(res.body.candles[0]).toMatchObject({ open: 102, source: 'csv', intervalMinutes: 60 });

    const status = await call('GET', '/api/v1/collections/status', keys.read);
    expect(status.body.budget).toMatchObject({ estimatedDailyCalls: 393, baselineDailyCalls: 2880, callsMadeToday: 0 });
  });
});

describe('signals, alerts and strategies', () => {
  it('lists the strategies with their parameter specs', async () => {
    const res = await call('GET', '/api/v1/strategies', keys.read);
    expect(res.body.strategies.map((s: { name: string }) => s.name).sort()).toEqual(['mean_reversion', 'sma_crossover', 'vix_correlation', 'volatility_spike']);
    const sma = res.body.strategies.find((s: { name: string }) => s.name === 'sma_crossover');
    expect(sma.parameterSpecs).toContainEqual(expect.objectContaining({ name: 'fast', type: 'int', default: 10 }));
    expect(sma.parameters).toEqual({ fast: 10, slow: 30, confidence: 0.65 });
  });

  it('starts signal generation once per decision time, for operators only', async () => {
    expect((await call('POST', '/api/v1/signals/generate', keys.read, {})).status).toBe(403);
    const both = await call('POST', '/api/v1/signals/generate', keys.operator, { asOf: '2025-01-01', from: '2024-12-01' });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toBe('body.asOf: give asOf, or from/to, not both');
    const first = await call('POST', '/api/v1/signals/generate', keys.operator, { asOf: '2025-01-01T00:00:00Z', assets: ['bitcoin'] });
    expect(first.status).toBe(202);
    expect(first.body.workflowId).toBe('signals-2025-01-01T00:00:00Z-bitcoin');
    const second = await call('POST', '/api/v1/signals/generate', keys.operator, { asOf: '2025-01-01T00:00:00Z', assets: ['bitcoin'] });
    expect(second.body).toEqual(first.body);
    // No worker runs here; stop the run so it cannot write into later tests.
    await kit.client.workflow.getHandle(first.body.workflowId).terminate('api test');
  });

  it('filters stored signals and alerts, and replays alerts after Last-Event-ID on the stream', async () => {
    await clearMarketData(handle);
    const t = Date.UTC(2025, 5, 1);
    const common = { price: 100, confidence: 0.9, positionSize: 0.02, stopLoss: 98, takeProfit: 104, analysis: { why: 'test' } };
    await insertSignals(handle.db, [
      { ...common, asset: 'bitcoin', signalType: 'LONG', timestamp: t, strategyName: 'sma_crossover' },
      { ...common, asset: 'bitcoin', signalType: 'SHORT', timestamp: t + 1, strategyName: 'vix_correlation' },
      { ...common, asset: 'ethereum', signalType: 'LONG', timestamp: t + 2, strategyName: 'sma_crossover' },
    ]);
    const longs = await call('GET', '/api/v1/signals?asset=bitcoin&type=LONG', keys.read);
    expect(longs.body.signals).toHaveLength(1);
    expect(longs.body.signals[0]).toMatchObject({ strategy: 'sma_crossover', analysis: { why: 'test' }, stopLoss: 98 });
    expect((await call('GET', `/api/v1/signals?from=${t + 1}`, keys.read)).body.signals.map((s: { timestamp: number }) => s.timestamp)).toEqual([t + 2, t + 1]);
    expect((await call('GET', '/api/v1/signals?type=HOLD', keys.read)).body.error.message).toMatch(/^query\.type: /);

    const alert = (ts: number) => ({ type: 'signal' as const, body: { timestamp: ts, asset: 'bitcoin', signal_type: 'LONG' as const, confidence: 0.9, strategies: ['a'], price: 1, position_size: 0.02, risk_metrics: { stop_loss: 0.98, take_profit: 1.04 } } });
    const firstId = (await insertAlert(handle.db, alert(t)))!;
    const secondId = (await insertAlert(handle.db, alert(t + 1)))!;
    const listed = await call('GET', '/api/v1/alerts?type=signal&asset=bitcoin', keys.read);
    expect(listed.body.alerts.map((a: { id: number }) => a.id)).toEqual([secondId, firstId]);

    const controller = new AbortController();
    const res = await fetch(`${base}/api/v1/alerts/stream`, { headers: { authorization: `Bearer ${keys.read}`, 'last-event-id': String(firstId) }, signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: alert')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toContain(`id: ${secondId}\n`);
    expect(text).not.toContain(`id: ${firstId}\n`);
  });
});

describe('POST /api/v1/assess-risk', () => {
  const body = {
    signal_id: 'ENHANCED_001', asset: 'FTM', signal_type: 'LONG', price: 0.4111, confidence: 0.931,
    portfolio_state: { total_equity: 100_000, current_drawdown: 0, daily_pnl: 0, positions: [] },
  };

  it('answers the seed request with the seed response', async () => {
    const res = await call('POST', '/api/v1/assess-risk', keys.read, body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ is_approved: true, risk_level: 'MEDIUM', risk_warnings: [], rejection_reason: null });
    expect(res.body.recommended_position_size).toBeCloseTo(1862, 9);
    expect(res.body.stop_loss_price).toBeCloseTo(0.402878, 12);
    expect(res.body.take_profit_price).toBeCloseTo(0.427544, 12);
  });

  it('rejects with the reason when the daily loss limit is reached', async () => {
    const res = await call('POST', '/api/v1/assess-risk', keys.read, { ...body, portfolio_state: { ...body.portfolio_state, daily_pnl: -4990 } });
    expect(res.body).toMatchObject({ is_approved: false, rejection_reason: expect.stringMatching(/^Trade would exceed daily loss limit/) });
  });

  it('weighs market conditions and a track record sent with the request, and shows every limit', async () => {
    // Ten daily returns, ±1% alternating; the same for the held coin (correlation 1) and another pattern for an orthogonal one.
    const returns = Array.from({ length: 10 }, (_, i) => (i % 2 ? 0.01 : -0.01));
    const market = {
      FTM: { daily_returns: returns, traded_value_24h: 2e6 }, BTC: { daily_returns: returns.map((r) => 3 * r), traded_value_24h: 1e9 },
    };
    const portfolio_state = { ...body.portfolio_state, positions: [{ asset: 'BTC', exposure: 5000 }] };
    const refused = await call('POST', '/api/v1/assess-risk', keys.read, { ...body, market, portfolio_state, timestamp: '2026-01-02T03:04:05Z' });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({
      is_approved: false, rejected_by: 'correlation', correlation_risk: 1, timestamp: '2026-01-02T03:04:05.000Z', position_size_method: 'blended',
      portfolio_impact: { equity: 100_000, open_positions: 1, exposure_before: 5000, sector: '(FTM)' },
    });
    expect(refused.body.market_volatility).toBeCloseTo(0.01 * Math.sqrt(10 / 9), 12);
    expect(refused.body.risk_limits_enforcement.correlation).toEqual({ value: 1, limit: 0.8, unit: 'fraction', utilization_pct: 125 });
    expect(refused.body.risk_limits_enforcement.liquidity).toEqual({ value: 2e6, limit: 1e6, unit: 'usd', utilization_pct: 50 });
    // Held short, the same coin hedges: approved, sized by the blend with the record's Kelly.
    const hedged = await call('POST', '/api/v1/assess-risk', keys.read, {
      ...body, market, portfolio_state: { ...body.portfolio_state, positions: [{ asset: 'BTC', exposure: 5000, side: 'SHORT' }] },
      track_record: { total: 30, hits: 18, gain: 0.9, loss: 0.36 },
    });
    expect(hedged.body).toMatchObject({ is_approved: true, correlation_risk: -1 });
    expect(hedged.body.position_sizing.components.kelly).toBeCloseTo(18_000, 6);
    expect(Object.keys(hedged.body.position_sizing.components)).toEqual(['fixed_percent', 'kelly', 'volatility', 'risk_parity']);
  });

  it.each([
    [{ market: { FTM: { daily_returns: 'up' } } }, 'body.market.FTM.daily_returns'],
    [{ track_record: { total: 3, hits: 4, gain: 0, loss: 0 } }, 'body.track_record.hits'],
    [{ timestamp: 'yesterday' }, 'body.timestamp'],
    [{ confidence: 1.2 }, 'body.confidence'],
    [{ price: 0 }, 'body.price'],
    [{ portfolio_state: { total_equity: -5 } }, 'body.portfolio_state.total_equity'],
    [{ signal_type: 'HOLD' }, 'body.signal_type'],
  ])('400 naming the field for %o', async (patch, field) => {
    const res = await call('POST', '/api/v1/assess-risk', keys.read, { ...body, ...patch });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });
});

describe('request bodies the parser refuses', () => {
  const post = (headers: Record<string, string>, body: string | Buffer) =>
    fetch(`${base}/api/v1/assess-risk`, { method: 'POST', headers: { authorization: `Bearer ${keys.read}`, ...headers }, body });

  it.each([
    ['a body over 1 MB', { 'content-type': 'application/json' }, JSON.stringify({ pad: 'x'.repeat(1_100_000) }), 413, 'payload_too_large'],
    ['an unknown charset', { 'content-type': 'application/json; charset=bogus' }, '{}', 415, 'unsupported_media_type'],
    ['an unknown content-encoding', { 'content-type': 'application/json', 'content-encoding': 'bogus' }, '{}', 415, 'unsupported_media_type'],
    ['a corrupt gzip body', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip at all', 400, 'invalid_body'],
  ])('%s → %s, not a 500', async (_name, headers, body, status, code) => {
    const res = await post(headers, body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });
});

describe('logs', () => {
  it('hold no API key, valid or guessed, after every request of this file', async () => {
    const guessed = 'guessed-key-that-is-wrong-0001';
    expect((await call('GET', '/api/v1/portfolio', guessed)).status).toBe(401);
    const logs = api.logs();
    // The requests were logged (so the check below looked at real lines), with their headers redacted.
    expect(logs).toContain('"url":"/api/v1/portfolio"');
    expect(logs).toContain('"authorization":"[Redacted]"');
    for (const key of [...Object.values(keys), guessed]) expect(logs).not.toContain(key);
  });
});

describe('a portfolio before its first trade', () => {
  it('is its starting cash with no positions, everywhere, and states no annualised figure', async () => {
    const summary = await call('GET', '/api/v1/portfolio', keys.read);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ cash: 10_000, equity: 10_000, positionsValue: 0, openPositions: 0, realizedPnl: 0, drawdown: 0 });
    expect(summary.body.note).toMatch(/^no trades yet/);
    const perf = await call('GET', '/api/v1/portfolio/performance', keys.read);
    expect(perf.status).toBe(200);
    expect(perf.body.metrics).toMatchObject({ tradeCount: 0, annualizedReturn: null, sharpe: null, winRate: null });
    const report = await fetch(`${base}/api/v1/portfolio/report.html`, { headers: { authorization: `Bearer ${keys.read}` } });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await report.text()).toContain('No trades yet.');
    const risk = await call('GET', '/api/v1/portfolio/risk', keys.read);
    expect(risk.status).toBe(200);
    expect(risk.body).toMatchObject({ equity: 10_000, heat: 0, positions: [], sectors: [], correlations: [] });
    expect(risk.body.limits.drawdown).toEqual({ value: 0, limit: 0.2, utilization: 0, unit: 'fraction' });
    expect(risk.body.limits.dailyLoss).toEqual({ value: 0, limit: 500, utilization: 0, unit: 'usd' });
    expect(risk.body.note).toMatch(/^no open positions/);
    expect((await call('GET', '/api/v1/portfolio/assessments', keys.read)).body).toEqual({ assessments: [] });
    const bad = await call('GET', '/api/v1/portfolio/assessments?approved=maybe&limit=5000', keys.read);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['query.approved', 'query.limit']);
  });
});

describe('runs by status', () => {
  it.each(['failed', 'running', 'completed', 'timed_out', 'continued_as_new'])('lists runs with status %s (the visibility query spells it its own way)', async (status) => {
    const res = await call('GET', `/api/v1/runs?status=${status}&limit=5`, keys.read);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.runs)).toBe(true);
  });
});
