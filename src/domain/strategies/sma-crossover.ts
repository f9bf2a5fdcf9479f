import { RollingSum } from '../rolling';
import type { AssetAnalysis, AssetStream, Params, StrategyDefinition } from './framework';
import { streamedAnalysis } from './framework';

/**
 * Fast and slow SMAs of the closes fed, and whether this close crossed them. A class, not a closure:
 * V8 keeps numeric fields unboxed, while a closure's captured numbers cost an allocation per write.
 */
class SmaCrossoverStream implements AssetStream {
  readonly lookback: number;
  private readonly fastSum: RollingSum;
  private readonly slowSum: RollingSum;
  private seen = 0;
  private price = Number.NaN;
  private fast = Number.NaN;
  private slow = Number.NaN;
  private previousFast = Number.NaN;
  private previousSlow = Number.NaN;
  private cross = 0;

  constructor(private readonly fastLength: number, private readonly slowLength: number, private readonly confidence: number) {
    this.lookback = slowLength + 1;
    this.fastSum = new RollingSum(fastLength);
    this.slowSum = new RollingSum(slowLength);
  }

  push(close: number): boolean {
    this.fastSum.push(close);
    this.slowSum.push(close);
    this.seen += 1;
    this.price = close;
    this.previousFast = this.fast;
    this.previousSlow = this.slow;
    this.fast = this.fastSum.sum / this.fastLength;
    this.slow = this.slowSum.sum / this.slowLength;
    this.cross = this.seen <= this.slowLength ? 0
      : this.previousFast <= this.previousSlow && this.fast > this.slow ? 1
        : this.previousFast >= this.previousSlow && this.fast < this.slow ? -1 : 0;
    return this.cross !== 0;
  }

  analysis(asset: string): AssetAnalysis {
    if (this.seen <= this.slowLength) return { asset, price: null, values: { reason: 'not enough history' } };
    const values = { fastSma: this.fast, slowSma: this.slow, previousFastSma: this.previousFast, previousSlowSma: this.previousSlow };
    if (this.cross === 0) return { asset, price: this.price, values };
    return { asset, price: this.price, values, signal: { signalType: this.cross > 0 ? 'LONG' : 'SHORT', confidence: this.confidence, sizeScale: 1 } };
  }
}

function smaCrossoverStream(p: Params): AssetStream {
  const fast = p.fast as number;
  const slow = p.slow as number;
  if (fast >= slow) {
    const reason = `fast (${fast}) must be shorter than slow (${slow})`;
    return { lookback: 0, push: () => false, analysis: (asset) => ({ asset, price: null, values: { reason } }) };
  }
  return new SmaCrossoverStream(fast, slow, p.confidence as number);
}

export const smaCrossover: StrategyDefinition = {
  name: 'sma_crossover',
  description: 'Fast SMA crossing the slow SMA: LONG on a cross above, SHORT on a cross below.',
  parameters: [
    { name: 'fast', type: 'int', default: 10, min: 2, max: 100, description: 'fast SMA length in bars (days on daily bars)' },
    { name: 'slow', type: 'int', default: 30, min: 5, max: 400, description: 'slow SMA length in bars (days on daily bars)' },
    { name: 'confidence', type: 'float', default: 0.65, min: 0.5, max: 1, step: 0.05, description: 'confidence of a crossover signal' },
  ],
  analyzeAsset: streamedAnalysis(smaCrossoverStream),
  stream: smaCrossoverStream,
};
