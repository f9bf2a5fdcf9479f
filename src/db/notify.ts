/**
 * Announcements over Postgres NOTIFY: workers send, every API process listens on one dedicated
 * connection, so every replica streams every alert and price.
 */
import type pg from 'pg';

/** The channels: alerts as they are stored, streamed prices as they are written, the ids of API keys as they are revoked. */
export const NOTIFY_CHANNELS = { alerts: 'mts_alerts', prices: 'mts_prices', keyRevocations: 'mts_key_revocations' } as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[keyof typeof NOTIFY_CHANNELS];

/** An alert as it is announced: its stored id, type and seed-format body. */
export interface StreamedAlert {
  id: number;
  alert_type: string;
  alert: Record<string, unknown>;
}

export async function notify(q: Pick<pg.Pool, 'query'>, channel: NotifyChannel, payload: unknown): Promise<void> {
  await q.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(payload)]);
}

/** Starts listening on a dedicated connection; its `notification` events then carry the payloads. */
export async function listen(client: pg.Client, channel: NotifyChannel): Promise<void> {
  await client.query(`LISTEN ${channel}`);
}
