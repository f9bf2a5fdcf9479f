import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { and, asc, desc, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTradingActivities } from '../../src/activities/trading';
import { readLatestPrices } from '../../src/db/market-prices';
import { upsertCandles } from '../../src/db/market-data';
import { cryptoOhlcv, fills, positions } from '../../src/db/schema';
import { binanceStream } from '../../src/providers/streams/binance';
import { SymbolMap } from '../../src/providers/streams/types';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { createMarketStreamWorker } from '../../src/workers/market-stream';
import { marketStreamWorkflow } from '../../src/workflows/market-stream';
import { riskAndExecuteWorkflow } from '../../src/workflows/trading';
import type { ExecutionSignal } from '../../src/workflows/types';
import { binanceKline, binanceKlineRow, binanceTrade, FakeExchange, minuteBar } from '../support/fake-exchange';
import { clearMarketData } from '../support/db';
import { spawnWorkerProcess } from '../support/processes';
import { tradingDeps, tradingWorker, withWorkers, workflowBundle, workflowTestContext } from '../support/temporal';
import { waitFor } from '../support/wait';

const ctx = workflowTestContext();
const MIN = 60_000;
const symbols = { bitcoin: 'BTCUSDT', ethereum: 'ETHUSDT' };

/** The workflow side of the stream: it only orchestrates, so a worker with the bundle and no activities runs it. */
const workflowWorker = async () => Worker.create({
  connection: ctx.kit.nativeConnection, namespace: 'default', taskQueue: TASK_QUEUES.pipeline, workflowBundle: await workflowBundle(),
});

function klinesFake(ex: FakeExchange) {
  ex.rest.on((_req, url) => {
    if (url.pathname !== '/api/v3/klines') return undefined;
    const rows = [];
    const base = url.searchParams.get('symbol') === 'ETHUSDT' ? 3000 : 50_000;
    for (let t = Math.ceil(Number(url.searchParams.get('startTime')) / MIN) * MIN; t <= Number(url.searchParams.get('endTime')); t += MIN) rows.push(binanceKlineRow(minuteBar(t, base)));
    return { body: rows };
  });
}

/** A local Binance for one describe block, with REST klines; stopped after the block. */
function localBinance() {
  const ex = new FakeExchange('binance');
  afterAll(() => ex.stop());
  return {
    ex,
    async start() {
      const urls = await ex.start();
      klinesFake(ex);
      return urls;
    },
  };
}

