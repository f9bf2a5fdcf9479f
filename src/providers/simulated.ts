import { SimulatedMarket } from '../domain/simulated-market';
import { DAY_MS } from '../domain/types';
import type { CryptoDataSource, MacroDataSource } from './types';

/** The seeded synthetic market behind the provider interfaces: no network, no keys, same bars every time. */
export function simulatedSources(seed: number, latencyMs = 0): { crypto: CryptoDataSource; macro: MacroDataSource } {
  const market = new SimulatedMarket(seed);
  const pause = () => (latencyMs > 0 ? new Promise((r) => setTimeout(r, latencyMs)) : Promise.resolve());
  return {
    crypto: {
      name: 'simulated',
      async fetchCandles(asset, intervalMs, from, to) {
        await pause();
        return { candles: market.candles(asset, from, to, intervalMs), calls: 0 };
      },
      maxRangeMs: (intervalMs) => Math.max(30 * DAY_MS, 500 * intervalMs),
    },
    macro: {
      name: 'simulated',
      async fetchObservations(indicator, fromDate, toDate) {
        await pause();
        const observations = market.macroSeries(indicator, fromDate, toDate).map((o) => ({ date: o.date, value: String(o.value) }));
        return { observations, calls: 0 };
      },
    },
  };
}
