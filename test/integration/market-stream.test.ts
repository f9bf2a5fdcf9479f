import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createMarketStreamActivities, type MarketStreamDeps } from '../../src/activities/market-stream';
import type { ParsedFrame, StreamPosition } from '../../src/domain/market-stream';
import { readLatestPrices } from '../../src/db/market-prices';
import { cryptoOhlcv } from '../../src/db/schema';
import { processMetrics } from '../../src/metrics';
import { binanceStream } from '../../src/providers/streams/binance';
import { bybitStream } from '../../src/providers/streams/bybit';
import { SymbolMap } from '../../src/providers/streams/types';
import { openWebSocketStream } from '../../src/providers/streams/websocket';
import { clearMarketData, testDatabase } from '../support/db';
import {
  binanceKline, binanceKlineRow, binanceTrade, bybitKline, bybitKlineResponse, bybitTicker, FakeExchange, minuteBar,
} from '../support/fake-exchange';
import { waitFor } from '../support/wait';

const handle = testDatabase();
afterAll(() => handle.close());
beforeEach(() => clearMarketData(handle));

const MIN = 60_000;
const symbols = new SymbolMap({ bitcoin: 'BTCUSDT', ethereum: 'ETHUSDT' });
const settings: MarketStreamDeps['settings'] = { priceWriteIntervalMs: 1000, reconnect: { baseMs: 20, maxMs: 100 }, backfillMaxMinutes: 5 };

/** Wall-clock time shifted to `start`, movable forwards: the consumer's idea of now. */
function movableClock(start: number) {
  let offset = start - Date.now();
  return { now: () => Date.now() + offset, advance: (ms: number) => { offset += ms; } };
}

const storedMinutes = async (asset: string) => (await handle.db.select().from(cryptoOhlcv)
  .where(and(eq(cryptoOhlcv.asset, asset), eq(cryptoOhlcv.intervalMinutes, 1))).orderBy(asc(cryptoOhlcv.timestamp)));

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const values = (await processMetrics.getSingleMetric(name)!.get()).values;
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

/** Runs the consumer in a mock activity context; `stop` cancels it and resolves once it has ended as cancelled. */
function runConsumer(deps: MarketStreamDeps, assets: string[], heartbeatDetails?: StreamPosition) {
  const warnings: string[] = [];
  // The activity's log, kept for the test: what an operator's log would hold.
  const logger = new DefaultLogger('WARN', (entry) => warnings.push(entry.message));
  const env = new MockActivityEnvironment(heartbeatDetails ? { heartbeatDetails } : {}, { logger });
  const heartbeats: StreamPosition[] = [];
  env.on('heartbeat', (d: StreamPosition) => heartbeats.push(structuredClone(d)));
  const run = env.run(createMarketStreamActivities(deps).consumeMarketStream, { assets, runForMs: 10 * 60_000 });
  return {
    heartbeats,
    warnings,
    async stop() {
      env.cancel();
      await expect(run).rejects.toBeInstanceOf(CancelledFailure);
    },
  };
}

