import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/api/errors';
import { connectDatabase } from '../../src/db/client';
import { listApiKeys, revokeApiKey } from '../../src/db/api-keys';
import { createApiKey, KeyVerifier } from '../../src/services/api-keys';
import { insertAlert } from '../../src/db/signals';
import { insertTrades, saveResult, storeCurvePoints } from '../../src/db/backtests';
import { TradeLog } from '../../src/domain/backtest/logs';
import { startTestApi } from '../support/api';
import { testDatabase } from '../support/db';
import { connectTemporal, type TemporalKit } from '../support/temporal';

const handle = testDatabase();
let kit: TemporalKit;
let api: Awaited<ReturnType<typeof startTestApi>>;
const keys = { read: 'read-key-hard-01', operator: 'operator-key-hard-01', admin: 'admin-key-hard-01' };

beforeAll(async () => {
  kit = await connectTemporal();
  api = await startTestApi(kit.client, handle, `read:${keys.read},operator:${keys.operator},admin:${keys.admin}`,
    { rateLimits: { authFailuresPerMinute: 20, signalGenerationPerMinute: 3, streamsPerKey: 2 } });
});
afterAll(async () => {
  await api.close();
  await Promise.all([kit.close(), handle.close()]);
});

async function call(method: string, path: string, key: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.base}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as any };
}

const fields = (r: { body: any }) => (r.body?.error?.details ?? []).map((d: { field: string }) => d.field);

describe('work is bounded at the edge', () => {
  it.each([
    ['signal generation with only from (to defaults to now)', '/api/v1/signals/generate', { from: 0, stepMinutes: 5, assets: ['nosuchcoin'], distribute: false }, 'body.from'],
    ['signal generation of 30,000 five-minute steps', '/api/v1/signals/generate', { from: '2024-01-01', to: '2024-04-15', stepMinutes: 5 }, 'body.from'],
    ['a backfill from year 1', '/api/v1/backfills', { assets: ['solana'], from: '0001-01-01', to: '2026-12-01' }, 'body.from'],
    ['a backfill over 15 years', '/api/v1/backfills', { assets: ['solana'], from: '2011-01-01', to: '2026-01-01' }, 'body.from'],
    ['a walk-forward of 20 × 25 combinations × 50 folds', '/api/v1/backtests/walk-forward', {
      strategy: 'sma_crossover', assets: ['bitcoin'], from: '2018-01-01', to: '2024-01-01', folds: 50, inSampleDays: 30,
      grid: { fast: Array.from({ length: 20 }, (_, k) => k + 2), slow: Array.from({ length: 25 }, (_, k) => k + 30) },
    }, 'body.folds'],
    ['a backtest over 9e15', '/api/v1/backtests', { strategy: 'sma_crossover', assets: ['bitcoin'], from: 0, to: 9e15 }, 'body.from'],
    ['a backtest with a capital of 1e308', '/api/v1/backtests', { strategy: 'sma_crossover', assets: ['bitcoin'], from: '2020-01-01', to: '2021-01-01', initialCapital: 1e308 }, 'body.initialCapital'],
    ['a 15-minute backtest of 50 coins over 15 years', '/api/v1/backtests', {
      strategy: 'sma_crossover', assets: Array.from({ length: 50 }, (_, k) => `coin${k}`), from: '2010-01-01', to: '2025-01-01', conventions: { bar: '15m' },
    }, 'body.to'],
  ])('%s → 400 naming the field and the bound', async (_name, path, body, field) => {
    const res = await call('POST', path, keys.admin, body);
    expect(res.status).toBe(400);
    expect(fields(res)).toContain(field);
  });

  it.each([
    ['strategy "constructor"', 'POST', '/api/v1/backtests', { strategy: 'constructor', assets: ['bitcoin'], from: '2020-01-01', to: '2021-01-01' }, 400],
    ['strategy "__proto__"', 'POST', '/api/v1/backtests', { strategy: '__proto__', assets: ['bitcoin'], from: '2020-01-01', to: '2021-01-01' }, 400],
    ['strategy "toString"', 'POST', '/api/v1/backtests/sweeps', { strategy: 'toString', assets: ['bitcoin'], from: '2020-01-01', to: '2021-01-01', grid: {} }, 400],
    ['an interval of 3,000,000,000 minutes', 'GET', '/api/v1/market-data/bitcoin/candles?interval=3000000000', undefined, 400],
    ['to = 9e15', 'GET', '/api/v1/market-data/bitcoin/candles?to=9000000000000000', undefined, 400],
    ['asOf = 9e15', 'POST', '/api/v1/signals/generate', { asOf: 9e15 }, 400],
    ['a 1,200-character asset', 'POST', '/api/v1/backfills', { assets: ['a'.repeat(1200)], from: '2024-01-01', to: '2024-02-01' }, 400],
    ['a 3,000-character asset in a signal', 'POST', '/api/v1/signals', { asset: 'b'.repeat(3000), signal_type: 'LONG', price: 1, confidence: 0.5, timestamp: 1.7e12 }, 400],
  ])('%s → a 4xx, not a 500', async (_name, method, path, body, status) => {
    expect((await call(method, path, keys.admin, body)).status).toBe(status);
  });
});

