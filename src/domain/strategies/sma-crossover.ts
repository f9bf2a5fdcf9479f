import { sma } from '../indicators';
import { lastKnown } from '../signals';
import type { AssetAnalysis, StrategyDefinition } from './framework';

export const smaCrossover: StrategyDefinition = {
  name: 'sma_crossover',
  description: 'Fast SMA crossing the slow SMA: LONG on a cross above, SHORT on a cross below.',
  parameters: [
    { name: 'fast', type: 'int', default: 10, min: 2, max: 100, description: 'fast SMA length (days)' },
    { name: 'slow', type: 'int', default: 30, min: 5, max: 400, description: 'slow SMA length (days)' },
    { name: 'confidence', type: 'float', default: 0.65, min: 0.5, max: 1, step: 0.05, description: 'confidence of a crossover signal' },
  ],
  analyzeAsset(data, asset, asOf, p): AssetAnalysis {
    const prices = data.prices[asset];
    const fast = p.fast as number;
    const slow = p.slow as number;
    if (!prices) return { asset, price: null, values: { reason: 'no prices' } };
    if (fast >= slow) return { asset, price: null, values: { reason: `fast (${fast}) must be shorter than slow (${slow})` } };
    const closes = lastKnown(prices.close, prices.time, asOf, slow + 1);
    if (closes.length < slow + 1) return { asset, price: null, values: { reason: 'not enough history' } };
    const f = sma(closes, fast);
    const s = sma(closes, slow);
    const n = closes.length - 1;
    const values = { fastSma: f[n], slowSma: s[n], previousFastSma: f[n - 1], previousSlowSma: s[n - 1] };
    const price = closes[n];
    const crossedUp = f[n - 1] <= s[n - 1] && f[n] > s[n];
    const crossedDown = f[n - 1] >= s[n - 1] && f[n] < s[n];
    if (!crossedUp && !crossedDown) return { asset, price, values };
    return { asset, price, values, signal: { signalType: crossedUp ? 'LONG' : 'SHORT', confidence: p.confidence as number, sizeScale: 1 } };
  },
};
