import type { Request, Response } from 'express';
import { HttpError } from './errors';

const HEARTBEAT_MS = 15_000;

/** Open Server-Sent Event streams per key name: a cap, so one key cannot hold the server's connections. */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly perKey: number, private readonly what: string) {}

  /** Takes a slot for the caller's key, or refuses with a 429 naming the cap; returns the release. */
  take(key: string): () => void {
    const n = this.open.get(key) ?? 0;
    if (n >= this.perKey) throw new HttpError(429, 'too_many_streams', `this key has ${this.perKey} ${this.what} streams open already; close one first`);
    this.open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    };
  }
}

export interface EventStream {
  send(event: string, data: unknown, id?: number): void;
  readonly closed: boolean;
  /** Ends the stream from the server's side (after an error), releasing what it holds. */
  end(): void;
}

/**
 * Opens an SSE response holding a slot of the caller's key, with a comment heartbeat so proxies keep
 * it open. `cleanup` and the slot are released once, whenever the client goes.
 */
export function openEventStream(req: Request, res: Response, slots: StreamSlots, cleanup: () => void): EventStream {
  const release = slots.take(req.identity!.name);
  let closed = false;
  let heartbeat: NodeJS.Timeout | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    cleanup();
    release();
  };
  req.on('close', close);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': connected\n\n');
  heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  return {
    send(event, data, id) {
      if (!closed) res.write(`event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
    },
    get closed() {
      return closed;
    },
    end() {
      close();
      res.end();
    },
  };
}
