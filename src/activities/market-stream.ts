import { Context, log } from '@temporalio/activity';
import type { StreamsConfig } from '../config/streams';
import {
  admit, emptyPosition, minuteGap, newestPerAsset, type ParsedFrame, PriceThrottle, reconnectDelay, type StreamBar, type StreamPosition,
} from '../domain/market-stream';
import type { Candle } from '../domain/types';
import type { Database } from '../db/client';
import { upsertCandles } from '../db/market-data';
import { type LatestPrice, newestMinuteBars, writeLatestPrices } from '../db/market-prices';
import { streamBackfills, streamEvents, streamPriceWrites, streamReconnects } from '../metrics';
import { ProviderError } from '../providers/errors';
import type { MarketStreamSource, StreamClosed } from '../providers/streams/types';

export interface MarketStreamDeps {
  db: Database;
  source: MarketStreamSource;
  settings: Pick<StreamsConfig, 'priceWriteIntervalMs' | 'reconnect' | 'backfillMaxMinutes'>;
  /** Told of every price written: where stops and targets are checked on each new price. Its failures are logged, not fatal. */
  onPrices?: (prices: LatestPrice[]) => Promise<unknown>;
  /** How often the consumer heartbeats (ms); well inside the workflow's heartbeat timeout. */
  heartbeatEveryMs?: number;
  clock?: () => number;
  random?: () => number;
}

/** What one run of the consumer did, for the workflow's history and the tests. */
export interface StreamRunSummary {
  bars: number;
  prices: number;
  duplicates: number;
  outOfOrder: number;
  malformed: number;
  unknownSymbols: number;
  reconnects: number;
  backfilledBars: number;
  backfillFailures: number;
}

const isPosition = (x: unknown): x is StreamPosition =>
  typeof x === 'object' && x !== null && typeof (x as StreamPosition).lastBarOpen === 'object' && typeof (x as StreamPosition).lastPriceTime === 'object';

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * The durable consumer of a real-time market stream. One long-running activity holds the connection
 * and heartbeats its position (the newest stored bar and price time per asset): if its worker dies,
 * Temporal retries it on another worker after the heartbeat timeout, and it resumes from there. On
 * every (re)connect it fills the minutes it missed from the exchange's REST klines; it writes closed
 * 1-minute bars with the collection's idempotent upsert and the latest price per asset at a bounded
 * rate. Bad frames, unknown symbols, duplicates and events out of order are counted, logged once.
 */