describe('the market stream consumer on Binance', () => {
  const T0 = Date.UTC(2026, 0, 5, 0, 10, 20);
  const ex = new FakeExchange('binance');
  afterAll(() => ex.stop());

  it('backfills, writes closed bars once and prices at a bounded rate, skips bad input, and fills the gap after a cut', async () => {
    const { streamUrl, restUrl } = await ex.start({ pingEveryMs: 100 });
    ex.rest.on((_req, url) => {
      if (url.pathname !== '/api/v3/klines') return undefined;
      const from = Number(url.searchParams.get('startTime'));
      const to = Number(url.searchParams.get('endTime'));
      const rows = [];
      for (let t = Math.ceil(from / MIN) * MIN; t <= to; t += MIN) rows.push(binanceKlineRow(minuteBar(t, url.searchParams.get('symbol') === 'BTCUSDT' ? 100 : 50)));
      return { body: rows };
    });
    const clock = movableClock(T0);
    const consumer = runConsumer({
      db: handle.db, source: binanceStream({ streamUrl, restUrl, symbols, staleAfterMs: 1500 }), settings, clock: clock.now, heartbeatEveryMs: 50,
    }, ['bitcoin', 'ethereum']);
    const label = { source: 'binance' };
    const before = {
      writes: await metric('stream_price_writes_total', label),
      malformed: await metric('stream_events_total', { ...label, outcome: 'malformed' }),
      unknown: await metric('stream_events_total', { ...label, outcome: 'unknown_symbol' }),
      duplicate: await metric('stream_events_total', { ...label, outcome: 'duplicate' }),
      late: await metric('stream_events_total', { ...label, outcome: 'out_of_order' }),
    };

    await ex.connections(1);
    expect(ex.connectedUrls[0]).toBe('/stream?streams=btcusdt@kline_1m/btcusdt@aggTrade/ethusdt@kline_1m/ethusdt@aggTrade');
    // On connect: the last five closed minutes (00:05–00:09) of each asset from the REST klines.
    await waitFor('the backfill', async () => (await storedMinutes('bitcoin')).length === 5 && (await storedMinutes('ethereum')).length === 5);
    expect((await storedMinutes('bitcoin')).map((r) => r.timestamp)).toEqual([5, 6, 7, 8, 9].map((m) => Date.UTC(2026, 0, 5, 0, m)));

    const m10 = Date.UTC(2026, 0, 5, 0, 10);
    ex.send(binanceKline('BTCUSDT', minuteBar(m10), false)); // still open: not stored
    ex.send(binanceKline('BTCUSDT', minuteBar(m10), true));
    ex.send(binanceKline('BTCUSDT', minuteBar(m10), true)); // duplicate
    ex.send(binanceKline('BTCUSDT', minuteBar(m10 - 2 * MIN), true)); // out of order
    ex.send('{"stream": "btcusdt@aggTrade", "data": ');
    ex.send({ stream: 'btcusdt@aggTrade', data: { e: 'aggTrade', s: 'BTCUSDT', p: 'NaN', T: T0 } });
    ex.send(binanceTrade('DOGEUSDT', 0.1, T0));
    ex.send({ result: null, id: 1 });
    for (let i = 1; i <= 20; i++) ex.send(binanceTrade('BTCUSDT', 100 + i, T0 + i));
    ex.send(binanceTrade('BTCUSDT', 99, T0 + 5)); // an older trade after newer ones

    const latest = await waitFor('the newest trade written', async () => {
      const [p] = await readLatestPrices(handle.db, ['bitcoin']);
      return p?.price === 120 ? p : undefined;
    });
    expect(latest).toEqual({ asset: 'bitcoin', price: 120, time: T0 + 20, source: 'binance' });
    // 21 trades in well under a second: the first is written at once, the newest when its second comes; nothing more.
    expect(await metric('stream_price_writes_total', label) - before.writes).toBe(2);
    const bars = await storedMinutes('bitcoin');
    expect(bars.map((r) => r.timestamp)).toEqual([5, 6, 7, 8, 9, 10].map((m) => Date.UTC(2026, 0, 5, 0, m)));
    expect(bars[5]).toMatchObject({ ...minuteBar(m10), source: 'binance' });
    expect(await metric('stream_events_total', { ...label, outcome: 'malformed' }) - before.malformed).toBe(2);
    // Counted every time, logged once.
    expect(consumer.warnings.filter((w) => w.startsWith('a malformed stream message was skipped'))).toHaveLength(1);
    expect(await metric('stream_events_total', { ...label, outcome: 'unknown_symbol' }) - before.unknown).toBe(1);
    expect(await metric('stream_events_total', { ...label, outcome: 'duplicate' }) - before.duplicate).toBe(1);
    expect(await metric('stream_events_total', { ...label, outcome: 'out_of_order' }) - before.late).toBe(2);
    // `ws` answered the server's protocol pings.
    expect(ex.pongs).toBeGreaterThan(0);

    // A network cut while three minutes pass: the reconnect fills 00:11 and 00:12 (00:10 is stored) and nothing else.
    const requestsBefore = ex.rest.requests.length;
    clock.advance(3 * MIN);
    ex.cut();
    await ex.connections(2);
    await waitFor('the gap filled', async () => (await storedMinutes('bitcoin')).length === 8);
    const gapCalls = ex.rest.requests.slice(requestsBefore).filter((r) => r.url.searchParams.get('symbol') === 'BTCUSDT');
    expect(gapCalls.map((r) => [Number(r.url.searchParams.get('startTime')), Number(r.url.searchParams.get('endTime'))]))
      .toEqual([[Date.UTC(2026, 0, 5, 0, 11), Date.UTC(2026, 0, 5, 0, 13) - 1]]);

    // Silence past the stale bound: the consumer gives the connection up and opens another.
    const stale = await metric('stream_reconnects_total', { ...label, reason: 'stale' });
    await ex.connections(3, 5000);
    expect(await metric('stream_reconnects_total', { ...label, reason: 'stale' }) - stale).toBeGreaterThanOrEqual(1);

    // A 418 ban (Retry-After: 1) on the next backfill: counted, waited out, then the gap is filled.
    const limited = await metric('stream_backfill_total', { ...label, outcome: 'rate_limited' });
    ex.rest.once(/\/api\/v3\/klines/, { status: 418, headers: { 'retry-after': '1' }, body: { code: -1003, msg: 'Way too many requests; IP banned' } });
    clock.advance(2 * MIN);
    ex.cut();
    await waitFor('the gap filled after the ban', async () => (await storedMinutes('bitcoin')).length === 10, 10_000);
    expect(await metric('stream_backfill_total', { ...label, outcome: 'rate_limited' }) - limited).toBe(1);
    const rows = await storedMinutes('bitcoin');
    expect(new Set(rows.map((r) => r.timestamp)).size).toBe(rows.length);
    expect(rows.at(-1)!.timestamp).toBe(Date.UTC(2026, 0, 5, 0, 14));
    // The heartbeat carries where the stream stands: what a successor resumes from.
    await waitFor('a heartbeat at 00:14', () => consumer.heartbeats.at(-1)!.lastBarOpen.bitcoin === Date.UTC(2026, 0, 5, 0, 14));
    await consumer.stop();
  });
});

