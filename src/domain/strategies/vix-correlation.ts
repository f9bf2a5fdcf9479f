import { logReturns, rollingPearson } from '../indicators';
import { clamp, knownCount, lastKnown, type MarketData } from '../signals';
import type { AssetAnalysis, Params, StrategyDefinition } from './framework';

export const VIX = 'VIXCLS';
const WINDOWS = [7, 14, 21, 30];
const MAX_PAIR_GAP_MS = 3 * 86_400_000;

/**
 * Pairs each VIX observation with the coin's last close known at the same moment (both daily), so
 * windows count VIX trading days. Pairs whose coin price is older than three days are skipped.
 */
export function vixPricePairs(data: MarketData, asset: string, asOf: number, count: number) {
  const vix = data.macro[VIX];
  const prices = data.prices[asset];
  const vixValues: number[] = [];
  const coinCloses: number[] = [];
  if (!vix || !prices) return { vixValues, coinCloses };
  const end = knownCount(vix.time, asOf);
  for (let i = Math.max(0, end - count * 2); i < end; i++) {
    const idx = knownCount(prices.time, vix.time[i]) - 1;
    if (idx < 0 || vix.time[i] - prices.time[idx] > MAX_PAIR_GAP_MS) continue;
    vixValues.push(vix.value[i]);
    coinCloses.push(prices.close[idx]);
  }
  return { vixValues: vixValues.slice(-count), coinCloses: coinCloses.slice(-count) };
}

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
  analyzeAsset(data, asset, asOf, p: Params): AssetAnalysis {
    const primary = p.primaryWindow as number;
    const windows = [...new Set([...WINDOWS, primary])].sort((a, b) => a - b);
    const needed = Math.max(...windows) + 1;
    const { vixValues, coinCloses } = vixPricePairs(data, asset, asOf, needed);
    if (vixValues.length < primary + 1) return { asset, price: null, values: { reason: `needs ${primary + 1} VIX/price pairs, has ${vixValues.length}` } };
    const returnsMode = p.correlationOn === 'returns';
    const x = returnsMode ? Array.from(logReturns(vixValues)).slice(1) : vixValues;
    const y = returnsMode ? Array.from(logReturns(coinCloses)).slice(1) : coinCloses;
    const correlations: Record<string, number | null> = {};
    for (const w of windows) {
      if (x.length < w) { correlations[`${w}d`] = null; continue; }
      const c = rollingPearson(x.slice(-w), y.slice(-w), w)[w - 1];
      correlations[`${w}d`] = Number.isNaN(c) ? null : c;
    }
    const current = correlations[`${primary}d`];
    const vix = vixValues[vixValues.length - 1];
    // The trade happens now: price it at the latest close, not at the last VIX day's (stale over weekends).
    const price = lastKnown(data.prices[asset].close, data.prices[asset].time, asOf, 1)[0];
    const values = { correlationOn: p.correlationOn, correlations, currentCorrelation: current, vix };
    if (current === null) return { asset, price, values };
    const vixBoost = clamp((vix - (p.vixReference as number)) / (p.vixReference as number), 0, 1);
    const signalType = current < (p.strongNegative as number) ? 'LONG' : current > (p.strongPositive as number) ? 'SHORT' : undefined;
    if (!signalType) return { asset, price, values };
    return {
      asset, price, values,
      signal: { signalType, confidence: Math.min(0.95, Math.abs(current) * (1 + 0.25 * vixBoost)), sizeScale: 1 + vixBoost },
    };
  },
};
