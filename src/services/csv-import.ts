import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { InvalidMarketDataError } from '../domain/candles';
import { candleFromRecord, type CsvColumns, detectColumns, inferIntervalMs } from '../domain/csv';
import { MINUTE_MS, type Candle } from '../domain/types';
import type { Database } from '../db/client';
import { upsertCandles } from '../db/market-data';

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
 * Loads a timestamp,open,high,low,close,volume CSV (any of the common exporters' headers, newest or
 * oldest first) into crypto_ohlcv with source 'csv'. Rows that fail validation are reported, not stored;
 * a repeated timestamp keeps its first row. The bar length is inferred unless given.
 */
export async function importCsv(
  db: Database,
  opts: { asset: string; file: string; intervalMinutes?: number; onProgress?: (done: number, total: number) => void },
): Promise<CsvImportResult> {
  const parser = createReadStream(opts.file).pipe(parse({ relax_column_count: true, skip_empty_lines: true, trim: true }));
  let cols: CsvColumns | undefined;
  let line = 0;
  const byTime = new Map<number, Candle>();
  const rejected: CsvImportResult['rejected'] = [];
  let rowsRead = 0;
  let duplicates = 0;
  for await (const record of parser as AsyncIterable<string[]>) {
    line += 1;
    if (!cols) {
      // Some exporters put a banner line above the header.
      cols = detectColumns(record);
      if (!cols && line >= 5) throw new InvalidMarketDataError(`${opts.file}: no header with time, open, high, low, close and volume columns in the first 5 lines`);
      continue;
    }
    rowsRead += 1;
    try {
      const candle = candleFromRecord(record, cols, line);
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
