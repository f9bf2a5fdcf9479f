import { drawdownFromRollingHigh, percentileRank, wilderRsi } from '../indicators';
import { clamp, lastKnown } from '../signals';
import type { AssetAnalysis, StrategyDefinition } from './framework';
import { VIX } from './vix-correlation';

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
  analyzeAsset(data, asset, asOf, p): AssetAnalysis {
    const prices = data.prices[asset];
    const vixSeries = data.macro[VIX];
    if (!prices || !vixSeries) return { asset, price: null, values: { reason: 'needs prices and VIXCLS' } };
    const lookback = p.drawdownLookback as number;
    const rsiPeriod = p.rsiPeriod as number;
    // RSI smooths over all history; a fixed warm-up of 10 periods keeps it stable and bounded.
    const closes = lastKnown(prices.close, prices.time, asOf, Math.max(lookback, rsiPeriod * 10 + 1));
    const vixWindow = p.vixPercentileWindow as number;
    const vixValues = lastKnown(vixSeries.value, vixSeries.time, asOf, vixWindow);
    if (closes.length < Math.max(lookback, rsiPeriod + 1) || vixValues.length === 0) {
      return { asset, price: null, values: { reason: 'not enough history' } };
    }
    const price = closes[closes.length - 1];
    const rsi = wilderRsi(closes, rsiPeriod)[closes.length - 1];
    const drawdown = drawdownFromRollingHigh(closes.slice(-lookback), lookback)[lookback - 1];
    const vix = vixValues[vixValues.length - 1];
    const vixPercentile = percentileRank(vixValues, vixValues.length)[vixValues.length - 1];
    const spike = vix > (p.vixSpike as number);
    const deep = drawdown > (p.drawdownThreshold as number);
    const oversold = rsi < (p.rsiOversold as number);
    const values = { vix, vixSpikeDetected: spike, drawdownFromHigh: drawdown, rsi, oversold, vixPercentile };
    if (!(spike && deep && oversold)) return { asset, price, values };
    const confidence = Math.min(0.95, 0.6
      + 0.2 * clamp((vix - (p.vixSpike as number)) / (p.vixSpike as number), 0, 1)
      + 0.2 * clamp((drawdown - (p.drawdownThreshold as number)) / (p.drawdownThreshold as number), 0, 1));
    return { asset, price, values, signal: { signalType: 'LONG', confidence, sizeScale: 0.5 + vixPercentile } };
  },
};
