import { logReturns, percentileRank, rollingVolatility, wilderRsi } from '../indicators';
import { lastKnown } from '../signals';
import type { AssetAnalysis, StrategyDefinition } from './framework';

/** Daily crypto trades every day: annualise daily volatility with √365. */
const DAYS_PER_YEAR = 365;

export const volatilitySpike: StrategyDefinition = {
  name: 'volatility_spike',
  description: 'Realised volatility above its threshold percentile: a volatility alert, LONG when oversold, else SHORT.',
  parameters: [
    { name: 'volatilityWindow', type: 'int', default: 20, min: 5, max: 120, description: 'days of returns in the realised volatility' },
    { name: 'percentileWindow', type: 'int', default: 365, min: 30, max: 1500, description: 'days the volatility is ranked against' },
    { name: 'thresholdPercentile', type: 'float', default: 0.9, min: 0.5, max: 0.999, step: 0.01, description: 'percentile that counts as a spike' },
    { name: 'rsiPeriod', type: 'int', default: 14, min: 2, max: 50, description: 'Wilder RSI period (days)' },
    { name: 'rsiOversold', type: 'float', default: 30, min: 5, max: 50, description: 'RSI below this is oversold: LONG' },
  ],
  analyzeAsset(data, asset, asOf, p): AssetAnalysis {
    const prices = data.prices[asset];
    if (!prices) return { asset, price: null, values: { reason: 'no prices' } };
    const volWindow = p.volatilityWindow as number;
    const rankWindow = p.percentileWindow as number;
    const rsiPeriod = p.rsiPeriod as number;
    const closes = lastKnown(prices.close, prices.time, asOf, Math.max(rankWindow + volWindow + 1, rsiPeriod * 10 + 1));
    if (closes.length < volWindow + 2) return { asset, price: null, values: { reason: 'not enough history' } };
    const returns = Array.from(logReturns(closes)).slice(1);
    const vol = Array.from(rollingVolatility(returns, volWindow, DAYS_PER_YEAR)).filter((v) => !Number.isNaN(v)).slice(-rankWindow);
    const volatility = vol[vol.length - 1];
    const percentile = percentileRank(vol, vol.length)[vol.length - 1];
    const sorted = [...vol].sort((a, b) => a - b);
    const threshold = sorted[Math.min(sorted.length - 1, Math.floor((p.thresholdPercentile as number) * sorted.length))];
    const rsi = wilderRsi(closes, rsiPeriod)[closes.length - 1];
    const oversold = rsi < (p.rsiOversold as number);
    const price = closes[closes.length - 1];
    const values = { volatility, volatilityThreshold: threshold, volatilityPercentile: percentile, rsi, oversold, historyDays: vol.length };
    // A percentile over a short history means little: wait for a full ranking window.
    const thr = p.thresholdPercentile as number;
    if (vol.length < rankWindow || percentile < thr) return { asset, price, values };
    const confidence = Math.min(0.95, 0.5 + 0.5 * (percentile - thr) / (1 - thr));
    return { asset, price, values, signal: { signalType: oversold ? 'LONG' : 'SHORT', confidence, sizeScale: 1 } };
  },
};