describe('streamed prices in paper trading', () => {
  const { ex, start } = localBinance();

  it('fills at a fresh streamed price, falls back to the newest bar when it is stale, and fires a stop within seconds of a streamed price', async () => {
    const { streamUrl, restUrl } = await start();
    // The newest bars: a 15-minute bitcoin bar at 50,000 and an ethereum bar at 3,000, hours old.
    const barOpen = Math.floor(Date.now() / (15 * MIN)) * 15 * MIN - 8 * 15 * MIN;
    await upsertCandles(ctx.handle.db, 'bitcoin', 15, 'simulated', [{ timestamp: barOpen, open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 100 }]);
    await upsertCandles(ctx.handle.db, 'ethereum', 15, 'simulated', [{ timestamp: barOpen, open: 3000, high: 3000, low: 3000, close: 3000, volume: 1000 }]);
    const deps = tradingDeps(ctx.handle, { portfolioId: 'streamed', streamPriceMaxAgeMs: 2000 });
    const trading = createTradingActivities(deps);
    const streamWorker = await createMarketStreamWorker({
      connection: ctx.kit.nativeConnection, namespace: 'default',
      deps: {
        db: ctx.handle.db, source: binanceStream({ streamUrl, restUrl, symbols: new SymbolMap(symbols), staleAfterMs: 30_000 }),
        settings: { priceWriteIntervalMs: 1000, reconnect: { baseMs: 50, maxMs: 500 }, backfillMaxMinutes: 2 },
        onPrices: (prices) => trading.checkProtectionAtPrices({ prices }),
      },
    });
    const workers = [streamWorker, await tradingWorker(ctx.kit, deps), await workflowWorker()];
    await withWorkers(workers, async () => {
      const stream = await ctx.kit.client.workflow.start(marketStreamWorkflow, {
        workflowId: `market-stream-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
        args: [{ assets: ['bitcoin', 'ethereum'], runForMs: 10 * MIN, heartbeatTimeoutMs: 10_000 }],
      });
      await ex.connections(1);
      const quoted = Date.now();
      ex.send(binanceTrade('BTCUSDT', 51_000, quoted));
      // An ethereum price quoted 5 s ago: older than the 2 s a fill may use.
      ex.send(binanceTrade('ETHUSDT', 3100, quoted - 5000));
      await waitFor('the streamed prices', async () => (await readLatestPrices(ctx.handle.db)).length === 2);

      const signal = (asset: string): ExecutionSignal => ({
        signalId: randomUUID(), asset, signalType: 'LONG', price: 1, confidence: 0.9, timestamp: Date.now(),
      });
      const run = (s: ExecutionSignal) => ctx.kit.client.workflow.execute(riskAndExecuteWorkflow, { workflowId: `signal-${s.signalId}`, taskQueue: TASK_QUEUES.trading, args: [s] });
      const btc = await run(signal('bitcoin'));
      if (btc.status !== 'filled') throw new Error(`expected a fill, got ${JSON.stringify(btc)}`);
      const [btcFill] = await ctx.handle.db.select().from(fills).where(eq(fills.id, btc.fill.fillId));
      // The streamed 51,000 (+10 bps slippage), not the bar's 50,000; its source and quote time recorded.
      expect(btcFill).toMatchObject({ referencePrice: 51_000, priceSource: 'stream', priceTime: quoted });
      expect(btcFill.price).toBeCloseTo(51_051, 9);
      expect(btcFill.timestamp - btcFill.priceTime!).toBeLessThanOrEqual(2000);

      const eth = await run(signal('ethereum'));
      if (eth.status !== 'filled') throw new Error(`expected a fill, got ${JSON.stringify(eth)}`);
      const [ethFill] = await ctx.handle.db.select().from(fills).where(eq(fills.id, eth.fill.fillId));
      // The newest bar: the last 1-minute bar the stream's backfill stored, not the stale 3,100.
      const [newest] = await ctx.handle.db.select().from(cryptoOhlcv).where(eq(cryptoOhlcv.asset, 'ethereum')).orderBy(desc(cryptoOhlcv.timestamp)).limit(1);
      expect(newest).toMatchObject({ intervalMinutes: 1, source: 'binance' });
      expect(ethFill).toMatchObject({ referencePrice: newest.close, priceSource: 'bar', priceTime: newest.timestamp + MIN });

      // Stop: 51,051 × 0.98 = 50,029.98. A price above it changes nothing; the next one through it exits at that price.
      expect(btc.stopLoss).toBeCloseTo(50_029.98, 6);
      ex.send(binanceTrade('BTCUSDT', 50_500, Date.now()));
      await new Promise((r) => setTimeout(r, 1100));
      const through = Date.now();
      ex.send(binanceTrade('BTCUSDT', 49_900, through));
      const exit = await waitFor('the stop to fire', async () => {
        const rows = await ctx.handle.db.select().from(fills).where(and(eq(fills.portfolioId, 'streamed'), eq(fills.priceSource, 'protective_tick')));
        return rows[0];
      }, 10_000);
      expect(Date.now() - through).toBeLessThan(5000);
      expect(exit).toMatchObject({ asset: 'bitcoin', side: 'SELL', referencePrice: 49_900, timestamp: through, priceTime: through });
      expect(exit.quantity).toBeCloseTo(btc.fill.quantity, 12);
      const [pos] = await ctx.handle.db.select().from(positions).where(and(eq(positions.portfolioId, 'streamed'), eq(positions.asset, 'bitcoin')));
      expect(pos.quantity).toBe(0);
      // The stop starts the re-entry cooldown from the price's time.
      expect(pos.cooldownUntil).toBe(through + deps.risk.stopCooldownMinutes * MIN);
      await stream.terminate('test over');
    });
  });
});

describe('the stream workflow', () => {
  const { ex, start } = localBinance();

  it('hands the consumer over after its run and continues as new, the stream going on', async () => {
    const { streamUrl, restUrl } = await start();
    const streamWorker = await createMarketStreamWorker({
      connection: ctx.kit.nativeConnection, namespace: 'default',
      deps: {
        db: ctx.handle.db, source: binanceStream({ streamUrl, restUrl, symbols: new SymbolMap(symbols), staleAfterMs: 30_000 }),
        settings: { priceWriteIntervalMs: 200, reconnect: { baseMs: 50, maxMs: 500 }, backfillMaxMinutes: 2 },
      },
    });
    await withWorkers([streamWorker, await workflowWorker()], async () => {
      const handle = await ctx.kit.client.workflow.start(marketStreamWorkflow, {
        workflowId: `market-stream-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
        args: [{ assets: ['bitcoin'], runForMs: 1000, heartbeatTimeoutMs: 10_000 }],
      });
      const firstRun = handle.firstExecutionRunId;
      await waitFor('a new run', async () => (await handle.describe()).runId !== firstRun, 15_000);
      // The new run's consumer has its own connection and writes what arrives on it.
      await ex.connections(2);
      const at = Date.now();
      ex.send(binanceTrade('BTCUSDT', 123.25, at));
      await waitFor('the price through the new run', async () => (await readLatestPrices(ctx.handle.db, ['bitcoin']))[0]?.time === at);
      await handle.terminate('test over');
    });
  });
});

