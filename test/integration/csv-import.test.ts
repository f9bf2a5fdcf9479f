import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { queryCandles } from '../../src/db/market-data';
import { importCsv, importMacroCsv } from '../../src/services/csv-import';
import { clearMarketData, testDatabase } from '../support/db';
import { MARKET as market } from '../support/market-files';

const handle = testDatabase();

beforeEach(() => clearMarketData(handle));
afterAll(() => handle.close());

describe('CSV import of the real files in shared/data/market', () => {
  it('loads yfinance daily BTC and re-importing writes nothing', async () => {
    const file = join(market, 'crypto_daily/yfinance/BTC-USD_1d.csv');
    const progress: number[] = [];
    const first = await importCsv(handle.db, { asset: 'bitcoin', file, volumeIn: 'usd', onProgress: (done) => progress.push(done) });
    expect(first).toMatchObject({ intervalMinutes: 1440, rowsRead: 3810, rowsWritten: 3810, duplicates: 0, rejected: [] });
    expect(first.first).toBe('2014-09-17T00:00:00.000Z');
    expect(first.last).toBe('2025-02-20T00:00:00.000Z');
    expect(progress.at(-1)).toBe(3810);
    const again = await importCsv(handle.db, { asset: 'bitcoin', file, volumeIn: 'usd' });
    expect(again.rowsWritten).toBe(0);
    const [bar] = await queryCandles(handle.db, { asset: 'bitcoin', from: Date.UTC(2014, 8, 17), to: Date.UTC(2014, 8, 17), limit: 1 });
    expect(bar).toMatchObject({ open: 465.864013671875, close: 457.3340148925781, source: 'csv', intervalMinutes: 1440 });
    // yfinance's volume is in USD ($21,056,800 that day); stored in coins at the close.
    expect(bar.volume).toBeCloseTo(21_056_800 / 457.3340148925781, 9);
  });

  it('loads the awkward CryptoDataDownload hourly file to the same bars as its normalized copy', async () => {
    const raw = await importCsv(handle.db, { asset: 'btc-cdd', file: join(market, 'crypto_intraday/cryptodatadownload_binance_1h/Binance_BTCUSDT_1h.csv') });
    // 36,062 rows, 2,649 hours listed twice: 33,413 distinct hourly bars, as the README's normalized file has.
    expect(raw).toMatchObject({ intervalMinutes: 60, rowsRead: 36062, duplicates: 2649, rowsWritten: 33413, rejected: [] });
    const normalized = await importCsv(handle.db, { asset: 'btc-norm', file: join(market, 'crypto_intraday/cryptodatadownload_binance_1h/Binance_BTCUSDT_1h.normalized.csv') });
    expect(normalized).toMatchObject({ intervalMinutes: 60, rowsWritten: 33413 });
    expect(raw.first).toBe(normalized.first);
    expect(raw.last).toBe(normalized.last);
  });

  it('fails an import of a file it cannot read with the reason, bars and macro series alike', async () => {
    const missing = join(tmpdir(), `mts-missing-${process.pid}.csv`);
    await expect(importCsv(handle.db, { asset: 'testcoin', file: missing })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(importMacroCsv(handle.db, { indicator: 'VIXCLS', file: missing })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(importCsv(handle.db, { asset: 'testcoin', file: tmpdir() })).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('reports bad rows by line and stores the good ones', async () => {
    const file = join(tmpdir(), `mts-bad-${process.pid}.csv`);
    writeFileSync(file, [
      'timestamp,open,high,low,close,volume',
      '2025-01-01T00:00:00Z,10,12,9,11,100',
      '2025-01-01T01:00:00Z,11,10,12,11,100',
      '2025-01-01T02:00:00Z,11,13,10,abc,100',
      '2025-01-01T03:00:00Z,11,13,10,12,100',
    ].join('\n'));
    const result = await importCsv(handle.db, { asset: 'testcoin', file, intervalMinutes: 60 });
    expect(result.rowsWritten).toBe(2);
    expect(result.rejected).toEqual([
      { line: 3, reason: expect.stringMatching(/^line 3: .*high \(10\) is below low \(12\)/) },
      { line: 4, reason: 'line 4: close "abc" is not a number' },
    ]);
  });
});
