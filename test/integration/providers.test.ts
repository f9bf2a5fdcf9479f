import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { coingeckoSource } from '../../src/providers/coingecko';
import { ProviderError } from '../../src/providers/errors';
import { fredSource } from '../../src/providers/fred';
import { FakeHttpServer } from '../support/fake-http';
import { fredBody, marketChartBody } from '../support/providers';

const NOW = Date.UTC(2026, 10, 24, 12, 0);
const M15 = 15 * 60_000;
const server = new FakeHttpServer();
let base = '';

beforeAll(async () => {
  base = await server.start();
});
afterAll(() => server.stop());
beforeEach(() => server.reset());

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('CoinGecko source (official client against a local server)', () => {
  const source = () => coingeckoSource({ apiKey: 'demo-key', plan: 'demo', baseURL: `${base}/api/v3`, clock: () => NOW });
  const from = NOW - 2 * 60 * 60_000;

  it('builds 15-minute bars from 5-minute market_chart points and sends the demo key', async () => {
    server.on((_req, url) => url.pathname === '/api/v3/coins/bitcoin/market_chart/range'
      ? marketChartBody(Number(url.searchParams.get('from')) * 1000, Number(url.searchParams.get('to')) * 1000, (t) => 100 + (t - from) / 60_000)
      : undefined);
    const { candles, calls } = await source().fetchCandles('bitcoin', M15, from, NOW);
    expect(calls).toBe(1);
    expect(candles).toHaveLength(8);
    // points at +0, +5, +10 minutes of each bar: price rises one per minute from 100
    expect(candles[0]).toMatchObject({ timestamp: from, open: 100, high: 110, low: 100, close: 110 });
    // $24 M a day prorated to 15 minutes, in coins at the bar's close of 110
    expect(candles[0].volume).toBeCloseTo((24_000_000 * (15 / 1440)) / 110, 6);
    const req = server.requests[0];
    expect(req.url.searchParams.get('vs_currency')).toBe('usd');
    expect(req.headers['x-cg-demo-api-key']).toBe('demo-key');
  });

  it('reports 429 as rate limited with the Retry-After delay, after one request (no client retries)', async () => {
    server.once(/market_chart/, { status: 429, headers: { 'retry-after': '7' }, body: { status: { error_code: 429, error_message: "You've exceeded the Rate Limit." } } });
    const err = await failure(source().fetchCandles('bitcoin', M15, from, NOW));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(7000);
    expect(err.retryable).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('reports 500 as a retryable outage and succeeds once the server recovers', async () => {
    server.on((_req, url) => (url.pathname.includes('market_chart') ? marketChartBody(from, NOW, () => 50) : undefined));
    server.once(/market_chart/, { status: 500, body: { error: 'Internal Server Error' } });
    const err = await failure(source().fetchCandles('bitcoin', M15, from, NOW));
    expect(err.kind).toBe('unavailable');
    expect(server.requests).toHaveLength(1);
    const { candles } = await source().fetchCandles('bitcoin', M15, from, NOW);
    expect(candles).toHaveLength(8);
  });

  it('fails malformed JSON, wrong shapes and impossible prices without retry, naming the problem', async () => {
    server.once(/market_chart/, { body: '{"prices": [[1, 2]' });
    let err = await failure(source().fetchCandles('bitcoin', M15, from, NOW));
    expect(err.kind).toBe('invalid_data');
    expect(err.message).toMatch(/bitcoin: response body is not valid JSON/);

    server.once(/market_chart/, { body: { prices: 'soon', total_volumes: [] } });
    err = await failure(source().fetchCandles('bitcoin', M15, from, NOW));
    expect(err.kind).toBe('invalid_data');
    expect(err.message).toMatch(/market_chart field prices/);

    server.once(/market_chart/, marketChartBody(from, NOW, (t) => (t === from + M15 ? -3 : 10)));
    err = await failure(source().fetchCandles('bitcoin', M15, from, NOW));
    expect(err.kind).toBe('invalid_data');
    expect(err.message).toMatch(/^coingecko: bitcoin: candle at .*: open must be positive, got -3$/);
    expect(err.retryable).toBe(false);
  });

  it('refuses a body past its size bound without retry', async () => {
    const bounded = coingeckoSource({ apiKey: 'demo-key', plan: 'demo', baseURL: `${base}/api/v3`, clock: () => NOW, maxResponseBytes: 4096 });
    // 25 five-minute points: about 1.6 kB, under the bound.
    server.once(/market_chart/, marketChartBody(from, NOW, () => 10));
    expect((await bounded.fetchCandles('bitcoin', M15, from, NOW)).candles).toHaveLength(8);
    // The same answer padded past it.
    server.once(/market_chart/, { body: { ...(marketChartBody(from, NOW, () => 10).body as object), padding: 'x'.repeat(5000) } });
    const err = await failure(bounded.fetchCandles('bitcoin', M15, from, NOW));
    expect([err.kind, err.retryable, err.message]).toEqual(['invalid_data', false, 'coingecko: bitcoin: response body over 4,096 bytes']);
  });

  it('refuses sub-hourly history older than a day, since CoinGecko only serves hourly points there', async () => {
    const err = await failure(source().fetchCandles('bitcoin', M15, NOW - 3 * 86_400_000, NOW - 2 * 86_400_000));
    expect(err.kind).toBe('rejected');
    expect(server.requests).toHaveLength(0);
  });
});

describe('FRED source (local server in FRED\'s JSON format)', () => {
  const source = () => fredSource({ apiKey: 'fred-key', baseURL: base });

  it('returns observations as text, keeping "." for missing values', async () => {
    server.once(/observations/, fredBody([['2025-01-02', '17.93'], ['2025-01-03', '.']]));
    const { observations } = await source().fetchObservations('VIXCLS', '2025-01-01', '2025-01-05');
    expect(observations).toEqual([{ date: '2025-01-02', value: '17.93' }, { date: '2025-01-03', value: '.' }]);
    const q = server.requests[0].url.searchParams;
    expect([q.get('series_id'), q.get('api_key'), q.get('file_type'), q.get('observation_start')]).toEqual(['VIXCLS', 'fred-key', 'json', '2025-01-01']);
  });

  it('refuses a body past its size bound without retry', async () => {
    const bounded = fredSource({ apiKey: 'fred-key', baseURL: base, maxResponseBytes: 4096 });
    server.once(/observations/, fredBody([['2025-01-02', '17.93']]));
    expect((await bounded.fetchObservations('VIXCLS', '2025-01-01', '2025-01-05')).observations).toHaveLength(1);
    server.once(/observations/, fredBody(Array.from({ length: 200 }, (_, k): [string, string] => [`2025-01-${k}`, '17.93'])));
    const err = await failure(bounded.fetchObservations('VIXCLS', '2025-01-01', '2025-01-05'));
    expect([err.kind, err.retryable, err.message]).toEqual(['invalid_data', false, 'fred: VIXCLS: response body over 4,096 bytes']);
  });

  it('classifies 429, 5xx, 400 and malformed bodies', async () => {
    server.once(/observations/, { status: 429, headers: { 'retry-after': '3' }, body: { error_code: 429, error_message: 'Too Many Requests.  Exceeded Rate Limit' } });
    let err = await failure(source().fetchObservations('DFF', '2025-01-01', '2025-01-05'));
    expect([err.kind, err.retryAfterMs]).toEqual(['rate_limited', 3000]);

    server.once(/observations/, { status: 503, body: 'Service Unavailable' });
    expect((await failure(source().fetchObservations('DFF', '2025-01-01', '2025-01-05'))).kind).toBe('unavailable');

    server.once(/observations/, { status: 400, body: { error_code: 400, error_message: 'Bad Request.  The series does not exist.' } });
    err = await failure(source().fetchObservations('NOPE', '2025-01-01', '2025-01-05'));
    expect(err.kind).toBe('rejected');
    expect(err.message).toContain('The series does not exist.');

    server.once(/observations/, { body: '<html>oops</html>' });
    err = await failure(source().fetchObservations('DFF', '2025-01-01', '2025-01-05'));
    expect(err.kind).toBe('invalid_data');
    expect(err.message).toMatch(/DFF: response body is not valid JSON/);
  });
});
