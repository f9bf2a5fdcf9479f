import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { NOTIFY_CHANNELS, notify } from '../db/notify';
import { alertFileName, type AlertType, webhookSignature } from '../domain/alerts';
import { boundedFetch } from '../providers/bounded-fetch';
import { errorForStatus, ProviderError } from '../providers/errors';

/** A webhook's or Discord's refusal is read for its reason, and no more than a provider's answer would be. */
const fetchBounded = boundedFetch();

export const ALERT_CHANNELS = ['file', 'sse', 'webhook', 'discord'] as const;
export type AlertChannel = (typeof ALERT_CHANNELS)[number];

export interface StoredAlert {
  id: number;
  type: AlertType;
  asset: string;
  timestamp: number;
  body: Record<string, unknown>;
}

export interface ChannelSettings {
  directory: string;
  webhook?: { url: string; secret: string };
  discord?: { url: string };
  pool: pg.Pool;
}

/** Writes to a temporary file beside the target and renames it, so a reader never sees half a file. */
export async function writeAlertFile(directory: string, alert: StoredAlert): Promise<string> {
  await mkdir(directory, { recursive: true });
  const path = join(directory, alertFileName(alert.type, alert.asset, alert.timestamp));
  const temp = join(directory, `.${alert.id}-${process.pid}-${Date.now()}.tmp`);
  await writeFile(temp, `${JSON.stringify(alert.body, null, 2)}\n`);
  await rename(temp, path);
  return path;
}

async function post(channel: string, url: string, body: string, headers: Record<string, string>): Promise<void> {
  let res: Response;
  try {
    res = await fetchBounded(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new ProviderError(channel, 'unavailable', `network error: ${(err as Error).message}`);
  }
  if (res.ok) return;
  const text = await res.text().catch(() => '');
  // Discord puts the wait in the body as retry_after (seconds) as well as in Retry-After.
  let retryAfter = res.headers.get('retry-after');
  if (res.status === 429 && !retryAfter) {
    try { retryAfter = String(Math.ceil((JSON.parse(text) as { retry_after?: number }).retry_after ?? 0)); } catch { /* no JSON body */ }
  }
  throw errorForStatus(channel, res.status, text.slice(0, 200) || res.statusText, retryAfter);
}

const COLORS = { LONG: 0x2ecc71, SHORT: 0xe74c3c } as const;

/** Discord's webhook message with one embed (https://discord.com/developers/docs/resources/webhook). */
export function discordMessage(alert: StoredAlert) {
  const b = alert.body as Record<string, unknown>;
  const direction = String(b.signal_type ?? '');
  const num = (v: unknown, digits = 4) => (typeof v === 'number' ? v.toPrecision(digits) : String(v));
  if (alert.type === 'data_health') {
    const unhealthy = b.status === 'unhealthy';
    return {
      username: 'MTS',
      embeds: [{
        title: `Data ${unhealthy ? 'unhealthy' : 'recovered'}: ${String(b.tier)} / ${alert.asset}`,
        color: unhealthy ? 0xe67e22 : 0x2ecc71,
        fields: unhealthy ? [{ name: 'Why', value: (b.reasons as string[]).join('\n'), inline: false }] : [],
        timestamp: new Date(alert.timestamp).toISOString(),
        footer: { text: `alert ${alert.id}` },
      }],
    };
  }
  const fields = alert.type === 'signal'
    ? [
      { name: 'Confidence', value: num(b.confidence, 3), inline: true },
      { name: 'Price', value: num(b.price, 8), inline: true },
      { name: 'Position size', value: `${num(Number(b.position_size) * 100, 3)}% of equity`, inline: true },
      { name: 'Stop loss', value: num((b.risk_metrics as { stop_loss: number }).stop_loss, 8), inline: true },
      { name: 'Take profit', value: num((b.risk_metrics as { take_profit: number }).take_profit, 8), inline: true },
      { name: 'Strategies', value: (b.strategies as string[]).join(', '), inline: false },
    ]
    : [
      { name: 'Price', value: num(b.current_price, 8), inline: true },
      { name: 'Volatility', value: `${num(b.volatility_value, 3)} (threshold ${num(b.volatility_threshold, 3)})`, inline: true },
      { name: 'Percentile', value: num(b.volatility_percentile, 3), inline: true },
    ];
  return {
    username: 'MTS',
    embeds: [{
      title: `${alert.type === 'signal' ? 'Signal' : 'Volatility spike'}: ${direction} ${alert.asset}`,
      color: COLORS[direction as keyof typeof COLORS] ?? 0x95a5a6,
      fields,
      timestamp: new Date(alert.timestamp).toISOString(),
      footer: { text: `alert ${alert.id}` },
    }],
  };
}

/** Sends one alert on one channel; returns the file path for the file channel. */
export async function sendAlert(channel: AlertChannel, alert: StoredAlert, settings: ChannelSettings): Promise<string | undefined> {
  switch (channel) {
    case 'file':
      return writeAlertFile(settings.directory, alert);
    case 'sse':
      await notify(settings.pool, NOTIFY_CHANNELS.alerts, { id: alert.id, alert_type: alert.type, alert: alert.body });
      return undefined;
    case 'webhook': {
      if (!settings.webhook) throw new ProviderError('webhook', 'rejected', 'no webhook URL configured');
      const body = JSON.stringify(alert.body);
      const timestamp = Date.now();
      await post('webhook', settings.webhook.url, body, {
        'x-mts-signature': webhookSignature(settings.webhook.secret, body, timestamp),
        'x-mts-timestamp': String(timestamp),
        'x-mts-alert-id': String(alert.id),
        'x-mts-alert-type': alert.type,
      });
      return undefined;
    }
    case 'discord':
      if (!settings.discord) throw new ProviderError('discord', 'rejected', 'no Discord webhook URL configured');
      await post('discord', settings.discord.url, JSON.stringify(discordMessage(alert)), {});
      return undefined;
  }
}
