import { z } from 'zod';
import type { ParsedFrame, StreamEvent } from '../../domain/market-stream';
import { type Candle, MINUTE_MS } from '../../domain/types';
import { ProviderError } from '../errors';
import { decimal, firstIssue, getJson, positiveDecimal } from './rest';
import type { MarketStreamSource, SymbolMap } from './types';
import { openWebSocketStream, parseJson } from './websocket';

export interface BybitOptions {
  /** wss://stream.bybit.com (spot public streams at /v5/public/spot). */
  streamUrl: string;
  /** https://api.bybit.com (klines at /v5/market/kline). */
  restUrl: string;
  symbols: SymbolMap;
  staleAfterMs: number;
  /** Bybit drops a connection without a ping for a while; it asks for one every 20 s. */
  pingEveryMs?: number;
  timeoutMs?: number;
}

/** Bybit accepts at most 10 topics per spot subscribe request. */
const TOPICS_PER_REQUEST = 10;

const klineMessage = z.object({
  topic: z.string().regex(/^kline\.1\.[A-Z0-9]+$/),
  ts: z.number(),
  data: z.array(z.object({
    start: z.number().int(), interval: z.literal('1'), open: positiveDecimal, high: positiveDecimal, low: positiveDecimal, close: positiveDecimal,
    volume: decimal, confirm: z.boolean(),
  })).min(1),
});
const tickerMessage = z.object({
  topic: z.string().regex(/^tickers\.[A-Z0-9]+$/),
  ts: z.number().int(),
  data: z.object({ symbol: z.string(), lastPrice: positiveDecimal }),
});
/** Replies to subscribe and ping: `{"success":true,"ret_msg":"pong","op":"ping",…}`. */
const reply = z.object({ op: z.string(), success: z.boolean().optional(), ret_msg: z.string().optional() });

/** A row of /v5/market/kline's `result.list` (newest first): [start, open, high, low, close, volume, turnover]. */
const klineResponse = z.object({
  retCode: z.number(),
  retMsg: z.string(),
  result: z.object({ list: z.array(z.tuple([z.string().regex(/^\d+$/).transform(Number), positiveDecimal, positiveDecimal, positiveDecimal, positiveDecimal, decimal]).rest(z.unknown())) }).optional(),
});

/** Parses one frame of Bybit's v5 public spot stream into events. */
export function parseBybitFrame(text: string, symbols: SymbolMap): ParsedFrame {
  const json = parseJson(text);
  if (!json.ok) return { kind: 'malformed', detail: json.detail };
  const value = json.value as { topic?: unknown };
  if (typeof value === 'object' && value !== null && typeof value.topic !== 'string') {
    const r = reply.safeParse(value);
    if (!r.success) return { kind: 'malformed', detail: firstIssue(r.error) };
    return r.data.success === false ? { kind: 'malformed', detail: `${r.data.op} refused: ${r.data.ret_msg ?? ''}` } : { kind: 'control' };
  }
  const topic = String(value?.topic ?? '');
  const symbol = topic.slice(topic.lastIndexOf('.') + 1);
  if (topic.startsWith('kline.')) {
    const k = klineMessage.safeParse(value);
    if (!k.success) return { kind: 'malformed', detail: firstIssue(k.error) };
    const asset = symbols.assetOf(symbol);
    if (!asset) return { kind: 'unknown_symbol', symbol };
    const events: StreamEvent[] = k.data.data.map((b) => ({
      kind: 'bar', asset, closed: b.confirm, bar: { timestamp: b.start, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume },
    }));
    return { kind: 'events', events };
  }
  const t = tickerMessage.safeParse(value);
  if (!t.success) return { kind: 'malformed', detail: firstIssue(t.error) };
  const asset = symbols.assetOf(t.data.data.symbol);
  if (!asset) return { kind: 'unknown_symbol', symbol: t.data.data.symbol };
  return { kind: 'events', events: [{ kind: 'price', asset, price: t.data.data.lastPrice, time: t.data.ts }] };
}

/** Bybit v5 public spot streams: `kline.1.<symbol>` bars and `tickers.<symbol>` prices. */
export function bybitStream(opts: BybitOptions): MarketStreamSource {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let requests = 0;
  return {
    name: 'bybit',
    open(assets, handlers) {
      const topics = assets.flatMap((a) => {
        const s = opts.symbols.symbolOf(a);
        return [`kline.1.${s}`, `tickers.${s}`];
      });
      const subscribe: string[] = [];
      for (let i = 0; i < topics.length; i += TOPICS_PER_REQUEST) {
        subscribe.push(JSON.stringify({ req_id: `mts-${++requests}`, op: 'subscribe', args: topics.slice(i, i + TOPICS_PER_REQUEST) }));
      }
      return openWebSocketStream({
        url: `${opts.streamUrl.replace(/\/$/, '')}/v5/public/spot`,
        subscribe,
        ping: { message: () => JSON.stringify({ req_id: `mts-${++requests}`, op: 'ping' }), everyMs: opts.pingEveryMs ?? 20_000 },
        staleAfterMs: opts.staleAfterMs,
        parse: (text) => parseBybitFrame(text, opts.symbols),
      }, handlers);
    },
    async fetchMinuteBars(asset, from, to) {
      const bars: Candle[] = [];
      let end = to - 1;
      // Bybit pages newest first: walk back from `to` until `from`.
      while (end >= from) {
        const url = new URL('/v5/market/kline', opts.restUrl);
        url.search = new URLSearchParams({
          category: 'spot', symbol: opts.symbols.symbolOf(asset), interval: '1', start: String(from), end: String(end), limit: '1000',
        }).toString();
        const body = klineResponse.safeParse(await getJson('bybit', url, { timeoutMs, rateLimitStatuses: [403] }));
        if (!body.success) throw new ProviderError('bybit', 'invalid_data', `${asset}: kline ${firstIssue(body.error)}`);
        if (body.data.retCode === 10006) throw new ProviderError('bybit', 'rate_limited', `${asset}: ${body.data.retMsg}`);
        if (body.data.retCode !== 0) throw new ProviderError('bybit', 'rejected', `${asset}: retCode ${body.data.retCode} ${body.data.retMsg}`);
        const page = (body.data.result?.list ?? []).filter((r) => r[0] >= from && r[0] < to);
        if (page.length === 0) break;
        for (const r of page) bars.push({ timestamp: r[0], open: r[1], high: r[2], low: r[3], close: r[4], volume: r[5] });
        end = Math.min(...page.map((r) => r[0])) - 1;
      }
      const byTime = new Map(bars.map((b) => [b.timestamp, b]));
      return [...byTime.values()].sort((a, b) => a.timestamp - b.timestamp).filter((b) => b.timestamp % MINUTE_MS === 0);
    },
  };
}
