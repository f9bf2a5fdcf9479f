import { lastWilderRsi } from '../indicators';
import { RingBuffer, RollingMax, SortedWindow } from '../rolling';
import { clamp, knownCount, type MarketData } from '../signals';
import type { AssetAnalysis, AssetStream, Params, StrategyDefinition } from './framework';
import { streamedAnalysis } from './framework';
import { VIX } from './vix-correlation';

interface MeanReversionParams {
  vixSpike: number;
  drawdownThreshold: number;
  drawdownLookback: number;
  rsiPeriod: number;
  rsiOversold: number;
  vixPercentileWindow: number;
}

/**
 * The decision at each close: the latest VIX above the spike level, the close more than the
 * threshold below the highest of the last `drawdownLookback` closes, and Wilder's RSI oversold.
 * RSI smooths over all history; a fixed warm-up of 10 periods (the closes kept) keeps it stable
 * and bounded. The rolling high is a monotonic deque and the VIX percentile an order-statistics
 * window, both O(1)/O(log window) per close; the RSI is worked out only when the VIX spikes and the
 * drawdown is deep (the other two conditions), over the closes kept.
 */
class MeanReversionStream implements AssetStream {
  readonly lookback: number;
  private readonly closes: RingBuffer;
  private readonly high: RollingMax;
  private readonly vixWindow: SortedWindow;
  private readonly scratch: Float64Array;
  private cursor = 0;
  private drawdown = Number.NaN;
  private rsi = Number.NaN;
  private rsiKnown = false;
  private signalled = false;

  constructor(private readonly vix: MarketData['macro'][string] | undefined, private readonly p: MeanReversionParams) {
    this.lookback = Math.max(p.drawdownLookback, p.rsiPeriod * 10 + 1);
    this.closes = new RingBuffer(this.lookback);
    this.scratch = new Float64Array(this.lookback);
    this.high = new RollingMax(p.drawdownLookback);
    this.vixWindow = new SortedWindow(p.vixPercentileWindow);
  }

  private get enoughHistory(): boolean {
    return this.closes.count >= Math.max(this.p.drawdownLookback, this.p.rsiPeriod + 1) && this.vixWindow.count > 0;
  }

  push(close: number, time: number): boolean {
    const vix = this.vix;
    // Only the last `vixPercentileWindow` observations count: a fresh stream starts there.
    if (vix && this.closes.count === 0) this.cursor = Math.max(0, knownCount(vix.time, time) - this.p.vixPercentileWindow);
    if (vix) while (this.cursor < vix.time.length && vix.time[this.cursor] <= time) this.vixWindow.push(vix.value[this.cursor++]);
    this.closes.push(close);
    this.high.push(close);
    this.rsiKnown = false;
    this.signalled = false;
    if (!this.enoughHistory) return false;
    this.drawdown = 1 - close / this.high.max;
    if (!(this.vixWindow.last > this.p.vixSpike && this.drawdown > this.p.drawdownThreshold)) return false;
    this.signalled = this.currentRsi() < this.p.rsiOversold;
    return this.signalled;
  }

  private currentRsi(): number {
    if (!this.rsiKnown) {
      const n = this.closes.copyTo(this.scratch);
      this.rsi = lastWilderRsi(n === this.scratch.length ? this.scratch : this.scratch.subarray(0, n), this.p.rsiPeriod);
      this.rsiKnown = true;
    }
    return this.rsi;
  }

  analysis(asset: string): AssetAnalysis {
    if (!this.enoughHistory) return { asset, price: null, values: { reason: 'not enough history' } };
    const { vixSpike, drawdownThreshold, rsiOversold } = this.p;
    const price = this.closes.back(0);
    const vix = this.vixWindow.last;
    const rsi = this.currentRsi();
    const vixPercentile = Number.isNaN(vix) ? Number.NaN : this.vixWindow.countAtOrBelow(vix) / this.vixWindow.size;
    const drawdown = this.drawdown;
    const values = { vix, vixSpikeDetected: vix > vixSpike, drawdownFromHigh: drawdown, rsi, oversold: rsi < rsiOversold, vixPercentile };
    if (!this.signalled) return { asset, price, values };
    const confidence = Math.min(0.95, 0.6
      + 0.2 * clamp((vix - vixSpike) / vixSpike, 0, 1)
      + 0.2 * clamp((drawdown - drawdownThreshold) / drawdownThreshold, 0, 1));
    return { asset, price, values, signal: { signalType: 'LONG', confidence, sizeScale: 0.5 + vixPercentile } };
  }
}

const meanReversionStream = (p: Params, macro: MarketData['macro']): AssetStream => new MeanReversionStream(macro[VIX], {
  vixSpike: p.vixSpike as number, drawdownThreshold: p.drawdownThreshold as number, drawdownLookback: p.drawdownLookback as number,
  rsiPeriod: p.rsiPeriod as number, rsiOversold: p.rsiOversold as number, vixPercentileWindow: p.vixPercentileWindow as number,
});

export const meanReversion: StrategyDefinition = {
  name: 'mean_reversion',
  description: 'VIX spike with a deep drawdown from the rolling high and an oversold RSI: LONG, sized by the VIX percentile.',
  parameters: [
    { name: 'vixSpike', type: 'float', default: 25, min: 10, max: 80, description: 'VIX above this is a spike' },
    { name: 'drawdownThreshold', type: 'float', default: 0.1, min: 0.01, max: 0.8, step: 0.01, description: 'fall from the rolling high that counts' },
    { name: 'drawdownLookback', type: 'int', default: 30, min: 5, max: 365, description: 'days of the rolling high' },
    { name: 'rsiPeriod', type: 'int', default: 14, min: 2, max: 50, description: 'Wilder RSI period (days)' },
    { name: 'rsiOversold', type: 'float', default: 30, min: 5, max: 50, description: 'RSI below this is oversold' },
    { name: 'vixPercentileWindow', type: 'int', default: 252, min: 20, max: 1000, description: 'VIX observations the percentile ranks against' },
  ],
  analyzeAsset: streamedAnalysis(meanReversionStream),
  stream: meanReversionStream,
};