describe('prices that waited behind a slow write', () => {
  const ex = new FakeExchange('binance');
  afterAll(() => ex.stop());

  it('are written once per asset, the newest, and the stream goes on', async () => {
    const { streamUrl, restUrl } = await ex.start();
    // The backfill takes 1.5 s: two throttled prices of one asset queue behind it.
    ex.rest.on((_req, url) => (url.pathname === '/api/v3/klines' ? { body: [], delayMs: 1500 } : undefined));
    const T0 = Date.now();
    const consumer = runConsumer({
      db: handle.db, source: binanceStream({ streamUrl, restUrl, symbols, staleAfterMs: 10_000 }), settings, heartbeatEveryMs: 50,
    }, ['bitcoin']);
    await ex.connections(1);
    ex.send(binanceTrade('BTCUSDT', 100, T0));
    await new Promise((r) => setTimeout(r, 1100));
    ex.send(binanceTrade('BTCUSDT', 101, T0 + 1100));
    await waitFor('the newer price', async () => (await readLatestPrices(handle.db, ['bitcoin']))[0]?.price === 101, 10_000);
    ex.send(binanceTrade('BTCUSDT', 102, T0 + 5000));
    await waitFor('the stream going on', async () => (await readLatestPrices(handle.db, ['bitcoin']))[0]?.price === 102, 10_000);
    await consumer.stop();
  });
});