describe('the stream consumer survives its worker', () => {
  const { ex, start } = localBinance();
  const children: ChildProcess[] = [];
  afterAll(() => { for (const c of children) c.kill('SIGKILL'); });

  it('resumes on another worker process after a SIGKILL, from its heartbeat, with no bar stored twice', async () => {
    await clearMarketData(ctx.handle);
    const { streamUrl, restUrl } = await start();
    const env = { BINANCE_STREAM_URL: streamUrl, BINANCE_REST_URL: restUrl };
    const first = await spawnWorkerProcess('stream-worker.ts', env);
    children.push(first);
    const handle = await ctx.kit.client.workflow.start(marketStreamWorkflow, {
      workflowId: `market-stream-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
      args: [{ assets: ['bitcoin'], runForMs: 10 * MIN, heartbeatTimeoutMs: 3000 }],
    });
    const pipeline = await workflowWorker();
    await withWorkers([pipeline], async () => {
      await ex.connections(1);
      // The exchange: a trade every 100 ms, and each minute's closed kline as the minute ends.
      let lastMinute = Math.floor(Date.now() / MIN);
      const feed = setInterval(() => {
        const now = Date.now();
        ex.send(binanceTrade('BTCUSDT', 100 + (now % 1000) / 100, now));
        const minute = Math.floor(now / MIN);
        if (minute > lastMinute) ex.send(binanceKline('BTCUSDT', minuteBar((minute - 1) * MIN), true));
        lastMinute = minute;
      }, 100);
      try {
        const running = async () => (await handle.describe()).raw.pendingActivities?.[0];
        const onFirst = await waitFor('the consumer on the first worker', async () => {
          const a = await running();
          return a?.lastWorkerIdentity?.startsWith(`${first.pid}@`) && (await readLatestPrices(ctx.handle.db, ['bitcoin'])).length ? a : undefined;
        });
        expect(onFirst.attempt).toBe(1);
        // A second worker, then the first is killed while it holds the stream.
        const second = await spawnWorkerProcess('stream-worker.ts', env);
        children.push(second);
        first.kill('SIGKILL');
        const killedAt = Date.now();
        const resumed = await waitFor('the consumer on the second worker', async () => {
          const a = await running();
          const [price] = await readLatestPrices(ctx.handle.db, ['bitcoin']);
          return a?.lastWorkerIdentity?.startsWith(`${second.pid}@`) && price.time > killedAt + 500 ? a : undefined;
        }, 30_000);
        expect(resumed.attempt).toBeGreaterThanOrEqual(2);
      } finally {
        clearInterval(feed);
        await handle.terminate('test over');
      }
    });
    // Every minute the two consumers stored is there once: the first's backfill and closes, the second's from its heartbeat on.
    const rows = await ctx.handle.db.select().from(cryptoOhlcv)
      .where(and(eq(cryptoOhlcv.asset, 'bitcoin'), eq(cryptoOhlcv.intervalMinutes, 1), eq(cryptoOhlcv.source, 'binance'))).orderBy(asc(cryptoOhlcv.timestamp));
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(rows.every((r, i) => i === 0 || r.timestamp - rows[i - 1].timestamp === MIN)).toBe(true);
    // The REST backfills never asked twice for a minute: each started after what was already stored.
    const starts = ex.rest.requests.map((r) => Number(r.url.searchParams.get('startTime')));
    expect(new Set(starts).size).toBe(starts.length);
  });
});
