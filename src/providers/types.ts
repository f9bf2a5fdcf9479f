import type { RawObservation } from '../domain/macro';
import type { Candle, DataSourceName } from '../domain/types';

export interface CandleBatch {
  candles: Candle[];
  /** Provider calls spent, for the daily budget. */
  calls: number;
}

/** A source of crypto OHLCV bars. */
export interface CryptoDataSource {
  readonly name: DataSourceName;
  /** Complete bars with open time in [from, to), bar length `intervalMs`. */
  fetchCandles(asset: string, intervalMs: number, from: number, to: number): Promise<CandleBatch>;
  /** The longest range one call serves at a resolution fine enough for `intervalMs` bars: the backfill chunk size. */
  maxRangeMs(intervalMs: number): number;
}

/** A source of daily macro series. Values are raw text ("." where missing) so every source shares one gap rule. */
export interface MacroDataSource {
  readonly name: DataSourceName;
  fetchObservations(indicator: string, fromDate: string, toDate: string): Promise<{ observations: RawObservation[]; calls: number }>;
}
