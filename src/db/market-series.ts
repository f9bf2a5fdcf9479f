import { barSeries, macroSeriesFrom } from '../domain/market-data';
import type { MarketData } from '../domain/signals';
import { VIX } from '../domain/strategies/vix-correlation';
import { isoDate, MINUTE_MS } from '../domain/types';
import type { Queryable } from './client';
import { type CandleRead, closedCandleColumnsFor, marketDataVersion, queryMacro } from './market-data';

/**
 * Loads prices of the assets as bars of `barMinutes` (daily by default), built from the stored
 * interval that covers the range best among those that divide the bar, and the VIX, as known at
 * `until`, from `from` on.
 */
export async function loadMarketData(db: Queryable, assets: string[], from: number, until: number, barMinutes = 1440): Promise<MarketData> {
  return (await loadMarketDataBars(db, assets, from, until, [barMinutes])).get(barMinutes)!;
}

/**
 * The same market data at several bar sizes (minutes → data). Each bar size is built from the stored
 * interval that covers the range best among those dividing it; candles are read once per interval,
 * so hourly and daily bars built from the same hourly candles agree (a day closes with its last hour).
 */
export async function loadMarketDataBars(db: Queryable, assets: string[], from: number, until: number, barMinutes: number[]): Promise<Map<number, MarketData>> {
  const prices = await loadPriceBars(db, assets, from, until, barMinutes);
  const vixRows = await queryMacro(db, VIX, isoDate(from), isoDate(until), 100_000);
  // Strategies count observations; a forward-filled holiday is not one.
  const macro = { [VIX]: macroSeriesFrom(vixRows.filter((r) => !r.isForwardFilled)) };
  return new Map([...prices].map(([bar, p]) => [bar, { prices: p, macro }]));
}

/** The assets' prices alone at several bar sizes (minutes → asset → series), as `loadMarketDataBars` builds them. */
async function loadPriceBars(db: Queryable, assets: string[], from: number, until: number, barMinutes: number[]): Promise<Map<number, MarketData['prices']>> {
  const bars = [...new Set(barMinutes)].sort((a, b) => a - b);
  // Usually one stored interval serves every bar size: its candles are read once, every asset in the same statement.
  return priceBarsOf(await closedCandleColumnsFor(db, assets, bars, from, until), bars);
}

/** Prices at each of `bars` (minutes → asset → series) from the candles read for them (`closedCandleColumnsFor`). */
export function priceBarsOf(reads: CandleRead[], bars: number[]): Map<number, MarketData['prices']> {
  const prices = new Map<number, MarketData['prices']>(bars.map((b) => [b, {}]));
  for (const read of reads) {
    for (const bar of read.bars) prices.get(bar)![read.asset] = barSeries(read.candles, read.intervalMinutes * MINUTE_MS, bar * MINUTE_MS);
  }
  return prices;
}

/** Market data of the last few scopes (sweeps) a process served: a sweep is usually run whole. */
const SCOPES_KEPT = 2;

/**
 * `loadMarketDataBars` for one process that reads the same bars for many requests of one scope (a
 * sweep's children): the first request of a scope and range reads them, the others share that read;
 * without a scope, every call reads. A new scope asking for a range read before (the next sweep over
 * the same history) first asks Postgres for the data's version (`marketDataVersion`) and shares the
 * earlier read when nothing it holds has changed since; the version is taken before the read it is
 * kept with, so a change landing between the two only costs a read. A failed read is not kept.
 */
export function scopedMarketDataBars(db: Queryable) {
  type Read = ReturnType<typeof loadMarketDataBars>;
  const reads = new Map<string, Read>();
  const versioned = new Map<string, { version: string; read: Read }>();
  const keepNewest = <V>(map: Map<string, V>) => {
    for (const oldest of map.keys()) if (map.size > SCOPES_KEPT) map.delete(oldest);
  };
  const readVersioned = async (range: string, assets: string[], from: number, until: number, barMinutes: number[]): Promise<Awaited<Read>> => {
    const version = await marketDataVersion(db, {
      assets, from, closedBy: until, indicator: VIX, fromDate: isoDate(from), toDate: isoDate(until),
    });
    const kept = versioned.get(range);
    const read = kept?.version === version ? kept.read : loadMarketDataBars(db, assets, from, until, barMinutes);
    // Most recently used last, so `keepNewest` drops the range used longest ago.
    versioned.delete(range);
    versioned.set(range, { version, read });
    keepNewest(versioned);
    read.catch(() => { if (versioned.get(range)?.read === read) versioned.delete(range); });
    return read;
  };
  return (scope: string | undefined, assets: string[], from: number, until: number, barMinutes: number[]) => {
    if (scope === undefined) return loadMarketDataBars(db, assets, from, until, barMinutes);
    const range = JSON.stringify([assets, from, until, barMinutes]);
    const key = JSON.stringify([scope, range]);
    let read = reads.get(key);
    if (!read) {
      read = readVersioned(range, assets, from, until, barMinutes);
      reads.set(key, read);
      read.catch(() => reads.delete(key));
      keepNewest(reads);
    }
    return read;
  };
}
