import { InvalidMarketDataError, validateCandle } from './candles';
import type { Candle } from './types';

const norm = (h: string) => h.trim().toLowerCase().replace(/[^a-z0-9]/g, '');

const TIME_COLUMNS = ['timestamp', 'timestampms', 'unix', 'datetime', 'date', 'opentime', 'closetime', 'time', ''];
const PRICE_COLUMNS = {
  open: ['open', 'openprice'],
  high: ['high', 'highprice'],
  low: ['low', 'lowprice'],
  close: ['close', 'closeprice'],
} as const;

export interface CsvColumns {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * Finds the OHLCV columns of a header row, whatever the exporter called them (timestamp/unix/datetime/
 * date, Open/OpenPrice, volume/"Volume BTC"/VolumeBase); undefined when the row is not such a header.
 */
export function detectColumns(header: string[]): CsvColumns | undefined {
  const names = header.map(norm);
  const find = (candidates: readonly string[]) => {
    for (const c of candidates) {
      const i = names.indexOf(c);
      if (i >= 0) return i;
    }
    return -1;
  };
  const time = find(TIME_COLUMNS);
  const open = find(PRICE_COLUMNS.open);
  const high = find(PRICE_COLUMNS.high);
  const low = find(PRICE_COLUMNS.low);
  const close = find(PRICE_COLUMNS.close);
  let volume = names.indexOf('volume');
  if (volume < 0) volume = names.findIndex((n) => n.startsWith('volume'));
  if ([time, open, high, low, close, volume].some((i) => i < 0)) return undefined;
  return { time, open, high, low, close, volume };
}

/** Epoch ms from epoch ms, epoch seconds (even fractional), ISO text, or "YYYY-MM-DD[ HH:MM[:SS]]" taken as UTC. */
export function parseTime(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    return Math.round(n < 1e11 ? n * 1000 : n);
  }
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (!m) return NaN;
  return Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${m[3] ?? 'Z'}`);
}

/** One CSV record as a validated candle; the error names the line and the column. */
export function candleFromRecord(record: string[], cols: CsvColumns, line: number): Candle {
  const num = (i: number, field: string) => {
    const raw = record[i];
    const v = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(v)) {
      throw new InvalidMarketDataError(`line ${line}: ${field} "${raw ?? ''}" is not a number`);
    }
    return v;
  };
  const timestamp = parseTime(record[cols.time] ?? '');
  if (!Number.isFinite(timestamp)) throw new InvalidMarketDataError(`line ${line}: timestamp "${record[cols.time]}" is not a time`);
  const candle = {
    timestamp,
    open: num(cols.open, 'open'),
    high: num(cols.high, 'high'),
    low: num(cols.low, 'low'),
    close: num(cols.close, 'close'),
    volume: num(cols.volume, 'volume'),
  };
  validateCandle(candle, `line ${line}`);
  return candle;
}

/** The bar length of a series: the most common spacing between consecutive (sorted, distinct) bars. */
export function inferIntervalMs(sortedTimes: number[]): number | undefined {
  const counts = new Map<number, number>();
  for (let i = 1; i < sortedTimes.length; i++) {
    const d = sortedTimes[i] - sortedTimes[i - 1];
    if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestCount = 0;
  for (const [d, c] of counts) if (c > bestCount) [best, bestCount] = [d, c];
  return best;
}
