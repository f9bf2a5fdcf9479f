import { z } from 'zod';
import { fromRoot } from '../paths';
import { parseConfig, readJsonFile } from './files';

const streamsSchema = z.object({
  description: z.string().optional(),
  /** The assets streamed; each needs a symbol in config/execution.json. */
  assets: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1).max(100),
  /** At most one latest-price write per asset this often (ms). */
  priceWriteIntervalMs: z.number().int().min(100).max(60_000),
  /** A connection silent this long (ms) is given up and reopened. */
  staleAfterMs: z.number().int().min(1000).max(600_000),
  /** Reconnect backoff with full jitter (ms). */
  reconnect: z.object({ baseMs: z.number().int().min(10), maxMs: z.number().int().min(100) }).strict().refine((r) => r.maxMs >= r.baseMs, 'maxMs must be at least baseMs'),
  /** A reconnect fills at most this many missing minutes from the REST klines. */
  backfillMaxMinutes: z.number().int().min(1).max(100_000),
  /** The consumer heartbeats well within this; past it Temporal moves the consumer to another worker. */
  heartbeatTimeoutSeconds: z.number().int().min(2).max(600),
  /** The consumer activity hands over after this long and the workflow continues as new (bounded history). */
  runMinutes: z.number().int().min(1).max(24 * 60),
  /** The simulated stream's tick (ms). */
  simulatedTickMs: z.number().int().min(50).max(60_000),
}).strict();

export type StreamsConfig = z.infer<typeof streamsSchema>;

export const defaultStreamsConfigPath = fromRoot('config', 'streams.json');

/** config/streams.json, checked against config/execution.json's symbols: every streamed asset needs one. */
export function loadStreamsConfig(symbols: Record<string, string>, path = defaultStreamsConfigPath): StreamsConfig {
  const config = parseConfig(streamsSchema, readJsonFile(path), path);
  const missing = config.assets.filter((a) => !symbols[a]);
  if (missing.length) throw new Error(`${path}: assets: ${missing.join(', ')} have no exchange symbol in config/execution.json "symbols"`);
  return config;
}
