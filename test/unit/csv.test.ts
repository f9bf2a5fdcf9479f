import { describe, expect, it } from 'vitest';
import { candleFromRecord, detectColumns, inferIntervalMs, parseTime } from '../../src/domain/csv';

describe('CSV columns and times', () => {
  it('finds OHLCV columns under the exporters\' different headers', () => {
    expect(detectColumns(['timestamp_ms', 'open', 'high', 'low', 'close', 'volume'])).toEqual({ time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 });
    expect(detectColumns(['unix', 'date', 'symbol', 'open', 'high', 'low', 'close', 'Volume BTC', 'Volume USDT', 'tradecount']))
      .toEqual({ time: 0, open: 3, high: 4, low: 5, close: 6, volume: 7 });
    expect(detectColumns(['CloseTime', 'OpenPrice', 'HighPrice', 'LowPrice', 'ClosePrice', 'VolumeBase', 'VolumeQuote']))
      .toEqual({ time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 });
    expect(detectColumns(['', 'Open', 'High', 'Low', 'Close', 'Volume'])).toEqual({ time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 });
    expect(detectColumns(['https://www.CryptoDataDownload.com'])).toBeUndefined();
  });

  it('reads ms, fractional seconds, dates and naive date-times as UTC', () => {
    expect(parseTime('1623283200000')).toBe(1623283200000);
    expect(parseTime('1502942400.0')).toBe(1502942400000);
    expect(parseTime('2014-09-17')).toBe(Date.UTC(2014, 8, 17));
    expect(parseTime('2025-01-15 00:45:00')).toBe(Date.UTC(2025, 0, 15, 0, 45));
    expect(parseTime('2017-08-17 05-AM')).toBeNaN();
  });

  it('names the line and column of a bad record', () => {
    const cols = { time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 };
    expect(() => candleFromRecord(['2025-01-01', '1', 'x', '1', '1', '1'], cols, 7)).toThrow('line 7: high "x" is not a number');
    expect(() => candleFromRecord(['2025-01-01', '1', '0.5', '1', '1', '1'], cols, 8)).toThrow(/line 8.*high \(0.5\) is below low \(1\)/);
  });

  it('infers the bar length from the most common spacing', () => {
    const h = 3_600_000;
    expect(inferIntervalMs([0, h, 2 * h, 5 * h, 6 * h])).toBe(h);
  });
});
