import { describe, expect, it } from 'vitest';
import { validateCandle } from '../../src/domain/candles';
import { SimulatedMarket } from '../../src/domain/simulated-market';

const DAY = 86_400_000;
const start = Date.UTC(2024, 0, 1);

function logReturns(xs: number[]) {
  return xs.slice(1).map((x, i) => Math.log(x / xs[i]));
}
function correlation(x: number[], y: number[]) {
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  let sxy = 0; let sx = 0; let sy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sx += (x[i] - mx) ** 2;
    sy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sx * sy);
}

describe('SimulatedMarket', () => {
  it('gives the same candle for (asset, bar) however it is asked for', () => {
    const a = new SimulatedMarket(7);
    const b = new SimulatedMarket(7);
    const t = start + 123 * 15 * 60_000;
    const single = a.candle('bitcoin', t, 15 * 60_000);
    expect(b.candle('bitcoin', t, 15 * 60_000)).toEqual(single);
    const inRange = a.candles('bitcoin', t - 10 * 15 * 60_000, t + 10 * 15 * 60_000, 15 * 60_000).find((c) => c.timestamp === t);
    expect(inRange).toEqual(single);
    expect(new SimulatedMarket(8).candle('bitcoin', t, 15 * 60_000)).not.toEqual(single);
  });

  it('chains bars: each open is the previous close, and every bar is a valid candle', () => {
    const m = new SimulatedMarket(42);
    const bars = m.candles('ethereum', start, start + 3 * DAY, 60 * 60_000);
    expect(bars).toHaveLength(72);
    for (let i = 1; i < bars.length; i++) expect(bars[i].open).toBe(bars[i - 1].close);
    for (const c of bars) validateCandle(c, 'simulated');
  });

  it('moves coins together and the VIX against them, with the VIX mostly in 12–40', () => {
    const m = new SimulatedMarket(42);
    const days = Array.from({ length: 730 }, (_, d) => start + d * DAY);
    const btc = logReturns(days.map((t) => m.price('bitcoin', t)));
    const eth = logReturns(days.map((t) => m.price('ethereum', t)));
    const vixLevels = days.map((t) => m.vix(t));
    const vixChanges = vixLevels.slice(1).map((v, i) => v - vixLevels[i]);
    expect(correlation(btc, eth)).toBeGreaterThan(0.6);
    expect(correlation(btc, vixChanges)).toBeLessThan(-0.3);
    const inBand = vixLevels.filter((v) => v >= 12 && v <= 40).length / vixLevels.length;
    expect(inBand).toBeGreaterThan(0.85);
    expect(Math.max(...vixLevels)).toBeGreaterThan(35);
  });

  it('clusters volatility: calm and turbulent months differ in realised volatility', () => {
    const m = new SimulatedMarket(42);
    const hourly = logReturns(Array.from({ length: 24 * 365 }, (_, h) => m.price('bitcoin', start + h * 3_600_000)));
    const monthly = Array.from({ length: 12 }, (_, k) => {
      const r = hourly.slice(k * 730, (k + 1) * 730);
      return Math.sqrt(r.reduce((a, x) => a + x * x, 0) / r.length);
    });
    expect(Math.max(...monthly) / Math.min(...monthly)).toBeGreaterThan(1.5);
  });

  it('publishes macro series on business days, DFF every day', () => {
    const m = new SimulatedMarket(1);
    expect(m.macroSeries('VIXCLS', '2025-03-01', '2025-03-09').map((o) => o.date))
      .toEqual(['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07']);
    expect(m.macroSeries('DFF', '2025-03-01', '2025-03-09')).toHaveLength(9);
  });
});
