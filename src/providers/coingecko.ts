import Coingecko, { APIConnectionError, APIError } from '@coingecko/coingecko-typescript';
import { z } from 'zod';
import { barsFromPoints, validateCandles } from '../domain/candles';
import { DAY_MS, HOUR_MS } from '../domain/types';
import { boundedFetch, tooLarge } from './bounded-fetch';
import { errorForStatus, ProviderError } from './errors';
import type { CryptoDataSource } from './types';

export interface CoingeckoOptions {
  apiKey?: string;
  plan: 'demo' | 'pro';
  baseURL?: string;
  timeoutMs?: number;
  clock?: () => number;
  /** The most a response body may take (MAX_RESPONSE_BYTES unless a test sets it). */
  maxResponseBytes?: number;
}

const point = z.tuple([z.number(), z.number()]);
const marketChartSchema = z.object({
  prices: z.array(point),
  total_volumes: z.array(point),
});

/**
 * CoinGecko through its official client. CoinGecko picks the granularity from the range: within the
 * last day it serves 5-minute points; any older range, hourly points (up to 90 days per call). So
 * sub-hourly bars can only be built for the last day, and older history comes in hourly bars.
 */
export function coingeckoSource(opts: CoingeckoOptions): CryptoDataSource {
  const clock = opts.clock ?? Date.now;
  const client = new Coingecko({
    ...(opts.plan === 'pro' ? { proAPIKey: opts.apiKey ?? null } : { demoAPIKey: opts.apiKey ?? null }),
    // The client refuses both an environment and a base URL: a base URL (a test server, a proxy) wins.
    ...(opts.baseURL ? { baseURL: opts.baseURL } : { environment: opts.plan, baseURL: null }),
    // Temporal's retry policy is the only retry layer.
    maxRetries: 0,
    timeout: opts.timeoutMs ?? 30_000,
    fetch: boundedFetch(opts.maxResponseBytes),
  });

  return {
    name: 'coingecko',
    maxRangeMs: (intervalMs) => (intervalMs < HOUR_MS ? DAY_MS : 90 * DAY_MS),
    async fetchCandles(asset, intervalMs, from, to) {
      const recent = from >= clock() - DAY_MS;
      if (intervalMs < HOUR_MS && !recent) {
        throw new ProviderError('coingecko', 'rejected',
          `${asset}: ${intervalMs / 60_000}-minute bars need 5-minute points, which CoinGecko serves only for the last 24 hours; ` +
          'import older history from CSV (mts import-csv) or backfill hourly bars');
      }
      let body: unknown;
      try {
        body = await client.coins.marketChart.getRange(asset, {
          vs_currency: 'usd',
          from: String(Math.floor(from / 1000)),
          to: String(Math.ceil(to / 1000)),
        });
      } catch (err) {
        throw translateError(asset, err);
      }
      const parsed = marketChartSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ProviderError('coingecko', 'invalid_data', `${asset}: market_chart field ${issue.path.join('.')}: ${issue.message}`);
      }
      const candles = barsFromPoints(parsed.data.prices, parsed.data.total_volumes, intervalMs, to).filter((c) => c.timestamp >= from);
      try {
        validateCandles(candles, asset);
      } catch (err) {
        throw new ProviderError('coingecko', 'invalid_data', (err as Error).message);
      }
      return { candles, calls: 1 };
    },
  };
}

function translateError(asset: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const refused = tooLarge(err);
  if (refused) return new ProviderError('coingecko', 'invalid_data', `${asset}: ${refused.message}`);
  if (err instanceof APIConnectionError) return new ProviderError('coingecko', 'unavailable', `${asset}: network error: ${err.message}`);
  if (err instanceof APIError && typeof err.status === 'number') {
    return errorForStatus('coingecko', err.status, `${asset}: ${err.message}`, err.headers?.get('retry-after'));
  }
  // The client throws a SyntaxError when the body is not JSON.
  if (err instanceof SyntaxError) return new ProviderError('coingecko', 'invalid_data', `${asset}: response body is not valid JSON (${err.message})`);
  return new ProviderError('coingecko', 'unavailable', `${asset}: ${(err as Error)?.message ?? String(err)}`);
}
