import { dailySeries, macroSeriesFrom } from '../../src/domain/market-data';
import { knownCount, type MarketData } from '../../src/domain/signals';
import { SimulatedMarket } from '../../src/domain/simulated-market';
import { DAY_MS } from '../../src/domain/types';

/** Daily simulated prices and VIXCLS over [from, to), as the signal activity would load them. */
export function simulatedMarketData(seed: number, assets: string[], from: number, to: number): MarketData {
  const market = new SimulatedMarket(seed);
  const prices = Object.fromEntries(assets.map((a) => [a, dailySeries(market.candles(a, from, to, DAY_MS), DAY_MS)]));
  const vix = market.macroSeries('VIXCLS', new Date(from).toISOString().slice(0, 10), new Date(to - DAY_MS).toISOString().slice(0, 10));
  return { prices, macro: { VIXCLS: macroSeriesFrom(vix) } };
}

/** The same data with everything not yet known at `asOf` removed. */
export function cutAt(data: MarketData, asOf: number): MarketData {
  const cut = <T extends { time: ArrayLike<number> }>(s: T): T => {
    const n = knownCount(s.time, asOf);
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, (v as number[]).slice(0, n)])) as unknown as T;
  };
  return {
    prices: Object.fromEntries(Object.entries(data.prices).map(([k, s]) => [k, cut(s)])),
    macro: Object.fromEntries(Object.entries(data.macro).map(([k, s]) => [k, cut(s)])),
  };
}
