import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/api/openapi';
import { startTestApi } from '../support/api';
import { testDatabase } from '../support/db';
import { connectTemporal, type TemporalKit } from '../support/temporal';

const handle = testDatabase();
let kit: TemporalKit;
let api: Awaited<ReturnType<typeof startTestApi>>;
const KEY = 'admin-key-fuzz-0001';
const RUNS = 2200;

beforeAll(async () => {
  kit = await connectTemporal();
  // Budgets out of the way: the fuzz is after what each route does with what it is sent.
  api = await startTestApi(kit.client, handle, `admin:${KEY}`, {
    rateLimits: { requestsPerMinute: 1e6, authFailuresPerMinute: 1e6, signalGenerationPerMinute: 1e6 },
  });
});
afterAll(async () => {
  await api.close();
  // A body that happened to be valid started a workflow no worker of this file runs: end it, so
  // another test file's workers never pick it up.
  for await (const run of kit.client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
    await kit.client.workflow.getHandle(run.workflowId, run.runId).terminate('fuzz test cleanup').catch(() => undefined);
  }
  await Promise.all([kit.close(), handle.close()]);
});

/** Every field name the bodies and queries know, and prototype keys. */
const FIELDS = [
  'tier', 'assets', 'from', 'to', 'asOf', 'stepMinutes', 'distribute', 'strategy', 'strategies', 'params', 'initialCapital', 'conventions', 'grid',
  'metric', 'folds', 'inSampleDays', 'signal_id', 'asset', 'signal_type', 'price', 'confidence', 'timestamp', 'note', 'heartbeatTimeoutMs',
  'portfolio_state', 'alert_type', 'interval', 'limit', 'type', 'status', 'bar', 'sizing', 'fillAt', '__proto__', 'constructor', 'toString',
];

const oddNumber = fc.oneof(
  fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1e308, -1e308, 9e15, 2 ** 53 + 1, 5e-324, 0.5, 1, 20_000, 3_000_000_000),
);
const oddString = fc.oneof(
  fc.string({ maxLength: 40 }), fc.string({ minLength: 1000, maxLength: 4000 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'live', 'bitcoin', 'hourly', '0001-01-01', '9999-12-31', '2024-01-01', '1e20', 'LONG', 'sma_crossover', 'failed', 'timed_out', 'sharpe', '1h', '../../etc/passwd', '\u0000', '😀'),
);
const leaf = fc.oneof(oddNumber, oddString, fc.boolean(), fc.constant(null));
const oddValue = fc.oneof(leaf, fc.array(leaf, { maxLength: 5 }), fc.dictionary(fc.constantFrom(...FIELDS), leaf, { maxKeys: 4 }));
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), oddValue, { maxKeys: 8 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant('{"tier":'), fc.constant(''),
);
const pathPart = fc.oneof(oddString, fc.constantFrom('mts-tier-hourly', 'bt-12345678', 'signal-x', 'bitcoin', 'VIXCLS'));
const encoding = fc.constantFrom('json', 'json', 'json', 'charset-bogus', 'text', 'gzip-bad', 'gzip', 'encoding-bogus');

// The SSE streams stay open by design; they have their own tests.
const operations = OPERATIONS.filter((op) => !op.path.endsWith('/stream'));

describe('fuzz: every route and body schema against the running app', () => {
  it(`never answers 500 and never drops a connection, over ${RUNS} requests`, async () => {
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...operations), body, fc.array(pathPart, { minLength: 3, maxLength: 3 }),
      fc.dictionary(fc.constantFrom(...FIELDS), oddString, { maxKeys: 3 }), encoding,
      async (op, payload, parts, query, enc) => {
        let k = 0;
        const path = op.path.replace(/\{\w+\}/g, () => encodeURIComponent(String(parts[k++])));
        const qs = new URLSearchParams(query).toString();
        const json = typeof payload === 'string' ? payload : JSON.stringify(payload);
        const headers: Record<string, string> = { authorization: `Bearer ${KEY}` };
        let raw: string | Buffer = json;
        if (enc === 'json' || enc.startsWith('gzip') || enc === 'encoding-bogus') headers['content-type'] = 'application/json';
        if (enc === 'charset-bogus') headers['content-type'] = 'application/json; charset=bogus';
        if (enc === 'text') headers['content-type'] = 'text/plain';
        if (enc === 'gzip') { headers['content-encoding'] = 'gzip'; raw = gzipSync(json); }
        if (enc === 'gzip-bad') headers['content-encoding'] = 'gzip';
        if (enc === 'encoding-bogus') headers['content-encoding'] = 'bogus';
        const res = await fetch(`${api.base}${path}${qs ? `?${qs}` : ''}`, {
          method: op.method.toUpperCase(), headers, body: op.method === 'post' ? raw : undefined,
        });
        await res.arrayBuffer();
        sent += 1;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500 && !(op.path === '/ready' && res.status === 503)) {
          throw new Error(`${op.method.toUpperCase()} ${path} (${enc}) ${json.slice(0, 300)} → ${res.status}`);
        }
      },
    ), { numRuns: RUNS });
    // The server is healthy afterwards.
    expect((await fetch(`${api.base}/health`)).status).toBe(200);
    expect(sent).toBeGreaterThanOrEqual(2000);
    expect(statuses.get(500) ?? 0).toBe(0);
    console.log(`fuzz: ${sent} requests, by status ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  }, 300_000);
});
