import pg from 'pg';
import { ALERT_NOTIFY_CHANNEL, listenForAlerts, type StreamedAlert } from '../db/alert-notify';

/**
 * Fans alerts out to SSE clients. Workers announce each alert with pg_notify; every API process
 * listens on one dedicated connection, so any number of API replicas all see every alert.
 */
export class AlertStream {
  private client?: pg.Client;
  private connecting?: Promise<void>;
  private readonly listeners = new Set<(a: StreamedAlert) => void>();
  private closed = false;

  constructor(private readonly databaseUrl: string, private readonly onError: (err: Error) => void = () => {}) {}

  /** Resolves once the stream is listening, so nothing announced after it is missed. */
  async subscribe(listener: (a: StreamedAlert) => void): Promise<() => void> {
    this.listeners.add(listener);
    await this.ensureListening();
    return () => this.listeners.delete(listener);
  }

  private ensureListening(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.databaseUrl });
      client.on('notification', (msg) => {
        if (msg.channel !== ALERT_NOTIFY_CHANNEL || !msg.payload) return;
        let alert: StreamedAlert;
        try {
          alert = JSON.parse(msg.payload) as StreamedAlert;
        } catch (err) {
          this.onError(err as Error);
          return;
        }
        for (const l of this.listeners) l(alert);
      });
      client.on('error', (err) => {
        this.onError(err);
        this.client = undefined;
        client.end().catch(() => undefined);
        if (!this.closed) setTimeout(() => this.ensureListening().catch(this.onError), 1000);
      });
      await client.connect();
      await listenForAlerts(client);
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
