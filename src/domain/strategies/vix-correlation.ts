import { RollingPearson } from '../rolling';
import { clamp, knownCount, type MarketData, type PriceSeries } from '../signals';
import type { AssetAnalysis, AssetStream, Params, StrategyDefinition } from './framework';
import { streamedAnalysis } from './framework';

export const VIX = 'VIXCLS';
const WINDOWS = [7, 14, 21, 30];
const MAX_PAIR_GAP_MS = 3 * 86_400_000;

interface VixCorrelationParams {
  primary: number;
  returnsMode: boolean;
  strongNegative: number;
  strongPositive: number;
  vixReference: number;
}

/**
 * The decision: each VIX observation is paired with the coin's last close known at the same moment
 * (both daily, so windows count VIX trading days), a pair whose coin price is older than three days
 * is skipped, and the correlation of the last pairs (levels, or log returns from pair to pair) is
 * read for each window. Pairs form as the closes reach each observation; one exact rolling Pearson
 * per window keeps them: O(windows) per pair, a comparison per close between VIX days.
 */
class VixCorrelationStream implements AssetStream {
  /** Pairs reach back as far as VIX days do: see lookbackAt. */
  readonly lookback = Infinity;
  private readonly windows: number[];
  private readonly pearsons: RollingPearson[];
  private readonly primaryIndex: number;
  private cursor = 0;
  private price = Number.NaN;
  private priceTime = Number.NaN;
  private pairs = 0;
  private pairVix = Number.NaN;
  private pairClose = Number.NaN;
  private signal = 0;

  constructor(private readonly vix: MarketData['macro'][string] | undefined, private readonly p: VixCorrelationParams) {
    this.windows = [...new Set([...WINDOWS, p.primary])].sort((a, b) => a - b);
    this.pearsons = this.windows.map((w) => new RollingPearson(w));
    this.primaryIndex = this.windows.indexOf(p.primary);
  }

  /** The closes back to the one the oldest pair a window uses is made with. */
  lookbackAt(prices: PriceSeries, asOf: number): number {
    const vix = this.vix;
    const end = knownCount(prices.time, asOf);
    if (!vix) return 1;
    const needed = this.windows[this.windows.length - 1] + 1;
    let first = end - 1;
    for (let i = knownCount(vix.time, asOf) - 1, pairs = 0; i >= 0 && pairs < needed; i--) {
      const idx = knownCount(prices.time, vix.time[i]) - 1;
      if (idx < 0) break;
      if (vix.time[i] - prices.time[idx] > MAX_PAIR_GAP_MS) continue;
      pairs += 1;
      first = idx;
    }
    return end - first;
  }

  push(close: number, time: number): boolean {
    const vix = this.vix;
    // Observations before the first close fed have no price to pair with.
    if (vix && Number.isNaN(this.priceTime)) this.cursor = knownCount(vix.time, time - 1);
    if (vix) {
      // Observations before this close pair with the previous one; one at its very time, with it.
      while (this.cursor < vix.time.length && vix.time[this.cursor] < time) this.pair(vix.time[this.cursor], vix.value[this.cursor++]);
      this.price = close;
      this.priceTime = time;
      while (this.cursor < vix.time.length && vix.time[this.cursor] === time) this.pair(time, vix.value[this.cursor++]);
    } else {
      this.price = close;
    }
    return this.signal !== 0;
  }

  private pair(time: number, vixValue: number): void {
    if (Number.isNaN(this.priceTime) || time - this.priceTime > MAX_PAIR_GAP_MS) return;
    // By index: a for…of loop sits in the iterator's try block, where V8 inlined the pushes only in part
    // and boxed the terms of the rest (~50 MB of garbage in the ten-coin ensemble's replay).
    const { pearsons } = this;
    if (!this.p.returnsMode) {
      for (let k = 0; k < pearsons.length; k++) pearsons[k].push(vixValue, this.price);
    } else if (this.pairs > 0) {
      const x = Math.log(vixValue / this.pairVix);
      const y = Math.log(this.price / this.pairClose);
      for (let k = 0; k < pearsons.length; k++) pearsons[k].push(x, y);
    }
    this.pairs += 1;
    this.pairVix = vixValue;
    this.pairClose = this.price;
    // The correlations move only here: the signal is decided once a pair, not at every close.
    this.signal = this.pairs < this.p.primary + 1 ? 0 : this.decide(this.pearsons[this.primaryIndex].value);
  }

  private decide(correlation: number): number {
    if (Number.isNaN(correlation)) return 0;
    return correlation < this.p.strongNegative ? 1 : correlation > this.p.strongPositive ? -1 : 0;
  }

  analysis(asset: string): AssetAnalysis {
    const { primary, vixReference } = this.p;
    if (this.pairs < primary + 1) return { asset, price: null, values: { reason: `needs ${primary + 1} VIX/price pairs, has ${this.pairs}` } };
    const correlations: Record<string, number | null> = {};
    this.windows.forEach((w, i) => {
      const c = this.pearsons[i].value;
      correlations[`${w}d`] = Number.isNaN(c) ? null : c;
    });
    const current = correlations[`${primary}d`];
    const vix = this.pairVix;
    // The trade happens now: priced at the latest close, not at the last VIX day's (stale over weekends).
    const values = { correlationOn: this.p.returnsMode ? 'returns' : 'levels', correlations, currentCorrelation: current, vix };
    if (this.signal === 0 || current === null) return { asset, price: this.price, values };
    const vixBoost = clamp((vix - vixReference) / vixReference, 0, 1);
    return {
      asset, price: this.price, values,
      signal: { signalType: this.signal > 0 ? 'LONG' : 'SHORT', confidence: Math.min(0.95, Math.abs(current) * (1 + 0.25 * vixBoost)), sizeScale: 1 + vixBoost },
    };
  }
}

const vixCorrelationStream = (p: Params, macro: MarketData['macro']): AssetStream => new VixCorrelationStream(macro[VIX], {
  primary: p.primaryWindow as number, returnsMode: p.correlationOn === 'returns',
  strongNegative: p.strongNegative as number, strongPositive: p.strongPositive as number, vixReference: p.vixReference as number,
});

export const vixCorrelation: StrategyDefinition = {
  name: 'vix_correlation',
  description: 'Rolling VIX–coin correlation over 7/14/21/30 VIX trading days: LONG below −0.6, SHORT above 0.6.',
  parameters: [
    { name: 'primaryWindow', type: 'int', default: 30, min: 5, max: 120, description: 'window (VIX observations) whose correlation decides' },
    { name: 'correlationOn', type: 'enum', default: 'levels', values: ['levels', 'returns'], description: 'correlate price levels (the seed) or daily log returns' },
    { name: 'strongNegative', type: 'float', default: -0.6, min: -1, max: 0, step: 0.05, description: 'LONG below this correlation' },
    { name: 'strongPositive', type: 'float', default: 0.6, min: 0, max: 1, step: 0.05, description: 'SHORT above this correlation' },
    { name: 'vixReference', type: 'float', default: 20, min: 5, max: 60, description: 'VIX level above which confidence and size grow' },
  ],
  analyzeAsset: streamedAnalysis(vixCorrelationStream),
  stream: vixCorrelationStream,
};
