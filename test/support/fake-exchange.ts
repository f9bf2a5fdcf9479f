import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { Candle } from '../../src/domain/types';
import { FakeHttpServer } from './fake-http';
import { waitFor } from './wait';

/**
 * A local exchange speaking Binance's combined market streams or Bybit's v5 public spot stream, as
 * their documentation shows them, with a REST fake beside it for the klines a reconnect backfills.
 * Tests send frames (well-formed, malformed, for unknown symbols), drop connections, go silent.
 */
export class FakeExchange {
  readonly rest = new FakeHttpServer();
  private wss?: WebSocketServer;
  readonly sockets: WebSocket[] = [];
  /** Every text frame clients sent (Bybit subscriptions and pings). */
  readonly received: unknown[] = [];
  /** Connection URLs (Binance subscribes by URL). */
  readonly connectedUrls: string[] = [];
  pongs = 0;
  private pinger?: NodeJS.Timeout;

  constructor(readonly kind: 'binance' | 'bybit') {}

  async start(opts: { pingEveryMs?: number } = {}): Promise<{ streamUrl: string; restUrl: string }> {
    const restUrl = await this.rest.start();
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => this.wss!.once('listening', () => r()));
    this.wss.on('connection', (socket, req) => {
      this.sockets.push(socket);
      this.connectedUrls.push(req.url ?? '');
      socket.on('pong', () => { this.pongs += 1; });
      socket.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { op?: string; req_id?: string; args?: string[] };
        this.received.push(msg);
        // Bybit answers its application-level ping and each subscription.
        if (this.kind === 'bybit' && msg.op === 'ping') socket.send(JSON.stringify({ success: true, ret_msg: 'pong', conn_id: 'fake', req_id: msg.req_id, op: 'ping' }));
        if (this.kind === 'bybit' && msg.op === 'subscribe') socket.send(JSON.stringify({ success: true, ret_msg: '', conn_id: 'fake', req_id: msg.req_id, op: 'subscribe' }));
      });
    });
    // Binance sends a protocol ping every 20 s and expects the pong: here, faster.
    if (opts.pingEveryMs) this.pinger = setInterval(() => this.open().forEach((s) => s.ping()), opts.pingEveryMs);
    return { streamUrl: `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`, restUrl };
  }

  open(): WebSocket[] {
    return this.sockets.filter((s) => s.readyState === WebSocket.OPEN);
  }

  /** Resolves once `n` connections have been opened in all. */
  async connections(n: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(`${n} connections`, () => this.sockets.length >= n, timeoutMs);
  }

  send(frame: unknown): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    for (const s of this.open()) s.send(text);
  }

  /** Drops every connection without a close handshake (a network cut). */
  cut(): void {
    for (const s of this.open()) s.terminate();
  }

  async stop(): Promise<void> {
    clearInterval(this.pinger);
    for (const s of this.sockets) s.terminate();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    await this.rest.stop();
  }
}

const str = (x: number) => String(x);

/** Binance `<symbol>@kline_1m` in a combined-stream envelope. */
export const binanceKline = (symbol: string, bar: Candle, closed: boolean) => ({
  stream: `${symbol.toLowerCase()}@kline_1m`,
  data: {
    e: 'kline', E: bar.timestamp + 59_000, s: symbol,
    k: {
      t: bar.timestamp, T: bar.timestamp + 59_999, s: symbol, i: '1m', f: 100, L: 200,
      o: str(bar.open), c: str(bar.close), h: str(bar.high), l: str(bar.low), v: str(bar.volume), n: 100, x: closed, q: '1.0', V: '0.5', Q: '0.5', B: '0',
    },
  },
});

/** Binance `<symbol>@aggTrade` in a combined-stream envelope. */
export const binanceTrade = (symbol: string, price: number, time: number) => ({
  stream: `${symbol.toLowerCase()}@aggTrade`,
  data: { e: 'aggTrade', E: time + 1, s: symbol, a: 12345, p: str(price), q: '0.5', f: 100, l: 105, T: time, m: true, M: true },
});

/** A row of Binance's GET /api/v3/klines. */
export const binanceKlineRow = (b: Candle) => [b.timestamp, str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume), b.timestamp + 59_999, '1.0', 10, '0.5', '0.5', '0'];

/** Bybit v5 `kline.1.<symbol>`. */
export const bybitKline = (symbol: string, bar: Candle, closed: boolean) => ({
  topic: `kline.1.${symbol}`, type: 'snapshot', ts: bar.timestamp + 59_000,
  data: [{
    start: bar.timestamp, end: bar.timestamp + 59_999, interval: '1', open: str(bar.open), close: str(bar.close), high: str(bar.high), low: str(bar.low),
    volume: str(bar.volume), turnover: '1000', confirm: closed, timestamp: bar.timestamp + 59_000,
  }],
});

/** Bybit v5 spot `tickers.<symbol>`. */
export const bybitTicker = (symbol: string, price: number, ts: number) => ({
  topic: `tickers.${symbol}`, ts, type: 'snapshot', cs: 1,
  data: { symbol, lastPrice: str(price), highPrice24h: str(price * 1.1), lowPrice24h: str(price * 0.9), prevPrice24h: str(price), volume24h: '100', turnover24h: '1000', price24hPcnt: '0.01', usdIndexPrice: str(price) },
});

/** A Bybit GET /v5/market/kline answer: rows newest first. */
export const bybitKlineResponse = (bars: Candle[], symbol: string) => ({
  retCode: 0, retMsg: 'OK',
  result: { category: 'spot', symbol, list: [...bars].reverse().map((b) => [str(b.timestamp), str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume), '1000']) },
  retExtInfo: {}, time: Date.now(),
});

/** A deterministic 1-minute bar at `t` around `base`. */
export const minuteBar = (t: number, base = 100): Candle => {
  const c = base + ((t / 60_000) % 7);
  return { timestamp: t, open: c - 0.5, high: c + 1, low: c - 1, close: c, volume: 3 };
};