describe('a large backtest result', () => {
  const id = 'bt-large-result';
  const POINTS = 50_000;
  const HOUR = 3_600_000;
  // A wave with one deep trough and one high peak placed by hand: thinning must keep both.
  const equity = Float64Array.from({ length: POINTS }, (_, i) => 100_000 + 5_000 * Math.sin(i / 500));
  equity[31_337] = 60_000;
  equity[12_345] = 140_000;
  // Neither the first nor the last point is its stretch's lowest or highest.
  for (const end of [0, POINTS - 1]) {
    const near = end === 0 ? 1 : -1;
    equity[end + 5 * near] = equity[end] + 1_000;
    equity[end + 10 * near] = equity[end] - 1_000;
  }
  const TRADES = 2_500;

  beforeAll(async () => {
    await saveResult(handle.db, {
      backtestId: id, strategyName: 'sma_crossover', startDate: '2020-01-01', endDate: '2025-09-14', initialCapital: 100_000,
      finalValue: equity[POINTS - 1], totalReturn: 0, sharpeRatio: null, maxDrawdown: 0.5, tradeCount: TRADES, assets: ['bitcoin'],
      parameters: {}, conventions: { bar: '1h' }, metrics: {}, exposureTime: 0.5,
    });
    await storeCurvePoints(handle.db, id, 0, { time: Float64Array.from({ length: POINTS }, (_, i) => i * HOUR), equity });
    // Stored out of entry order, as trades close.
    await insertTrades(handle.db, id, 0, new TradeLog(Array.from({ length: TRADES }, (_, k) => {
      const entryTime = (TRADES - k) * 10 * HOUR;
      return { asset: 'bitcoin', direction: 'LONG' as const, entryTime, entryPrice: 100, exitTime: entryTime + HOUR, exitPrice: 101, quantity: 1, fees: 0, grossPnl: 1, pnl: 1, returnPct: 0.01 };
    })));
  });

  it('comes thinned and a page of trades at a time, keeping its first and last point, trough and peak', async () => {
    const res = await call('GET', `/api/v1/backtests/${id}/result`, keys.read);
    expect(res.status).toBe(200);
    const curve = res.body.equity as Array<{ time: number; equity: number }>;
    expect(curve.length).toBeLessThanOrEqual(2002);
    expect(res.body.equityPoints).toEqual({ stored: POINTS, returned: curve.length });
    expect(curve[0]).toEqual({ time: 0, equity: equity[0] });
    expect(curve.at(-1)).toEqual({ time: (POINTS - 1) * HOUR, equity: equity[POINTS - 1] });
    expect(curve).toContainEqual({ time: 31_337 * HOUR, equity: 60_000 });
    expect(curve).toContainEqual({ time: 12_345 * HOUR, equity: 140_000 });
    expect(curve.map((p) => p.time)).toEqual([...curve.map((p) => p.time)].sort((a, b) => a - b));
    expect(res.body.trades).toHaveLength(1000);
    expect(res.body.tradesPage).toEqual({ offset: 0, returned: 1000, stored: TRADES });
    expect(res.body.trades[0].entryTime).toBe(10 * HOUR);

    const last = await call('GET', `/api/v1/backtests/${id}/result?tradeOffset=2000&tradeLimit=1000&points=100000`, keys.read);
    expect(last.body.tradesPage).toEqual({ offset: 2000, returned: 500, stored: TRADES });
    expect(last.body.trades.map((t: { entryTime: number }) => t.entryTime)).toEqual(Array.from({ length: 500 }, (_, k) => (2001 + k) * 10 * HOUR));
    // Asked for as many points as it has: the whole curve.
    expect(last.body.equity.map((p: { equity: number }) => p.equity)).toEqual(Array.from(equity));
  });

  it.each([
    ['points=5', 'query.points'], ['points=1000000', 'query.points'], ['tradeLimit=20000', 'query.tradeLimit'], ['tradeOffset=-1', 'query.tradeOffset'],
  ])('refuses %s with a 400 naming the field', async (query, field) => {
    const res = await call('GET', `/api/v1/backtests/${id}/result?${query}`, keys.read);
    expect(res.status).toBe(400);
    expect(fields(res)).toContain(field);
  });
});

