import WebSocket from 'ws';
import type { ParsedFrame } from '../../domain/market-stream';
import type { StreamClosed, StreamConnection, StreamHandlers } from './types';

export interface WebSocketStreamOptions {
  url: string;
  /** Sent once the socket opens (Bybit subscribes by message; Binance by URL). */
  subscribe?: string[];
  /** An application-level ping the exchange expects (Bybit: `{"op":"ping"}` every 20 s). */
  ping?: { message: () => string; everyMs: number };
  /** No frame (or pong) for this long and the connection is given up as stale. */
  staleAfterMs: number;
  parse(text: string): ParsedFrame;
}

/**
 * One WebSocket connection through `ws`: protocol pings are answered by `ws` itself (Binance pings
 * every 20 s and drops a client that does not pong), application pings are sent on a timer, and a
 * connection that sends no message past `staleAfterMs` is terminated so the consumer reconnects
 * (pings alone do not count: a subscription that stopped delivering is as good as gone).
 */
export function openWebSocketStream(opts: WebSocketStreamOptions, handlers: StreamHandlers): StreamConnection {
  // A ticker frame is well under a kilobyte: a frame past a mebibyte closes the connection (1009) and the consumer reconnects.
  const socket = new WebSocket(opts.url, { handshakeTimeout: opts.staleAfterMs, maxPayload: 2 ** 20 });
  let settle!: (c: StreamClosed) => void;
  let ended: StreamClosed | undefined;
  const closed = new Promise<StreamClosed>((resolve) => { settle = resolve; });
  let stale: NodeJS.Timeout | undefined;
  let pinger: NodeJS.Timeout | undefined;
  const finish = (c: StreamClosed) => {
    if (ended) return;
    ended = c;
    clearTimeout(stale);
    clearInterval(pinger);
    settle(c);
  };
  const alive = () => {
    clearTimeout(stale);
    stale = setTimeout(() => {
      finish({ reason: 'stale', detail: `no message for ${opts.staleAfterMs} ms` });
      socket.terminate();
    }, opts.staleAfterMs);
  };
  alive();
  socket.on('open', () => {
    alive();
    for (const m of opts.subscribe ?? []) socket.send(m);
    if (opts.ping) {
      const { message, everyMs } = opts.ping;
      pinger = setInterval(() => { if (socket.readyState === WebSocket.OPEN) socket.send(message()); }, everyMs);
    }
    handlers.onOpen();
  });
  socket.on('message', (data, isBinary) => {
    alive();
    if (ended) return;
    const text = isBinary ? '' : data.toString();
    handlers.onFrame(isBinary ? { kind: 'malformed', detail: 'binary frame' } : opts.parse(text));
  });
  socket.on('error', (err) => finish({ reason: 'error', detail: err.message }));
  socket.on('close', (code, reason) => finish({ reason: 'closed', detail: `code ${code}${reason.length ? ` ${reason.toString()}` : ''}` }));
  return {
    closed,
    close() {
      finish({ reason: 'stopped', detail: 'closed by the consumer' });
      socket.terminate();
    },
  };
}

/** JSON.parse that reports what was wrong instead of throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; detail: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, detail: `not JSON (${(err as Error).message})` };
  }
}
