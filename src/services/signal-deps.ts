import { resolve } from 'node:path';
import type { AlertChannel } from '../activities/alert-channels';
import type { SignalDeps } from '../activities/signals';
import { loadSignalsConfig, type SignalsConfig } from '../config/signals';
import type { Env } from '../config/env';
import { buildStrategies, loadStrategyConfigs } from '../config/strategies';
import type { DatabaseHandle } from '../db/client';

/**
 * Channels from config/signals.json, switched on by the environment: ALERT_WEBHOOK_URL enables the
 * webhook, DISCORD_WEBHOOK_URL enables Discord; a URL in the file works too.
 */
export function signalDepsFromConfig(env: Env, db: DatabaseHandle, config: SignalsConfig = loadSignalsConfig()): SignalDeps {
  const c = config.alerts.channels;
  const webhookUrl = env.ALERT_WEBHOOK_URL ?? (c.webhook.enabled ? c.webhook.url ?? undefined : undefined);
  const discordUrl = env.DISCORD_WEBHOOK_URL ?? (c.discord.enabled ? c.discord.url ?? undefined : undefined);
  if (webhookUrl && !env.ALERT_WEBHOOK_SECRET) throw new Error('ALERT_WEBHOOK_SECRET: required when the webhook channel is enabled');
  const channels: AlertChannel[] = [];
  if (c.file.enabled) channels.push('file');
  if (c.sse.enabled) channels.push('sse');
  if (webhookUrl) channels.push('webhook');
  if (discordUrl) channels.push('discord');
  return {
    db: db.db,
    pool: db.pool,
    strategies: buildStrategies(loadStrategyConfigs()),
    config,
    channels,
    alertsDirectory: resolve(env.ALERTS_DIR ?? config.alerts.directory),
    webhook: webhookUrl ? { url: webhookUrl, secret: env.ALERT_WEBHOOK_SECRET! } : undefined,
    discord: discordUrl ? { url: discordUrl } : undefined,
  };
}
