import { barSeries, macroSeriesFrom } from '../domain/market-data';
import type { MarketData } from '../domain/signals';
import { VIX } from '../domain/strategies/vix-correlation';
import { MINUTE_MS } from '../domain/types';
import type { Database } from './client';
import { bestCoveredInterval, closedCandles, queryMacro } from './market-data';

/**
 * Loads prices of the assets as bars of `barMinutes` (daily by default), built from the stored
 * interval that covers the range best among those that divide the bar, and the VIX, as known at
 * `until`, from `from` on.
 */
export async function loadMarketData(db: Database, assets: string[], from: number, until: number, barMinutes = 1440): Promise<MarketData> {
  const prices: MarketData['prices'] = {};
  for (const asset of assets) {
    const interval = await bestCoveredInterval(db, asset, from, until, barMinutes);
    if (interval === undefined) continue;
    const candles = await closedCandles(db, asset, interval, from, until);
    prices[asset] = barSeries(candles, interval * MINUTE_MS, barMinutes * MINUTE_MS);
  }
  const vixRows = await queryMacro(db, VIX, new Date(from).toISOString().slice(0, 10), new Date(until).toISOString().slice(0, 10), 100_000);
  // Strategies count observations; a forward-filled holiday is not one.
  return { prices, macro: { [VIX]: macroSeriesFrom(vixRows.filter((r) => !r.isForwardFilled)) } };
}
