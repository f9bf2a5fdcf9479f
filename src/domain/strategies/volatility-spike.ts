import { lastWilderRsi } from '../indicators';
import { ReturnVolatility, SortedWindow } from '../rolling';
import { BAR_MINUTES, type BarSize, DEFAULT_BAR } from '../types';
import type { AssetAnalysis, AssetStream, StrategyDefinition } from './framework';
import { streamedAnalysis } from './framework';

/**
 * Bars of `bar` in a year, what the volatility of their returns is annualised by (its square root):
 * crypto trades every hour of every day, so 365 daily bars and 8,760 hourly ones. Only the reported
 * volatility and threshold scale with it; the percentile a decision reads is the same on any bar.
 */
const barsPerYear = (bar: BarSize) => (365 * BAR_MINUTES['1d']) / BAR_MINUTES[bar];

/**
 * Realised volatility of log returns and its percentile among the last `percentileWindow` values,
 * updated per close; the RSI and the threshold value are only worked out when the analysis is read.
 */
class VolatilitySpikeStream implements AssetStream {
  readonly lookback: number;
  private readonly history: ReturnVolatility;
  private readonly scratch: Float64Array;
  private percentile = Number.NaN;
  private signalled = false;

  constructor(
    private readonly volWindow: number,
    private readonly rankWindow: number,
    private readonly thresholdPercentile: number,
    private readonly rsiPeriod: number,
    private readonly rsiOversold: number,
    bar: BarSize,
  ) {
    // RSI smooths over all history; a fixed warm-up of 10 periods keeps it stable and bounded.
    this.lookback = Math.max(rankWindow + volWindow + 1, rsiPeriod * 10 + 1);
    // Kept sorted: the rank is read at every close, the threshold when the analysis is.
    this.history = new ReturnVolatility(volWindow, new SortedWindow(rankWindow), this.lookback, barsPerYear(bar));
    this.scratch = new Float64Array(this.lookback);
  }

  push(close: number): boolean {
    const { volatilities } = this.history;
    this.history.push(close);
    if (this.history.seen < this.volWindow + 2) return (this.signalled = false);
    this.percentile = volatilities.countAtOrBelow(volatilities.last) / volatilities.size;
    // A percentile over a short history means little: wait for a full ranking window.
    this.signalled = volatilities.count >= this.rankWindow && this.percentile >= this.thresholdPercentile;
    return this.signalled;
  }

  analysis(asset: string): AssetAnalysis {
    if (this.history.seen < this.volWindow + 2) return { asset, price: null, values: { reason: 'not enough history' } };
    const vols = this.history.volatilities;
    const threshold = vols.nth(Math.min(vols.size - 1, Math.floor(this.thresholdPercentile * vols.size)));
    const n = this.history.closes.copyTo(this.scratch);
    const rsi = lastWilderRsi(n === this.scratch.length ? this.scratch : this.scratch.subarray(0, n), this.rsiPeriod);
    const oversold = rsi < this.rsiOversold;
    const price = this.history.closes.back(0);
    const values = { volatility: vols.last, volatilityThreshold: threshold, volatilityPercentile: this.percentile, rsi, oversold, historyDays: vols.count };
    if (!this.signalled) return { asset, price, values };
    const thr = this.thresholdPercentile;
    const confidence = Math.min(0.95, 0.5 + 0.5 * (this.percentile - thr) / (1 - thr));
    return { asset, price, values, signal: { signalType: oversold ? 'LONG' : 'SHORT', confidence, sizeScale: 1 } };
  }
}

const volatilitySpikeStream: NonNullable<StrategyDefinition['stream']> = (p, _macro, bar = DEFAULT_BAR) => new VolatilitySpikeStream(
  p.volatilityWindow as number, p.percentileWindow as number, p.thresholdPercentile as number, p.rsiPeriod as number, p.rsiOversold as number, bar,
);

export const volatilitySpike: StrategyDefinition = {
  name: 'volatility_spike',
  description: 'Realised volatility above its threshold percentile: a volatility alert, LONG when oversold, else SHORT.',
  parameters: [
    { name: 'volatilityWindow', type: 'int', default: 20, min: 5, max: 120, description: 'bars of returns in the realised volatility (days on daily bars)' },
    { name: 'percentileWindow', type: 'int', default: 365, min: 30, max: 1500, description: 'bars the volatility is ranked against' },
    { name: 'thresholdPercentile', type: 'float', default: 0.9, min: 0.5, max: 0.999, step: 0.01, description: 'percentile that counts as a spike' },
    { name: 'rsiPeriod', type: 'int', default: 14, min: 2, max: 50, description: 'Wilder RSI period in bars' },
    { name: 'rsiOversold', type: 'float', default: 30, min: 5, max: 50, description: 'RSI below this is oversold: LONG' },
  ],
  analyzeAsset: streamedAnalysis(volatilitySpikeStream),
  stream: volatilitySpikeStream,
};
