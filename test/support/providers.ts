import { MINUTE_MS } from '../../src/domain/types';
import type { FakeResponse } from './fake-http';

/**
 * CoinGecko's /coins/{id}/market_chart/range body: [ms, value] pairs for prices, market caps and
 * 24h volumes, 5-minute points for a range within the last day.
 */
export function marketChartBody(fromMs: number, toMs: number, price: (t: number) => number): FakeResponse {
  const prices: number[][] = [];
  const volumes: number[][] = [];
  const caps: number[][] = [];
  for (let t = Math.ceil(fromMs / (5 * MINUTE_MS)) * 5 * MINUTE_MS; t < toMs; t += 5 * MINUTE_MS) {
    prices.push([t + 1234, price(t)]);
    volumes.push([t + 1234, 24_000_000]);
    caps.push([t + 1234, price(t) * 19e6]);
  }
  return { body: { prices, market_caps: caps, total_volumes: volumes } };
}

/** FRED's /fred/series/observations JSON body. */
export function fredBody(observations: Array<[string, string]>): FakeResponse {
  return {
    body: {
      realtime_start: '2026-11-24', realtime_end: '2026-11-24', observation_start: observations[0]?.[0], observation_end: observations.at(-1)?.[0],
      units: 'lin', output_type: 1, file_type: 'json', order_by: 'observation_date', sort_order: 'asc',
      count: observations.length, offset: 0, limit: 100000,
      observations: observations.map(([date, value]) => ({ realtime_start: '2026-11-24', realtime_end: '2026-11-24', date, value })),
    },
  };
}
