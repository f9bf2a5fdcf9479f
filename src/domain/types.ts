/** One OHLCV bar. `timestamp` is the bar's open time in epoch milliseconds (UTC). */
export interface Candle {
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Where a row of market data came from, stored beside it so nobody mistakes simulated data for the market. */
export type DataSourceName = 'coingecko' | 'fred' | 'simulated' | 'csv' | 'binance' | 'bybit';

/** One daily macro observation; `date` is YYYY-MM-DD. */
export interface MacroObservation {
  date: string;
  value: number;
  isForwardFilled: boolean;
  isInterpolated: boolean;
}

export type TierKind = 'crypto' | 'macro';

export interface Tier {
  name: string;
  description?: string;
  intervalMinutes: number;
  kind: TierKind;
  assets: string[];
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The UTC calendar day of a time, as `YYYY-MM-DD` (how dates are stored and asked for). */
export const isoDate = (time: number) => new Date(time).toISOString().slice(0, 10);

/** The bar sizes strategies decide on and backtests replay, in minutes. Bars close on multiples of their length (UTC). */
export const BAR_MINUTES = { '1d': 1440, '1h': 60, '15m': 15, '1m': 1 } as const;
export type BarSize = keyof typeof BAR_MINUTES;
export const BAR_SIZES = Object.keys(BAR_MINUTES) as [BarSize, ...BarSize[]];
/** The bar a strategy decides on when its config names none (as the live system decides), and a backtest replays unless asked. */
export const DEFAULT_BAR: BarSize = '1d';
