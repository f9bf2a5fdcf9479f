import { z } from 'zod';
import type { ParsedFrame, StreamEvent } from '../../domain/market-stream';
import { type Candle, MINUTE_MS } from '../../domain/types';
import { ProviderError } from '../errors';
import { decimal, firstIssue, getJson, positiveDecimal } from './rest';
import type { MarketStreamSource, SymbolMap } from './types';
import { openWebSocketStream, parseJson } from './websocket';

export interface BinanceOptions {
  /** wss://stream.binance.com:9443 (combined streams at /stream). */
  streamUrl: string;
  /** https://api.binance.com (klines at /api/v3/klines). */
  restUrl: string;
  symbols: SymbolMap;
  staleAfterMs: number;
  timeoutMs?: number;
}

const klineEvent = z.object({
  e: z.literal('kline'),
  E: z.number(),
  s: z.string(),
  k: z.object({ t: z.number().int(), i: z.literal('1m'), o: positiveDecimal, h: positiveDecimal, l: positiveDecimal, c: positiveDecimal, v: decimal, x: z.boolean() }),
});
const aggTradeEvent = z.object({ e: z.literal('aggTrade'), s: z.string(), p: positiveDecimal, T: z.number().int() });
const combined = z.object({ stream: z.string(), data: z.union([klineEvent, aggTradeEvent]) });
/** A reply to a live SUBSCRIBE, or an error the server sends: `{"result":null,"id":1}`, `{"code":2,"msg":"…"}`. */
const control = z.union([z.object({ id: z.union([z.number(), z.string(), z.null()]) }), z.object({ code: z.number(), msg: z.string() })]);

/** A kline row of /api/v3/klines: [open time, open, high, low, close, volume, close time, …]. */
const klineRow = z.tuple([z.number().int(), positiveDecimal, positiveDecimal, positiveDecimal, positiveDecimal, decimal, z.number().int()]).rest(z.unknown());

/** Parses one frame of Binance's combined stream (`{"stream":…,"data":…}`) into events. */
export function parseBinanceFrame(text: string, symbols: SymbolMap): ParsedFrame {
  const json = parseJson(text);
  if (!json.ok) return { kind: 'malformed', detail: json.detail };
  const parsed = combined.safeParse(json.value);
  if (!parsed.success) return control.safeParse(json.value).success ? { kind: 'control' } : { kind: 'malformed', detail: firstIssue(parsed.error) };
  const data = parsed.data.data;
  const asset = symbols.assetOf(data.s);
  if (!asset) return { kind: 'unknown_symbol', symbol: data.s };
  const event: StreamEvent = data.e === 'kline'
    ? { kind: 'bar', asset, closed: data.k.x, bar: { timestamp: data.k.t, open: data.k.o, high: data.k.h, low: data.k.l, close: data.k.c, volume: data.k.v } }
    : { kind: 'price', asset, price: data.p, time: data.T };
  return { kind: 'events', events: [event] };
}

/** Binance public market streams: `<symbol>@kline_1m` bars and `<symbol>@aggTrade` prices on one combined connection. */
export function binanceStream(opts: BinanceOptions): MarketStreamSource {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    name: 'binance',
    open(assets, handlers) {
      const streams = assets.flatMap((a) => {
        const s = opts.symbols.symbolOf(a).toLowerCase();
        return [`${s}@kline_1m`, `${s}@aggTrade`];
      });
      return openWebSocketStream({
        url: `${opts.streamUrl.replace(/\/$/, '')}/stream?streams=${streams.join('/')}`,
        staleAfterMs: opts.staleAfterMs,
        parse: (text) => parseBinanceFrame(text, opts.symbols),
      }, handlers);
    },
    async fetchMinuteBars(asset, from, to) {
      const bars: Candle[] = [];
      let start = from;
      while (start < to) {
        const url = new URL('/api/v3/klines', opts.restUrl);
        url.search = new URLSearchParams({
          symbol: opts.symbols.symbolOf(asset), interval: '1m', startTime: String(start), endTime: String(to - 1), limit: '1000',
        }).toString();
        const body = await getJson('binance', url, { timeoutMs, rateLimitStatuses: [418] });
        const rows = z.array(klineRow).safeParse(body);
        if (!rows.success) throw new ProviderError('binance', 'invalid_data', `${asset}: klines ${firstIssue(rows.error)}`);
        const page = rows.data.filter((r) => r[0] >= start && r[0] < to);
        for (const r of page) bars.push({ timestamp: r[0], open: r[1], high: r[2], low: r[3], close: r[4], volume: r[5] });
        if (page.length === 0) break;
        start = page[page.length - 1][0] + MINUTE_MS;
      }
      return bars;
    },
  };
}