describe('the market stream consumer on Bybit', () => {
  const T0 = Date.UTC(2026, 0, 6, 9, 30, 10);
  const ex = new FakeExchange('bybit');
  afterAll(() => ex.stop());

  it('subscribes, pings, parses kline.1 and tickers, backfills newest-first pages, and resumes from its heartbeat', async () => {
    const { streamUrl, restUrl } = await ex.start();
    let bannedOnce = false;
    ex.rest.on((_req, url) => {
      if (url.pathname !== '/v5/market/kline') return undefined;
      if (!bannedOnce) {
        bannedOnce = true;
        return { status: 403, body: 'access too frequent' };
      }
      const from = Number(url.searchParams.get('start'));
      const to = Number(url.searchParams.get('end'));
      const bars = [];
      for (let t = Math.ceil(from / MIN) * MIN; t <= to; t += MIN) bars.push(minuteBar(t));
      return { body: bybitKlineResponse(bars, url.searchParams.get('symbol')!) };
    });
    const clock = movableClock(T0);
    const source = bybitStream({ streamUrl, restUrl, symbols, staleAfterMs: 5000, pingEveryMs: 100 });
    const deps = { db: handle.db, source, settings, clock: clock.now, heartbeatEveryMs: 50 };
    const first = runConsumer(deps, ['bitcoin']);
    await ex.connections(1);
    await waitFor('a ping', () => ex.received.some((m) => (m as { op?: string }).op === 'ping'));
    expect(ex.received[0]).toMatchObject({ op: 'subscribe', args: ['kline.1.BTCUSDT', 'tickers.BTCUSDT'] });
    // The first backfill was refused (403: Bybit's IP limit), counted, and tried again.
    await waitFor('the backfill', async () => (await storedMinutes('bitcoin')).length === 5, 10_000);

    const m30 = Date.UTC(2026, 0, 6, 9, 30);
    ex.send(bybitKline('BTCUSDT', minuteBar(m30), false));
    ex.send(bybitKline('BTCUSDT', minuteBar(m30), true));
    ex.send(bybitTicker('BTCUSDT', 101.5, T0 + 1));
    ex.send('{"topic":"tickers.BTCUSDT","data":{"symbol":"BTCUSDT"}}');
    await waitFor('the ticker written', async () => (await readLatestPrices(handle.db, ['bitcoin']))[0]?.price === 101.5);
    await waitFor('the closed bar', async () => (await storedMinutes('bitcoin')).length === 6);
    await waitFor('a heartbeat with the closed bar', () => first.heartbeats.at(-1)?.lastBarOpen.bitcoin === m30);
    await first.stop();
    const resumeFrom = first.heartbeats.at(-1)!;

    // A successor (another worker) starts from the heartbeat four minutes later: it asks only for 9:31–9:33.
    clock.advance(4 * MIN);
    const requestsBefore = ex.rest.requests.length;
    const second = runConsumer(deps, ['bitcoin'], resumeFrom);
    await waitFor('the successor\'s backfill', async () => (await storedMinutes('bitcoin')).length === 9);
    const calls = ex.rest.requests.slice(requestsBefore);
    expect(calls.map((r) => Number(r.url.searchParams.get('start')))).toEqual([Date.UTC(2026, 0, 6, 9, 31)]);
    const rows = await storedMinutes('bitcoin');
    expect(rows.map((r) => (r.timestamp - Date.UTC(2026, 0, 6, 9, 25)) / MIN)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows.every((r) => r.source === 'bybit')).toBe(true);
    await second.stop();
  });
});

describe('an exchange frame past its size bound', () => {
  it('closes the connection (the consumer reconnects) instead of taking it in', async () => {
    const ex = new FakeExchange('binance');
    const { streamUrl } = await ex.start();
    const frames: ParsedFrame[] = [];
    const connection = openWebSocketStream(
      { url: streamUrl, staleAfterMs: 10_000, parse: () => ({ kind: 'control' }) },
      { onOpen: () => undefined, onFrame: (f) => frames.push(f) },
    );
    try {
      await ex.connections(1);
      await waitFor('the socket open on both ends', () => ex.open().length === 1);
      ex.send('x'.repeat(2 ** 20 + 1));
      expect(await connection.closed).toMatchObject({ reason: 'error', detail: expect.stringMatching(/max payload size exceeded/i) });
      expect(frames).toEqual([]);
    } finally {
      connection.close();
      await ex.stop();
    }
  });
});
