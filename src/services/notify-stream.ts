import pg from 'pg';
import { listen, type NotifyChannel } from '../db/notify';

export interface NotifyStreamOptions {
  /** A lost connection, a failed attempt to listen again, a payload that is not JSON; with what the stream does about it. */
  onError?: (err: Error, consequence: string) => void;
  /** The wait before listening again after a lost connection, doubled after each failed attempt up to `max`. */
  retryMs?: { first: number; max: number };
}

/**
 * Fans one NOTIFY channel out to in-process listeners (SSE clients) over one dedicated connection.
 * A lost connection (Postgres restarted or down for a while) is reported and listened again until it
 * works, backing off; announcements made meanwhile are missed (the alert stream's clients catch up by
 * their Last-Event-ID). Payloads are JSON.
 */
export class NotifyStream<T> {
  private client?: pg.Client;
  private connecting?: Promise<void>;
  private retry?: NodeJS.Timeout;
  /** Each listener, with what it is told when the connection is lost. */
  private readonly listeners = new Map<(payload: T) => void, (() => void) | undefined>();
  private closed = false;
  private readonly onError: (err: Error, consequence: string) => void;
  private readonly retryMs: { first: number; max: number };

  constructor(private readonly databaseUrl: string, private readonly channel: NotifyChannel, options: NotifyStreamOptions = {}) {
    this.onError = options.onError ?? (() => {});
    this.retryMs = options.retryMs ?? { first: 1000, max: 30_000 };
  }

  /**
   * Resolves once the stream is listening, so nothing announced after it is missed. `onLost` is told
   * when the connection is lost, since what is announced until it is back is missed: an SSE response
   * ends, and its client reconnects with its Last-Event-ID and catches up.
   */
  async subscribe(listener: (payload: T) => void, onLost?: () => void): Promise<() => void> {
    this.listeners.set(listener, onLost);
    await this.ensureListening();
    return () => this.listeners.delete(listener);
  }

  private ensureListening(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.databaseUrl });
      client.on('notification', (msg) => {
        if (msg.channel !== this.channel || !msg.payload) return;
        let payload: T;
        try {
          payload = JSON.parse(msg.payload) as T;
        } catch (err) {
          this.onError(err as Error, `a notification on ${this.channel} that is not JSON was skipped`);
          return;
        }
        for (const l of this.listeners.keys()) l(payload);
      });
      client.on('error', (err) => {
        if (this.client === client) this.client = undefined;
        client.end().catch(() => undefined);
        for (const onLost of [...this.listeners.values()]) onLost?.();
        this.listenAgain(err, this.retryMs.first);
      });
      try {
        await client.connect();
        await listen(client, this.channel);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      this.client = client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** After `err`, listens again in `delayMs`, and again, each wait twice the last, until it works or the stream is closed. */
  private listenAgain(err: Error, delayMs: number): void {
    if (this.closed || this.retry) return;
    this.onError(err, `listening on ${this.channel} again in ${delayMs} ms`);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.ensureListening().catch((failed: Error) => this.listenAgain(failed, Math.min(2 * delayMs, this.retryMs.max)));
    }, delayMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.listeners.clear();
    await this.client?.end();
    this.client = undefined;
  }
}
