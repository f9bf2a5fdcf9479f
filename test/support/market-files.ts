import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Candle } from '../../src/domain/types';

/** ../shared/data/market/, the real historical data beside the project. */
export const MARKET = fileURLToPath(new URL('../../../shared/data/market/', import.meta.url));

/** Daily candles of a yfinance file in ../shared/data/market/crypto_daily/yfinance (e.g. "BTC-USD"). */
export function yfinanceDaily(symbol: string): Candle[] {
  return readFileSync(`${MARKET}crypto_daily/yfinance/${symbol}_1d.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    .map((r) => ({ timestamp: Date.parse(`${r[0]}T00:00:00Z`), open: +r[1], high: +r[2], low: +r[3], close: +r[4], volume: +r[5] }));
}

/** Hourly candles of a normalized Binance file (e.g. "BTCUSDT"), each stamped with its opening time. */
export function binanceHourly(pair: string): Candle[] {
  return readFileSync(`${MARKET}crypto_intraday/cryptodatadownload_binance_1h/Binance_${pair}_1h.normalized.csv`, 'utf8')
    .trim().split('\n').slice(1).map((l) => l.split(',').map(Number))
    .map((r) => ({ timestamp: r[0], open: r[1], high: r[2], low: r[3], close: r[4], volume: r[5] }));
}

/** Closes of a normalized Binance hourly file (e.g. "BTCUSDT"). */
export function binanceHourlyCloses(pair: string): number[] {
  return binanceHourly(pair).map((c) => c.close);
}

/** A FRED series in ../shared/data/market/macro/fred (e.g. "VIXCLS"), missing days left out as the import does. */
export function fredSeries(id: string): Array<{ date: string; value: number }> {
  return readFileSync(`${MARKET}macro/fred/${id}.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    .filter((r) => r[1] !== '' && r[1] !== '.').map((r) => ({ date: r[0], value: Number(r[1]) }));
}

/**
 * Buy and hold worked out from candles (open times, `barMs` long), as a backtest states it: bought at
 * the close of the first bar ending at or after `from`, marked at the close of the last ending by `to`.
 */
export function heldReturn(candles: Candle[], barMs: number, from: number, to: number): number {
  const first = candles.find((c) => c.timestamp + barMs >= from)!;
  const last = candles.filter((c) => c.timestamp + barMs <= to).at(-1)!;
  return last.close / first.close - 1;
}
