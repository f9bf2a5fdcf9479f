import { dailySeries, macroSeriesFrom } from '../domain/market-data';
import type { MarketData } from '../domain/signals';
import { VIX } from '../domain/strategies/vix-correlation';
import { MINUTE_MS } from '../domain/types';
import type { Database } from './client';
import { bestCoveredInterval, closedCandles, queryMacro } from './market-data';

/** Loads daily prices of the assets and the VIX, as known at `until`, from `from` on. */
export async function loadDailyMarketData(db: Database, assets: string[], from: number, until: number): Promise<MarketData> {
  const prices: MarketData['prices'] = {};
  for (const asset of assets) {
    const interval = await bestCoveredInterval(db, asset, from, until);
    if (interval === undefined || interval > 1440) continue;
    const candles = await closedCandles(db, asset, interval, from, until);
    prices[asset] = dailySeries(candles, interval * MINUTE_MS);
  }
  const vixRows = await queryMacro(db, VIX, new Date(from).toISOString().slice(0, 10), new Date(until).toISOString().slice(0, 10), 100_000);
  // Strategies count observations; a forward-filled holiday is not one.
  return { prices, macro: { [VIX]: macroSeriesFrom(vixRows.filter((r) => !r.isForwardFilled)) } };
}
