import { logReturns, percentileRank, rollingVolatility } from './indicators';
import { clamp, lastKnown, protectiveLevels, type MarketData, type RiskSettings, type SignalType, type TradingSignal } from './signals';

export type Regime = 'trending' | 'ranging' | 'high_volatility';

/**
 * Market regime of an asset from daily closes known at asOf: high volatility when 20-day realised
 * volatility ranks in the top 20% of the past year; trending when the 30-day move exceeds one
 * standard deviation of 30-day moves (|ln(P/P₋₃₀)| > σ_daily·√30); ranging otherwise.
 */
export function detectRegime(data: MarketData, asset: string, asOf: number): Regime {
  const prices = data.prices[asset];
  if (!prices) return 'ranging';
  const closes = lastKnown(prices.close, prices.time, asOf, 400);
  if (closes.length < 40) return 'ranging';
  const returns = Array.from(logReturns(closes)).slice(1);
  const vol = Array.from(rollingVolatility(returns, 20)).filter((v) => !Number.isNaN(v)).slice(-365);
  if (vol.length >= 60 && percentileRank(vol, vol.length)[vol.length - 1] > 0.8) return 'high_volatility';
  const n = closes.length - 1;
  const move = Math.abs(Math.log(closes[n] / closes[n - 30]));
  return move > vol[vol.length - 1] * Math.sqrt(30) ? 'trending' : 'ranging';
}

export interface PastSignal {
  strategyName: string;
  signalType: SignalType;
  timestamp: number;
  price: number;
  asset: string;
}

/**
 * Hit rate of each strategy's past signals: a LONG hits when the price `horizonMs` later is higher,
 * a SHORT when lower. Only signals from the last `lookbackMs` whose outcome is known at asOf count:
 * a rolling window, so live runs and backtests (however chunked) score the same signals.
 */
export function trackRecord(past: PastSignal[], data: MarketData, asOf: number, horizonMs: number, lookbackMs: number): Record<string, { hits: number; total: number }> {
  const out: Record<string, { hits: number; total: number }> = {};
  for (const s of past) {
    if (s.timestamp < asOf - lookbackMs) continue;
    const outcomeAt = s.timestamp + horizonMs;
    if (outcomeAt > asOf) continue;
    const prices = data.prices[s.asset];
    if (!prices) continue;
    const later = lastKnown(prices.close, prices.time, outcomeAt, 1)[0];
    if (later === undefined) continue;
    const r = (out[s.strategyName] ??= { hits: 0, total: 0 });
    r.total += 1;
    if ((s.signalType === 'LONG' && later > s.price) || (s.signalType === 'SHORT' && later < s.price)) r.hits += 1;
  }
  return out;
}

export interface AggregationSettings {
  /** Share of confidence weight that must agree for a consensus (the seed's 0.6). */
  consensusThreshold: number;
  /** A conflict-resolved signal below this score is dropped (the seed's 0.5). */
  minResolvedConfidence: number;
  /** Past signals needed before a track record counts; fewer gives the neutral weight 1. */
  minTrackRecord: number;
  /** Strategy → regime → weight; missing entries weigh 1. */
  regimeWeights: Record<string, Partial<Record<Regime, number>>>;
  risk: RiskSettings;
}

export interface AggregatedSignal extends TradingSignal {
  strategies: string[];
  method: 'consensus' | 'conflict_resolution';
}

/** 2 × hit rate: a coin-flip record (50%) weighs 1, a perfect one 2, a useless one 0. */
export function performanceWeight(record: { hits: number; total: number } | undefined, minTrackRecord: number): number {
  if (!record || record.total < minTrackRecord) return 1;
  return 2 * (record.hits / record.total);
}

/**
 * Aggregates one asset's signals. Consensus: when ≥ threshold of the confidence weight points one
 * way, the result takes that direction with confidence = confidence-weighted mean confidence of the
 * agreeing signals × the agreeing share. Otherwise conflict resolution: each signal scores
 * performance weight × regime weight × confidence; the best wins with its score as confidence,
 * and is dropped below `minResolvedConfidence`.
 */
export function aggregateAssetSignals(
  signals: TradingSignal[],
  context: { regime: Regime; records: Record<string, { hits: number; total: number }> },
  settings: AggregationSettings,
): AggregatedSignal | undefined {
  if (signals.length === 0) return undefined;
  const totalWeight = signals.reduce((s, x) => s + x.confidence, 0);
  const byDirection = (d: SignalType) => signals.filter((s) => s.signalType === d);
  const longWeight = byDirection('LONG').reduce((s, x) => s + x.confidence, 0);
  const direction: SignalType = longWeight >= totalWeight - longWeight ? 'LONG' : 'SHORT';
  const agreeing = byDirection(direction);
  const agreeingWeight = agreeing.reduce((s, x) => s + x.confidence, 0);
  const share = totalWeight > 0 ? agreeingWeight / totalWeight : 0;
  const price = signals[0].price;
  const timestamp = Math.max(...signals.map((s) => s.timestamp));

  if (share >= settings.consensusThreshold) {
    const confidence = (agreeing.reduce((s, x) => s + x.confidence * x.confidence, 0) / agreeingWeight) * share;
    const positionSize = agreeing.reduce((s, x) => s + x.positionSize * x.confidence, 0) / agreeingWeight;
    return {
      asset: signals[0].asset, signalType: direction, timestamp, price, strategyName: 'aggregate',
      confidence, positionSize: clamp(positionSize, 0, settings.risk.maxPositionSize),
      ...protectiveLevels(direction, price, settings.risk),
      strategies: agreeing.map((s) => s.strategyName), method: 'consensus',
      analysis: { method: 'consensus', agreeingShare: share, regime: context.regime, members: signals.map(member) },
    };
  }

  const scored = signals.map((s) => {
    const perf = performanceWeight(context.records[s.strategyName], settings.minTrackRecord);
    const regimeWeight = settings.regimeWeights[s.strategyName]?.[context.regime] ?? 1;
    return { s, perf, regimeWeight, score: perf * regimeWeight * s.confidence };
  });
  const best = scored.reduce((a, b) => (b.score > a.score ? b : a));
  if (best.score < settings.minResolvedConfidence) return undefined;
  return {
    ...best.s,
    strategyName: 'aggregate',
    confidence: Math.min(best.score, 1),
    ...protectiveLevels(best.s.signalType, price, settings.risk),
    strategies: [best.s.strategyName],
    method: 'conflict_resolution',
    analysis: {
      method: 'conflict_resolution', agreeingShare: share, regime: context.regime,
      scores: scored.map((x) => ({ strategy: x.s.strategyName, signalType: x.s.signalType, confidence: x.s.confidence, performanceWeight: x.perf, regimeWeight: x.regimeWeight, score: x.score })),
    },
  };
}

const member = (s: TradingSignal) => ({ strategy: s.strategyName, signalType: s.signalType, confidence: s.confidence });
