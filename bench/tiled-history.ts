/**
 * Hourly bars for the benches from the real Binance BTC and ETH hourly history in
 * `../shared/data/market/`, played forwards then backwards for as long as a bench needs: every bar
 * a real hour, prices that join up and stay in range.
 */
import { readFileSync } from 'node:fs';
import type { PriceSeries } from '../src/domain/signals';
import { HOUR_MS } from '../src/domain/types';
import { fromRoot } from '../src/paths';

export const MARKET = `${fromRoot('..', 'shared', 'data', 'market')}/`;
export const HOURLY_FILES = ['Binance_BTCUSDT_1h.normalized.csv', 'Binance_ETHUSDT_1h.normalized.csv'];
/** The ten coins of the benches' widest ensemble. */
export const ENSEMBLE_COINS = ['bitcoin', 'ethereum', 'solana', 'cardano', 'polkadot', 'ripple', 'bittensor', 'fetch-ai', 'render-token', 'ocean-protocol'];

export interface Rows { open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array; volume: Float64Array }

/**
 * A normalized hourly CSV (timestamp_ms,open,high,low,close,volume) into columns, read field by field
 * from the file's text: no array of lines or of split fields, whose garbage would stay in the process's
 * peak memory and be counted against the engine.
 */
export function readHourly(file: string): Rows {
  const text = readFileSync(`${MARKET}crypto_intraday/cryptodatadownload_binance_1h/${file}`, 'utf8');
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at + 1 < text.length; at = text.indexOf('\n', at + 1)) lines += 1;
  const rows: Rows = { open: new Float64Array(lines), high: new Float64Array(lines), low: new Float64Array(lines), close: new Float64Array(lines), volume: new Float64Array(lines) };
  const columns = [rows.open, rows.high, rows.low, rows.close, rows.volume];
  let at = text.indexOf('\n') + 1;
  for (let r = 0; r < lines; r++) {
    at = text.indexOf(',', at) + 1;
    for (const column of columns) {
      const end = text.indexOf(column === rows.volume ? '\n' : ',', at);
      column[r] = Number(text.slice(at, end === -1 ? text.length : end));
      at = end + 1;
    }
  }
  return rows;
}

/** Index `k` of a history of `n` played forwards, then backwards, and so on, and whether that pass runs forwards. */
export function tile(k: number, n: number): { i: number; forward: boolean } {
  const forward = Math.floor(k / n) % 2 === 0;
  return { i: forward ? k % n : n - 1 - (k % n), forward };
}

/**
 * `length` hourly bars of the real history from bar `phase` on, played forwards then backwards: every
 * bar is a real hour (a reversed bar swaps open and close), prices join up and stay in range.
 */
export function tiledSeries(rows: Rows, length: number, start: number, phase: number): PriceSeries {
  const s = { time: new Float64Array(length), open: new Float64Array(length), high: new Float64Array(length), low: new Float64Array(length), close: new Float64Array(length), volume: new Float64Array(length) };
  for (let k = 0; k < length; k++) {
    const { i, forward } = tile(k + phase, rows.close.length);
    s.time[k] = start + (k + 1) * HOUR_MS;
    s.open[k] = forward ? rows.open[i] : rows.close[i];
    s.close[k] = forward ? rows.close[i] : rows.open[i];
    s.high[k] = rows.high[i];
    s.low[k] = rows.low[i];
    s.volume[k] = rows.volume[i];
  }
  return s;
}
