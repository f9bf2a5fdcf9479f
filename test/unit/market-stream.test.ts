import { describe, expect, it } from 'vitest';
import { admit, emptyPosition, minuteGap, newestPerAsset, PriceThrottle, reconnectDelay, type StreamEvent } from '../../src/domain/market-stream';
import { referencePriceAt } from '../../src/domain/trading/core';
import { parseBinanceFrame } from '../../src/providers/streams/binance';
import { parseBybitFrame } from '../../src/providers/streams/bybit';
import { SymbolMap } from '../../src/providers/streams/types';
import { binanceKline, binanceTrade, bybitKline, bybitTicker, minuteBar } from '../support/fake-exchange';

const symbols = new SymbolMap({ bitcoin: 'BTCUSDT', ethereum: 'ETHUSDT' });
const T = Date.UTC(2026, 0, 1, 12, 0);
const bar = (t: number, closed = true): StreamEvent => ({ kind: 'bar', asset: 'bitcoin', closed, bar: minuteBar(t) });
const price = (time: number, p = 100): StreamEvent => ({ kind: 'price', asset: 'bitcoin', price: p, time });

describe('admit', () => {
  it('takes newer closed bars and prices, and names duplicates and events out of order', () => {
    const pos = emptyPosition();
    expect(admit(pos, bar(T))).toBe('new');
    expect(admit(pos, bar(T))).toBe('duplicate');
    expect(admit(pos, bar(T - 60_000))).toBe('out_of_order');
    expect(admit(pos, bar(T + 60_000))).toBe('new');
    expect(pos.lastBarOpen.bitcoin).toBe(T + 60_000);
    expect(admit(pos, price(T + 5))).toBe('new');
    expect(admit(pos, price(T + 5))).toBe('duplicate');
    expect(admit(pos, price(T + 4))).toBe('out_of_order');
    expect(pos.lastPriceTime.bitcoin).toBe(T + 5);
  });

  it('checks an unfinished bar without moving the stream past its minute', () => {
    const pos = emptyPosition();
    expect(admit(pos, bar(T, false))).toBe('new');
    expect(pos.lastBarOpen.bitcoin).toBeUndefined();
    // The same minute, closed, is still new.
    expect(admit(pos, bar(T, true))).toBe('new');
  });
});

describe('PriceThrottle', () => {
  it('writes at most one price per asset per interval, and the newest waiting one when its turn comes', () => {
    const t = new PriceThrottle(1000);
    const p = (asset: string, x: number, time: number) => ({ kind: 'price' as const, asset, price: x, time });
    expect(t.offer(p('bitcoin', 1, 0), 0)?.price).toBe(1);
    expect(t.offer(p('bitcoin', 2, 100), 100)).toBeUndefined();
    expect(t.offer(p('bitcoin', 3, 200), 200)).toBeUndefined();
    // Another asset has its own turn.
    expect(t.offer(p('ethereum', 9, 300), 300)?.price).toBe(9);
    expect(t.due(999)).toEqual([]);
    expect(t.due(1000).map((x) => x.price)).toEqual([3]);
    expect(t.due(1500)).toEqual([]);
    expect(t.offer(p('bitcoin', 4, 1600), 1600)).toBeUndefined();
    expect(t.offer(p('bitcoin', 5, 2000), 2000)?.price).toBe(5);
    expect(t.due(5000)).toEqual([]);
  });
});

describe('newestPerAsset', () => {
  it('keeps the newest price of each asset, whatever order they came in', () => {
    const q = (asset: string, time: number) => ({ asset, time, price: time });
    expect(newestPerAsset([q('bitcoin', 2), q('ethereum', 1), q('bitcoin', 3), q('bitcoin', 1)])).toEqual([q('bitcoin', 3), q('ethereum', 1)]);
    expect(newestPerAsset([])).toEqual([]);
  });
});

describe('reconnectDelay', () => {
  it('draws uniformly below a doubling ceiling capped at the maximum', () => {
    const opts = { baseMs: 1000, maxMs: 60_000 };
    expect(reconnectDelay(0, opts, () => 0.999999)).toBe(999);
    expect(reconnectDelay(3, opts, () => 0.5)).toBe(4000);
    expect(reconnectDelay(10, opts, () => 0.5)).toBe(30_000);
    expect(reconnectDelay(1000, opts, () => 0.999999)).toBe(59_999);
    expect(reconnectDelay(5, opts, () => 0)).toBe(0);
  });
});

