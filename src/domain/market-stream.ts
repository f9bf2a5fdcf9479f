/**
 * The rules of a real-time market stream, whatever the exchange: which events are new, how often
 * a price may be written, how long to wait before reconnecting, and which minutes a reconnect must
 * fill from the exchange's REST klines. Pure: the consumer activity feeds it events and the clock.
 */
import type { Candle } from './types';
import { MINUTE_MS } from './types';

/** The exchanges a stream can come from; `simulated` plays the simulated market as ticks. */
export const STREAM_SOURCES = ['simulated', 'binance', 'bybit'] as const;
export type StreamSourceName = (typeof STREAM_SOURCES)[number];

/** A 1-minute bar as the stream sees it: `closed` once the exchange says the minute is final. */
export interface StreamBar {
  kind: 'bar';
  asset: string;
  bar: Candle;
  closed: boolean;
}

/** The latest traded (or top-of-book mid) price of an asset at `time` (the exchange's event time, ms). */
export interface StreamPrice {
  kind: 'price';
  asset: string;
  price: number;
  time: number;
}

export type StreamEvent = StreamBar | StreamPrice;

/** What a frame turned out to be: events, a control frame (subscription ack, pong), or bad input. */
export type ParsedFrame =
  | { kind: 'events'; events: StreamEvent[] }
  | { kind: 'control' }
  | { kind: 'malformed'; detail: string }
  | { kind: 'unknown_symbol'; symbol: string };

/** Where a stream stands per asset: the open time of the newest closed bar stored, and the newest price's time. */
export interface StreamPosition {
  lastBarOpen: Record<string, number>;
  lastPriceTime: Record<string, number>;
}

export const emptyPosition = (): StreamPosition => ({ lastBarOpen: {}, lastPriceTime: {} });

export type EventVerdict = 'new' | 'duplicate' | 'out_of_order';

/**
 * Decides whether an event moves the stream forward and, if so, records it: a closed bar newer
 * than the last one stored, a price newer than the last one seen. Open (unfinished) bars are never
 * stored, so they are only checked against the closed ones. An event at the same time is a
 * duplicate; an older one arrived out of order.
 */
export function admit(position: StreamPosition, event: StreamEvent): EventVerdict {
  if (event.kind === 'bar') {
    const last = position.lastBarOpen[event.asset];
    if (last !== undefined && event.bar.timestamp <= last) return event.bar.timestamp === last ? 'duplicate' : 'out_of_order';
    if (event.closed) position.lastBarOpen[event.asset] = event.bar.timestamp;
    return 'new';
  }
  const last = position.lastPriceTime[event.asset];
  if (last !== undefined && event.time <= last) return event.time === last ? 'duplicate' : 'out_of_order';
  position.lastPriceTime[event.asset] = event.time;
  return 'new';
}

/**
 * At most one price write per asset per `intervalMs`: a price that comes sooner waits, and only
 * the newest waiting price of an asset is written when its turn comes. Postgres sees a bounded
 * rate however fast the exchange sends.
 */
export class PriceThrottle {
  private readonly lastWrite = new Map<string, number>();
  private readonly waiting = new Map<string, StreamPrice>();

  constructor(private readonly intervalMs: number) {}

  /** The price to write now, or undefined when it must wait (it replaces any older waiting one). */
  offer(price: StreamPrice, now: number): StreamPrice | undefined {
    const last = this.lastWrite.get(price.asset);
    if (last === undefined || now - last >= this.intervalMs) {
      this.lastWrite.set(price.asset, now);
      this.waiting.delete(price.asset);
      return price;
    }
    this.waiting.set(price.asset, price);
    return undefined;
  }

  /** The waiting prices whose turn has come. */
  due(now: number): StreamPrice[] {
    const out: StreamPrice[] = [];
    for (const [asset, price] of this.waiting) {
      if (now - (this.lastWrite.get(asset) ?? 0) < this.intervalMs) continue;
      this.lastWrite.set(asset, now);
      this.waiting.delete(asset);
      out.push(price);
    }
    return out;
  }
}

/**
 * The newest price of each asset in a batch: prices that waited behind a slow write arrive together,
 * and one statement cannot write an asset's row twice.
 */
export function newestPerAsset<P extends { asset: string; time: number }>(prices: P[]): P[] {
  const newest = new Map<string, P>();
  for (const p of prices) {
    const held = newest.get(p.asset);
    if (!held || p.time > held.time) newest.set(p.asset, p);
  }
  return [...newest.values()];
}

/**
 * Exponential backoff with full jitter (AWS's "full jitter"): a uniform wait in [0, min(max, base·2^attempt)],
 * so many consumers cut off at once do not reconnect in step. `attempt` counts from 0.
 */
export function reconnectDelay(attempt: number, opts: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * The 1-minute bars a reconnect must fetch: open times after the last stored closed bar, up to the
 * last minute that has closed by `now`; at most `maxMinutes` back (a consumer down for a week
 * does not ask for the whole week). Empty when nothing is missing.
 */
export function minuteGap(lastBarOpen: number | undefined, now: number, maxMinutes: number): { from: number; to: number } | undefined {
  const lastClosedOpen = Math.floor(now / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  const earliest = lastClosedOpen - (maxMinutes - 1) * MINUTE_MS;
  const from = Math.max(lastBarOpen === undefined ? earliest : lastBarOpen + MINUTE_MS, earliest);
  if (from > lastClosedOpen) return undefined;
  return { from, to: lastClosedOpen + MINUTE_MS };
}

/** A price as a bar of one point: what the core's stop-first and gap rules see on a tick. */
export const tickBar = (price: number, time: number): Candle => ({ timestamp: time, open: price, high: price, low: price, close: price, volume: 0 });
