import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import { InvalidMarketDataError } from '../domain/candles';
import { candleFromRecord, type CsvColumns, detectColumns, inferIntervalMs } from '../domain/csv';
import { MINUTE_MS, type Candle } from '../domain/types';
import type { Database } from '../db/client';
import { upsertCandles, upsertMacro } from '../db/market-data';
import { fillMacroGaps } from '../domain/macro';

export interface CsvImportResult {
  asset: string;
  intervalMinutes: number;
  rowsRead: number;
  rowsWritten: number;
  duplicates: number;
  rejected: Array<{ line: number; reason: string }>;
  first?: string;
  last?: string;
}

const BATCH = 2000;

/**
 * The records of a CSV file. Through `pipeline`, so a file that cannot be read (missing, a directory)
 * fails the read with its reason; `pipe` left the file stream's error unhandled and the process died.
 */
function csvRecords(file: string): AsyncIterable<string[]> {
  return pipeline(createReadStream(file), parse({ relax_column_count: true, skip_empty_lines: true, trim: true }), () => undefined);
}

/**
 * Loads a timestamp,open,high,low,close,volume CSV (any of the common exporters' headers, newest or
 * oldest first) into crypto_ohlcv with source 'csv'. Rows that fail validation are reported, not stored;
 * a repeated timestamp keeps its first row. The bar length is inferred unless given.
 */
export async function importCsv(
  db: Database,
  opts: {
    asset: string; file: string; intervalMinutes?: number; onProgress?: (done: number, total: number) => void;
    /** The file's volume unit: `coin` (base units, as stored; Binance's "Volume BTC") or `usd` (yfinance), converted at each close. */
    volumeIn?: 'coin' | 'usd';
  },
): Promise<CsvImportResult> {
  const records = csvRecords(opts.file);
  let cols: CsvColumns | undefined;
  let line = 0;
  const byTime = new Map<number, Candle>();
  const rejected: CsvImportResult['rejected'] = [];
  let rowsRead = 0;
  let duplicates = 0;
  for await (const record of records) {
    line += 1;
    if (!cols) {
      // Some exporters put a banner line above the header.
      cols = detectColumns(record);
      if (!cols && line >= 5) throw new InvalidMarketDataError(`${opts.file}: no header with time, open, high, low, close and volume columns in the first 5 lines`);
      continue;
    }
    rowsRead += 1;
    try {
      const read = candleFromRecord(record, cols, line);
      const candle = opts.volumeIn === 'usd' ? { ...read, volume: read.volume / read.close } : read;
      if (byTime.has(candle.timestamp)) duplicates += 1;
      else byTime.set(candle.timestamp, candle);
    } catch (err) {
      if (!(err instanceof InvalidMarketDataError)) throw err;
      rejected.push({ line, reason: err.message });
    }
  }
  if (!cols) throw new InvalidMarketDataError(`${opts.file}: the file has no header row`);
  const candles = [...byTime.values()].sort((a, b) => a.timestamp - b.timestamp);
  const intervalMs = opts.intervalMinutes ? opts.intervalMinutes * MINUTE_MS : inferIntervalMs(candles.map((c) => c.timestamp));
  if (!intervalMs || intervalMs % MINUTE_MS !== 0) {
    throw new InvalidMarketDataError(`${opts.file}: cannot infer the bar length; pass --interval <minutes>`);
  }
  const intervalMinutes = intervalMs / MINUTE_MS;
  let rowsWritten = 0;
  for (let i = 0; i < candles.length; i += BATCH) {
    rowsWritten += await upsertCandles(db, opts.asset, intervalMinutes, 'csv', candles.slice(i, i + BATCH));
    opts.onProgress?.(Math.min(i + BATCH, candles.length), candles.length);
  }
  return {
    asset: opts.asset,
    intervalMinutes,
    rowsRead,
    rowsWritten,
    duplicates,
    rejected,
    first: candles[0] && new Date(candles[0].timestamp).toISOString(),
    last: candles.length ? new Date(candles[candles.length - 1].timestamp).toISOString() : undefined,
  };
}

export interface MacroCsvImportResult {
  indicator: string;
  rowsRead: number;
  rowsWritten: number;
  forwardFilled: number;
  first?: string;
  last?: string;
}

/**
 * Loads a daily series CSV (FRED's observation_date,<SERIES> download, or any date,value file) into
 * macro_indicators with source 'csv'. The value column is `column`, else the one named like the
 * indicator, else "value"/"close", else the second. Empty or "." values are gaps: forward-filled and flagged.
 */
export async function importMacroCsv(
  db: Database,
  opts: { indicator: string; file: string; column?: string },
): Promise<MacroCsvImportResult> {
  const records = csvRecords(opts.file);
  let dateCol = -1;
  let valueCol = -1;
  const raw: Array<{ date: string; value: string }> = [];
  for await (const record of records) {
    if (dateCol < 0) {
      const names = record.map((h) => h.trim().toLowerCase());
      dateCol = names.findIndex((n) => n === 'observation_date' || n === 'date' || n === 'datetime');
      if (dateCol < 0) throw new InvalidMarketDataError(`${opts.file}: the header has no date column (observation_date, date or datetime)`);
      const wanted = [opts.column, opts.indicator, 'value', 'close'].filter(Boolean).map((n) => n!.toLowerCase());
      valueCol = wanted.map((w) => names.indexOf(w)).find((i) => i >= 0) ?? (dateCol === 0 ? 1 : 0);
      if (opts.column && names.indexOf(opts.column.toLowerCase()) < 0) {
        throw new InvalidMarketDataError(`${opts.file}: --column ${opts.column} is not in the header (${record.join(', ')})`);
      }
      continue;
    }
    const date = (record[dateCol] ?? '').slice(0, 10);
    raw.push({ date, value: record[valueCol] ?? '' });
  }
  const observations = fillMacroGaps(opts.indicator, raw);
  const rowsWritten = await upsertMacro(db, opts.indicator, 'csv', observations);
  return {
    indicator: opts.indicator,
    rowsRead: raw.length,
    rowsWritten,
    forwardFilled: observations.filter((o) => o.isForwardFilled).length,
    first: observations[0]?.date,
    last: observations.at(-1)?.date,
  };
}
