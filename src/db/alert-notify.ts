/** Alerts announced over Postgres NOTIFY: workers send, every API process listens, so every replica streams every alert. */
import type pg from 'pg';

/** The Postgres channel alerts are announced on. */
export const ALERT_NOTIFY_CHANNEL = 'mts_alerts';

export interface StreamedAlert {
  id: number;
  alert_type: string;
  alert: Record<string, unknown>;
}

export async function notifyAlert(pool: pg.Pool, alert: StreamedAlert): Promise<void> {
  await pool.query('SELECT pg_notify($1, $2)', [ALERT_NOTIFY_CHANNEL, JSON.stringify(alert)]);
}

/** Starts listening on a dedicated connection; its `notification` events then carry the alerts. */
export async function listenForAlerts(client: pg.Client): Promise<void> {
  await client.query(`LISTEN ${ALERT_NOTIFY_CHANNEL}`);
}