describe('limits per key', () => {
  it('answers wrong keys with 401 and then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 30; i++) {
      const res = await call('GET', '/api/v1/portfolio', `guessed-key-${i}-xxxxxxxx`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('holds signal generation to its own per-minute budget', async () => {
    const statuses = [];
    // Bad bodies still count: the budget is for requests, whatever they hold.
    for (let i = 0; i < 5; i++) statuses.push((await call('POST', '/api/v1/signals/generate', keys.operator, { asOf: 'never' })).status);
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
  });

  it('caps the alert streams a key may hold open, releases them when clients go, and refuses a bad Last-Event-ID', async () => {
    expect((await call('GET', '/api/v1/alerts/stream', keys.read, undefined, { 'last-event-id': '1e20' })).status).toBe(400);
    const open = async () => {
      const controller = new AbortController();
      const res = await fetch(`${api.base}/api/v1/alerts/stream`, { headers: { authorization: `Bearer ${keys.read}`, 'last-event-id': '1' }, signal: controller.signal });
      return { status: res.status, close: () => controller.abort() };
    };
    await insertAlert(handle.db, { type: 'volatility_spike', body: { timestamp: 1, asset: 'x', current_price: 1, volatility_value: 1, volatility_threshold: 1, volatility_percentile: 1, position_direction: 'LONG', signal_type: 'LONG', alert_type: 'volatility_spike', threshold_exceeded: true } });
    const a = await open();
    const b = await open();
    const c = await open();
    expect([a.status, b.status, c.status]).toEqual([200, 200, 429]);
    a.close();
    b.close();
    // Released on disconnect: two new streams fit again.
    await new Promise((r) => setTimeout(r, 200));
    const d = await open();
    const e = await open();
    expect([d.status, e.status]).toEqual([200, 200]);
    d.close();
    e.close();
  });
});

describe('keys you can manage, and the audit log', () => {
  it('verifies a stored key, refuses it once revoked, and records every mutating call', async () => {
    const key = await createApiKey(handle.db, 'ops-bot', 'operator');
    expect(key).toMatch(/^mts_[a-f0-9]{12}_/);
    // Only a salted hash is stored.
    const [stored] = (await listApiKeys(handle.db)).filter((k) => k.name === 'ops-bot');
    // The secret is everything after the id (base64url: it may hold "_" itself).
    const secret = key.slice('mts_'.length + 12 + 1);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect((await call('POST', '/api/v1/collections', key, { tier: 'nosuchtier' })).status).toBe(400);
    // A read key sees no more than what a route needs: its own role is not named.
    const forbidden = await call('POST', '/api/v1/collections', keys.read, { tier: 'hourly' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.message).not.toMatch(/read/);
    expect((await call('GET', '/api/v1/audit', key)).status).toBe(403);
    // Audit rows are written once the answer has gone out (in whatever order the inserts land).
    type Entry = { keyName: string; role: string; method: string; route: string; status: number; bodyDigest: string };
    const find = async () => ((await call('GET', '/api/v1/audit?limit=10', keys.admin)).body.entries as Entry[]);
    let entries = await find();
    for (let i = 0; i < 40 && !(entries.some((e) => e.status === 403) && entries.some((e) => e.keyName === 'ops-bot')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      entries = await find();
    }
    expect(entries.find((e) => e.status === 403)).toMatchObject({ keyName: 'env:read', method: 'POST', route: '/api/v1/collections' });
    const bot = entries.find((e) => e.keyName === 'ops-bot')!;
    expect(bot).toMatchObject({ role: 'operator', route: '/api/v1/collections', status: 400 });
    expect(bot.bodyDigest).toMatch(/^[a-f0-9]{64}$/);
    await expect(createApiKey(handle.db, 'ops-bot', 'read')).rejects.toThrow(/exists already/);

    // Revoked: the API, which remembers a verified key for a minute, refuses it as soon as the
    // revocation is announced (its 30 s refresh is only the fallback); a new verifier does not know it.
    expect(await new KeyVerifier(new Map(), handle.db).verify(key)).toEqual({ name: 'ops-bot', role: 'operator' });
    expect((await call('GET', '/api/v1/portfolio', key)).status).toBe(200);
    expect(await revokeApiKey(handle.db, 'ops-bot')).toBe(true);
    const refusedWithin = async (ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        // 429 once this file's tests have spent the address's budget of refused requests: only a refused key meets that limit.
        if ([401, 429].includes((await call('GET', '/api/v1/portfolio', key)).status)) return true;
      }
      return false;
    };
    expect(await refusedWithin(5000)).toBe(true);
    expect(await new KeyVerifier(new Map(), handle.db).verify(key)).toBeUndefined();
    // Once revoked it stays so: revoking it again finds no active key of that name.
    expect(await revokeApiKey(handle.db, 'ops-bot')).toBe(false);
    // A wrong secret with the right id is refused too.
    expect(await new KeyVerifier(new Map(), handle.db).verify(`${key.slice(0, -4)}AAAA`)).toBeUndefined();
  });

  it('does not remember a key whose revocation is announced while it is being verified', async () => {
    const key = await createApiKey(handle.db, 'late-bot', 'read');
    const verifier = new KeyVerifier(new Map(), handle.db);
    // The verification reads the key, still active, then hashes the secret; the announcement comes meanwhile.
    const verifying = verifier.verify(key);
    verifier.forget(key.slice('mts_'.length, 'mts_'.length + 12));
    expect(await verifying).toBeUndefined();
    expect(await verifier.verify(key)).toBeUndefined();
  });
});

describe('defaults an operator expects', () => {
  it('puts /metrics behind METRICS_KEY when one is set', async () => {
    const guarded = await startTestApi(kit.client, handle, `read:${keys.read}`, { metricsKey: 'metrics-key-0123456789' });
    try {
      expect((await fetch(`${guarded.base}/metrics`)).status).toBe(401);
      expect((await fetch(`${guarded.base}/metrics`, { headers: { authorization: `Bearer ${keys.read}` } })).status).toBe(401);
      const ok = await fetch(`${guarded.base}/metrics`, { headers: { authorization: 'Bearer metrics-key-0123456789' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('mts_http_requests_total');
    } finally {
      await guarded.close();
    }
  });
});

describe('a dependency that is not there', () => {
  const readKey = `read:${keys.read}`;
  const get = async (base: string, path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${keys.read}` } });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
  };

  it('Postgres refusing connections is a 503 naming it, for the caller to retry, and no "unhandled error" in the log', async () => {
    const nowhere = connectDatabase('postgres://postgres@127.0.0.1:1/mts_nowhere', 1, { onConnectionLost: () => {} });
    const down = await startTestApi(kit.client, nowhere, readKey);
    try {
      const res = await get(down.base, '/api/v1/signals');
      expect(res).toMatchObject({ status: 503, retryAfter: '5', body: { error: { code: 'database_unavailable' } } });
      expect(res.body.error.message).toBe('Postgres is not reachable (ECONNREFUSED at 127.0.0.1:1): retry once it is back');
      expect(down.logs()).toContain('a dependency of the API is unavailable');
      expect(down.logs()).not.toContain('unhandled error');
    } finally {
      await down.close();
      await nowhere.close();
    }
  });

  it('a server that drops the connection (a proxy before a Postgres that is gone) is a 503 too', async () => {
    const dropping = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const { port } = dropping.address() as { port: number };
    const gone = connectDatabase(`postgres://postgres@127.0.0.1:${port}/mts_gone`, 1, { onConnectionLost: () => {} });
    const down = await startTestApi(kit.client, gone, readKey);
    try {
      const res = await get(down.base, '/api/v1/signals');
      expect(res).toMatchObject({ status: 503, body: { error: { code: 'database_unavailable', message: 'Postgres closed the connection: retry once it is back' } } });
    } finally {
      await down.close();
      await gone.close();
      await new Promise((resolve) => dropping.close(resolve));
    }
  });

  it('Temporal not answering is a 503 naming it', async () => {
    // No retry interceptor: the call fails at once where the API's client would retry for a while first.
    const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    const down = await startTestApi(new Client({ connection }), handle, readKey);
    try {
      const res = await get(down.base, '/api/v1/schedules');
      expect(res).toMatchObject({ status: 503, retryAfter: '5', body: { error: { code: 'temporal_unavailable' } } });
      expect(res.body.error.message).toMatch(/^Temporal is not reachable \(.+\): retry once it is back$/);
    } finally {
      await down.close();
      await connection.close();
    }
  });

  it('a statement Postgres ends under way (a restart) is a 503 too; any other failure stays a 500', async () => {
    const pool = testDatabase({ onConnectionLost: () => {} });
    const admin = testDatabase();
    try {
      const pid = (await pool.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const sleeping = pool.pool.query('SELECT pg_sleep(30)').then(() => undefined, (err: Error) => err);
      await admin.pool.query("SELECT pg_terminate_backend($1) FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'", [pid]);
      const ended = await sleeping;
      const answer = (err: unknown) => {
        const sent: { status?: number; body?: any } = {};
        const res = { status(code: number) { sent.status = code; return res; }, set() { return res; }, json(body: unknown) { sent.body = body; return res; } };
        const quiet = { error() {}, warn() {} };
        errorHandler(quiet)(err, {} as never, res as never, () => {});
        return sent;
      };
      expect(answer(ended)).toMatchObject({ status: 503, body: { error: { code: 'database_unavailable' } } });
      expect(answer(new Error('a bug'))).toMatchObject({ status: 500, body: { error: { code: 'internal_error' } } });
    } finally {
      await Promise.all([pool.close(), admin.close()]);
    }
  });
});