describe('minuteGap', () => {
  it('asks for the minutes after the last stored bar that have closed, at most maxMinutes back', () => {
    const now = T + 5 * 60_000 + 30_000; // 12:05:30: 12:04 is the last closed minute
    expect(minuteGap(T, now, 100)).toEqual({ from: T + 60_000, to: T + 5 * 60_000 });
    expect(minuteGap(T + 4 * 60_000, now, 100)).toBeUndefined();
    expect(minuteGap(undefined, now, 3)).toEqual({ from: T + 2 * 60_000, to: T + 5 * 60_000 });
    expect(minuteGap(T - 1000 * 60_000, now, 3)).toEqual({ from: T + 2 * 60_000, to: T + 5 * 60_000 });
  });
});

describe('referencePriceAt', () => {
  const b = { close: 100, timestamp: T - 60 * 60_000, intervalMinutes: 60 };
  it('uses a streamed price while it is fresh, the newest bar otherwise', () => {
    expect(referencePriceAt(T + 5000, { streamed: { price: 101, time: T }, bar: b, maxAgeMs: 5000 })).toEqual({ price: 101, time: T, source: 'stream' });
    expect(referencePriceAt(T + 5001, { streamed: { price: 101, time: T }, bar: b, maxAgeMs: 5000 })).toEqual({ price: 100, time: T, source: 'bar' });
    // A price quoted after the decision time does not exist yet for a replay at a past clock.
    expect(referencePriceAt(T - 1, { streamed: { price: 101, time: T }, bar: b, maxAgeMs: 5000 })?.source).toBe('bar');
    expect(referencePriceAt(T, { maxAgeMs: 5000 })).toBeUndefined();
  });
});

describe('Binance frames', () => {
  it('parse klines and aggregate trades from the combined stream', () => {
    const k = parseBinanceFrame(JSON.stringify(binanceKline('BTCUSDT', minuteBar(T), true)), symbols);
    expect(k).toEqual({ kind: 'events', events: [{ kind: 'bar', asset: 'bitcoin', closed: true, bar: minuteBar(T) }] });
    const tr = parseBinanceFrame(JSON.stringify(binanceTrade('ETHUSDT', 3000.5, T + 7)), symbols);
    expect(tr).toEqual({ kind: 'events', events: [{ kind: 'price', asset: 'ethereum', price: 3000.5, time: T + 7 }] });
  });

  it('name what is wrong: not JSON, a bad field, an unknown symbol; a subscription reply is control', () => {
    expect(parseBinanceFrame('{"stream":', symbols).kind).toBe('malformed');
    const bad = binanceTrade('BTCUSDT', 1, T);
    (bad.data as Record<string, unknown>).p = '-5';
    expect(parseBinanceFrame(JSON.stringify(bad), symbols)).toMatchObject({ kind: 'malformed', detail: expect.stringContaining('data.p') });
    expect(parseBinanceFrame(JSON.stringify(binanceTrade('DOGEUSDT', 1, T)), symbols)).toEqual({ kind: 'unknown_symbol', symbol: 'DOGEUSDT' });
    expect(parseBinanceFrame('{"result":null,"id":1}', symbols)).toEqual({ kind: 'control' });
  });
});

describe('Bybit frames', () => {
  it('parse kline.1 and tickers topics', () => {
    expect(parseBybitFrame(JSON.stringify(bybitKline('BTCUSDT', minuteBar(T), false)), symbols))
      .toEqual({ kind: 'events', events: [{ kind: 'bar', asset: 'bitcoin', closed: false, bar: minuteBar(T) }] });
    expect(parseBybitFrame(JSON.stringify(bybitTicker('ETHUSDT', 2999, T)), symbols))
      .toEqual({ kind: 'events', events: [{ kind: 'price', asset: 'ethereum', price: 2999, time: T }] });
  });

  it('treat replies as control, a refused subscription and bad fields as malformed, and name unknown symbols', () => {
    expect(parseBybitFrame('{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}', symbols)).toEqual({ kind: 'control' });
    expect(parseBybitFrame('{"success":false,"ret_msg":"error:handler not found","op":"subscribe"}', symbols).kind).toBe('malformed');
    expect(parseBybitFrame(JSON.stringify({ ...bybitTicker('BTCUSDT', 1, T), ts: 'soon' }), symbols).kind).toBe('malformed');
    expect(parseBybitFrame(JSON.stringify(bybitTicker('DOGEUSDT', 1, T)), symbols)).toEqual({ kind: 'unknown_symbol', symbol: 'DOGEUSDT' });
    expect(parseBybitFrame('[1,2', symbols).kind).toBe('malformed');
  });
});
