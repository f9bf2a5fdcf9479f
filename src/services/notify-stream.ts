import pg from 'pg';
import { listen, type NotifyChannel } from '../db/notify';

/**
 * Fans one NOTIFY channel out to in-process listeners (SSE clients) over one dedicated connection,
 * reconnecting after an error. Payloads are JSON.
 */
export class NotifyStream<T> {
  private client?: pg.Client;
  private connecting?: Promise<void>;
  private readonly listeners = new Set<(payload: T) => void>();
  private closed = false;

  constructor(private readonly databaseUrl: string, private readonly channel: NotifyChannel, private readonly onError: (err: Error) => void = () => {}) {}

  /** Resolves once the stream is listening, so nothing announced after it is missed. */
  async subscribe(listener: (payload: T) => void): Promise<() => void> {
    this.listeners.add(listener);
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
          this.onError(err as Error);
          return;
        }
        for (const l of this.listeners) l(payload);
      });
      client.on('error', (err) => {
        this.onError(err);
        this.client = undefined;
        client.end().catch(() => undefined);
        if (!this.closed) setTimeout(() => this.ensureListening().catch(this.onError), 1000);
      });
      await client.connect();
      await listen(client, this.channel);
      this.client = client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.client?.end();
    this.client = undefined;
  }
}