export function createMarketStreamActivities(deps: MarketStreamDeps) {
  const { db, source } = deps;
  const now = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;

  return {
    async consumeMarketStream(input: { assets: string[]; runForMs: number }): Promise<StreamRunSummary> {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const details: unknown = ctx.info.heartbeatDetails;
      // `stored` is what Postgres holds (what a successor resumes from); `seen` also counts what is on its way there.
      const stored: StreamPosition = isPosition(details) ? details : { ...emptyPosition(), lastBarOpen: await newestMinuteBars(db, source.name, input.assets) };
      const seen: StreamPosition = { lastBarOpen: { ...stored.lastBarOpen }, lastPriceTime: { ...stored.lastPriceTime } };
      const summary: StreamRunSummary = { bars: 0, prices: 0, duplicates: 0, outOfOrder: 0, malformed: 0, unknownSymbols: 0, reconnects: 0, backfilledBars: 0, backfillFailures: 0 };
      const throttle = new PriceThrottle(deps.settings.priceWriteIntervalMs);
      const warned = new Set<string>();
      const warnOnce = (key: string, message: string, fields: Record<string, unknown>) => {
        if (warned.has(key)) return;
        warned.add(key);
        log.warn(`${message} (counted in stream_events_total; logged once per stream run)`, { source: source.name, ...fields });
      };

      // Writes run one at a time, in arrival order; the first failure ends the run (Temporal retries it).
      let writes: Promise<void> = Promise.resolve();
      let failure: Error | undefined;
      let wakeOnFailure!: () => void;
      const failed = new Promise<undefined>((r) => { wakeOnFailure = () => r(undefined); });
      const enqueue = (work: () => Promise<void>) => {
        writes = writes.then(() => (failure ? undefined : work())).catch((err: Error) => {
          failure ??= err;
          wakeOnFailure();
        });
      };
      let bars: StreamBar[] = [];
      let prices: LatestPrice[] = [];
      const flush = async () => {
        const batch = bars;
        const quotes = prices;
        bars = [];
        prices = [];
        const byAsset = new Map<string, Candle[]>();
        for (const b of batch) byAsset.set(b.asset, [...(byAsset.get(b.asset) ?? []), b.bar]);
        for (const [asset, candles] of byAsset) {
          await upsertCandles(db, asset, 1, source.name, candles);
          stored.lastBarOpen[asset] = Math.max(stored.lastBarOpen[asset] ?? -Infinity, ...candles.map((c) => c.timestamp));
        }
        const written = await writeLatestPrices(db, newestPerAsset(quotes));
        for (const p of written) stored.lastPriceTime[p.asset] = Math.max(stored.lastPriceTime[p.asset] ?? -Infinity, p.time);
        streamPriceWrites.inc({ source: source.name }, written.length);
        if (written.length && deps.onPrices) {
          await deps.onPrices(written).catch((err: Error) => warnOnce('onPrices', 'checking stops at streamed prices failed; the next price checks again', { error: err.message }));
        }
      };
      const count = (outcome: string) => streamEvents.inc({ source: source.name, outcome });

      let backfillDue = 0;
      let backfillAttempt = 0;
      const backfill = async () => {
        for (const asset of input.assets) {
          const gap = minuteGap(stored.lastBarOpen[asset], now(), deps.settings.backfillMaxMinutes);
          if (!gap) continue;
          let candles: Candle[];
          try {
            candles = await source.fetchMinuteBars(asset, gap.from, gap.to);
          } catch (err) {
            const limited = err instanceof ProviderError && err.kind === 'rate_limited';
            summary.backfillFailures += 1;
            streamBackfills.inc({ source: source.name, outcome: limited ? 'rate_limited' : 'failed' });
            warnOnce(`backfill:${limited}`, limited ? 'the exchange rate-limited the gap backfill; it is tried again later' : 'the gap backfill failed; it is tried again later', { asset, error: (err as Error).message });
            const wait = err instanceof ProviderError && err.retryAfterMs !== undefined ? err.retryAfterMs : reconnectDelay(backfillAttempt, deps.settings.reconnect, random);
            backfillAttempt += 1;
            backfillDue = now() + Math.max(wait, deps.settings.reconnect.baseMs);
            return;
          }
          if (candles.length) {
            await upsertCandles(db, asset, 1, source.name, candles);
            const newest = Math.max(...candles.map((c) => c.timestamp));
            stored.lastBarOpen[asset] = Math.max(stored.lastBarOpen[asset] ?? -Infinity, newest);
            seen.lastBarOpen[asset] = Math.max(seen.lastBarOpen[asset] ?? -Infinity, newest);
          }
          summary.backfilledBars += candles.length;
          streamBackfills.inc({ source: source.name, outcome: 'ok' });
        }
        backfillAttempt = 0;
        backfillDue = 0;
      };

      let connectionAttempt = 0;
      const onFrame = (frame: ParsedFrame) => {
        if (frame.kind === 'control') return;
        if (frame.kind === 'malformed') {
          summary.malformed += 1;
          count('malformed');
          warnOnce('malformed', 'a malformed stream message was skipped', { detail: frame.detail });
          return;
        }
        if (frame.kind === 'unknown_symbol') {
          summary.unknownSymbols += 1;
          count('unknown_symbol');
          warnOnce(`unknown:${frame.symbol}`, 'a stream message for a symbol not asked for was skipped', { symbol: frame.symbol });
          return;
        }
        connectionAttempt = 0;
        for (const event of frame.events) {
          if (!input.assets.includes(event.asset)) {
            summary.unknownSymbols += 1;
            count('unknown_symbol');
            continue;
          }
          const verdict = admit(seen, event);
          if (verdict !== 'new') {
            if (verdict === 'duplicate') summary.duplicates += 1;
            else summary.outOfOrder += 1;
            count(verdict);
            if (verdict === 'out_of_order') warnOnce(`order:${event.asset}`, 'a stream event older than one already seen was skipped', { asset: event.asset });
            continue;
          }
          if (event.kind === 'bar') {
            if (!event.closed) continue;
            summary.bars += 1;
            count('bar');
            bars.push(event);
          } else {
            summary.prices += 1;
            count('price');
            const due = throttle.offer(event, now());
            if (due) prices.push({ asset: due.asset, price: due.price, time: due.time, source: source.name });
          }
        }
        if (bars.length || prices.length) enqueue(flush);
      };

      const heartbeat = () => ctx.heartbeat(stored);
      const ticker = setInterval(() => {
        heartbeat();
        for (const p of throttle.due(now())) prices.push({ asset: p.asset, price: p.price, time: p.time, source: source.name });
        if (prices.length) enqueue(flush);
        if (backfillDue && now() >= backfillDue) {
          backfillDue = 0;
          enqueue(backfill);
        }
      }, Math.min(deps.heartbeatEveryMs ?? 1000, deps.settings.priceWriteIntervalMs));

      const deadline = now() + input.runForMs;
      try {
        while (!signal.aborted && now() < deadline && !failure) {
          const connection = source.open(input.assets, { onOpen: () => enqueue(backfill), onFrame });
          let timer: NodeJS.Timeout | undefined;
          const ended = await Promise.race<StreamClosed | undefined>([
            connection.closed,
            new Promise((r) => { timer = setTimeout(() => r(undefined), Math.max(0, deadline - now())); }),
            new Promise((r) => signal.addEventListener('abort', () => r(undefined), { once: true })),
            failed,
          ]);
          clearTimeout(timer);
          connection.close();
          await writes;
          if (!ended || ended.reason === 'stopped' || signal.aborted || now() >= deadline || failure) break;
          summary.reconnects += 1;
          streamReconnects.inc({ source: source.name, reason: ended.reason });
          const wait = reconnectDelay(connectionAttempt, deps.settings.reconnect, random);
          connectionAttempt += 1;
          log.warn('market stream connection ended; reconnecting', { source: source.name, reason: ended.reason, detail: ended.detail, waitMs: wait });
          await sleep(wait, signal);
        }
        await writes;
        if (failure) throw failure;
        heartbeat();
        // Cancelled (the workflow, or the worker shutting down): fail as cancelled so Temporal does not take it for done.
        if (signal.aborted) await ctx.cancelled;
        return summary;
      } finally {
        clearInterval(ticker);
      }
    },
  };
}

export type MarketStreamActivities = ReturnType<typeof createMarketStreamActivities>;
