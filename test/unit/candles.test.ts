import { describe, expect, it } from 'vitest';
import { barsFromPoints, gapRanges, InvalidMarketDataError, missingBarTimes, validateCandle } from '../../src/domain/candles';

const ok = { timestamp: Date.UTC(2025, 0, 1), open: 100, high: 110, low: 95, close: 105, volume: 10 };

describe('validateCandle', () => {
  it('accepts a consistent candle', () => {
    expect(() => validateCandle(ok, 'test')).not.toThrow();
  });

  it.each([
    [{ high: 90, low: 95 }, /high \(90\) is below low \(95\)/],
    [{ open: -1, low: -1 }, /open must be positive, got -1/],
    [{ close: Number.NaN }, /close is not a finite number \(NaN\)/],
    [{ volume: Number.POSITIVE_INFINITY }, /volume is not a finite number/],
    [{ volume: -5 }, /volume must not be negative/],
    [{ high: 104 }, /high \(104\) is below open\/close \(105\)/],
    [{ low: 101 }, /low \(101\) is above open\/close \(100\)/],
  ])('rejects %o naming the field', (patch, message) => {
    expect(() => validateCandle({ ...ok, ...patch }, 'coingecko bitcoin')).toThrow(InvalidMarketDataError);
    expect(() => validateCandle({ ...ok, ...patch }, 'coingecko bitcoin')).toThrow(message);
  });
});

describe('barsFromPoints', () => {
  const t0 = Date.UTC(2025, 0, 1, 10, 0);
  const min = 60_000;
  it('builds OHLC from the points inside each bar and prorates the 24h USD volume into coins at the close', () => {
    const prices: Array<[number, number]> = [
      [t0 + 1 * min, 100], [t0 + 5 * min, 104], [t0 + 10 * min, 98], [t0 + 14 * min, 101],
      [t0 + 16 * min, 102], [t0 + 29 * min, 99],
    ];
    const volumes: Array<[number, number]> = [[t0 + 1 * min, 9600], [t0 + 10 * min, 19200], [t0 + 16 * min, 96_000]];
    const bars = barsFromPoints(prices, volumes, 15 * min, t0 + 30 * min);
    expect(bars).toEqual([
      // mean 24h volume $14,400 × (15 min / 1440 min) = $150, at the close of 101: 150/101 coins
      { timestamp: t0, open: 100, high: 104, low: 98, close: 101, volume: 150 / 101 },
      { timestamp: t0 + 15 * min, open: 102, high: 102, low: 99, close: 99, volume: 1000 / 99 },
    ]);
  });

  it('leaves out the bar still forming', () => {
    const bars = barsFromPoints([[t0 + min, 1], [t0 + 16 * min, 2]], [], 15 * min, t0 + 20 * min);
    expect(bars.map((b) => b.timestamp)).toEqual([t0]);
  });
});

describe('gap detection', () => {
  const h = 3_600_000;
  it('lists missing bar times on the grid and groups them into bounded ranges', () => {
    const present = [0, h, 4 * h, 5 * h];
    const missing = missingBarTimes(present, 0, 10 * h, h);
    expect(missing).toEqual([2 * h, 3 * h, 6 * h, 7 * h, 8 * h, 9 * h]);
    expect(gapRanges(missing, h, 3 * h)).toEqual([
      { from: 2 * h, to: 4 * h },
      { from: 6 * h, to: 9 * h },
      { from: 9 * h, to: 10 * h },
    ]);
  });
});
