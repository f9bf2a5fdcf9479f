import { ExactSum, RingBuffer, ReturnVolatility } from './rolling';
import type { ScoredRecord } from './position-sizing';
import { clamp, knownCount, knownCountSpaced, lastKnown, protectiveLevels, type MarketData, type RiskSettings, type SignalType, type TradingSignal } from './signals';

export type Regime = 'trending' | 'ranging' | 'high_volatility';

/** Closes the regime looks back over: 365 volatility values of 20 returns each fit in 400. */
const REGIME_LOOKBACK = 400;
const VOL_WINDOW = 20;
const VOL_RANK_WINDOW = 365;
const TREND_DAYS = 30;

/**
 * Market regime of an asset from its closes, updated one close at a time: high volatility when
 * 20-day realised volatility ranks in the top 20% of the past year; trending when the 30-day move
 * exceeds one standard deviation of 30-day moves (|ln(P/P₋₃₀)| > σ_daily·√30); ranging otherwise.
 * The backtest engine keeps one per asset; `detectRegime` feeds one the last 400 closes.
 */
export class RegimeTracker {
  /**
   * The past year's volatilities as they came, not sorted: only whether the newest ranks in the top
   * fifth is read, and only when a signal asks for the regime. Told by one pass then, stopped once it
   * cannot (the regime kept until the next close), where a sorted window paid a search and a move at
   * every close: on hourly bars with strategies deciding daily, most closes are never asked about.
   */
  private readonly history = new ReturnVolatility(VOL_WINDOW, new RingBuffer(VOL_RANK_WINDOW), TREND_DAYS + 1);
  private classified: Regime | undefined;

  push(close: number): void {
    this.history.push(close);
    this.classified = undefined;
  }

  regime(): Regime {
    return (this.classified ??= this.classify());
  }

  private classify(): Regime {
    const { closes, volatilities, seen } = this.history;
    if (seen < 40) return 'ranging';
    const vol = volatilities.back(0);
    if (volatilities.count >= 60 && volatilities.mostAtOrBelow(vol, 0.8)) return 'high_volatility';
    const move = Math.abs(Math.log(closes.back(0) / closes.back(TREND_DAYS)));
    return move > vol * Math.sqrt(TREND_DAYS) ? 'trending' : 'ranging';
  }
}

/** The regime of an asset from the closes known at asOf. */
export function detectRegime(data: MarketData, asset: string, asOf: number): Regime {
  const prices = data.prices[asset];
  const tracker = new RegimeTracker();
  if (prices) for (const close of lastKnown(prices.close, prices.time, asOf, REGIME_LOOKBACK)) tracker.push(close);
  return tracker.regime();
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
 * a SHORT when lower; with the returns won and lost (for Kelly sizing). Only signals from the last `lookbackMs` whose outcome is known at asOf count:
 * a rolling window, so live runs and backtests (however chunked) score the same signals.
 */
export type TrackRecords = Record<string, ScoredRecord>;

export function trackRecord(past: PastSignal[], data: MarketData, asOf: number, horizonMs: number, lookbackMs: number): TrackRecords {
  const out: TrackRecords = {};
  for (const s of past) {
    if (s.timestamp < asOf - lookbackMs || s.timestamp + horizonMs > asOf) continue;
    const move = outcomeOf(s, data, horizonMs);
    if (move !== undefined) countOutcome(out, s.strategyName, move, 1);
  }
  return out;
}

/** The return in the signal's direction over the horizon (its win or loss); undefined without a price then. */
function outcomeOf(s: PastSignal, data: MarketData, horizonMs: number): number | undefined {
  const prices = data.prices[s.asset];
  return prices && moveTo(s, prices.close, knownCount(prices.time, s.timestamp + horizonMs));
}

/** The signal's return to the last of the `known` closes; undefined when none is known. */
function moveTo(s: PastSignal, close: ArrayLike<number>, known: number): number | undefined {
  if (known === 0) return undefined;
  const later = close[known - 1];
  return (s.signalType === 'LONG' ? later - s.price : s.price - later) / s.price;
}

/** Adds (`sign` 1) or removes (−1) one scored signal from a strategy's record. */
/**
 * The exact sums behind each record's gain and loss: a window that added and dropped signals over
 * time, and one rebuilt from the signals in it (a backtest resumed from its checkpoint, a recount),
 * hold the same numbers to the bit.
 */
const exactSums = new WeakMap<ScoredRecord, { gain: ExactSum; loss: ExactSum }>();

function countOutcome(records: TrackRecords, strategy: string, move: number, sign: 1 | -1) {
  const r = (records[strategy] ??= { hits: 0, total: 0, gain: 0, loss: 0 });
  let sums = exactSums.get(r);
  if (!sums) exactSums.set(r, (sums = { gain: new ExactSum(), loss: new ExactSum() }));
  r.total += sign;
  if (move > 0) {
    r.hits += sign;
    sums.gain.add(sign * move);
    r.gain = sums.gain.value;
  } else {
    sums.loss.add(-sign * move);
    r.loss = sums.loss.value;
  }
  // An emptied record starts again from exact zeros.
  if (r.total === 0) {
    Object.assign(r, { hits: 0, gain: 0, loss: 0 });
    exactSums.delete(r);
  }
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

/**
 * `trackRecord`, kept up to date instead of recomputed: for a non-decreasing `asOf` over the same
 * `past` (oldest first, appended to, its front dropped with `dropped`), `advance` returns the same
 * records, scoring each signal once when its outcome becomes known and removing it when it leaves
 * the window. A backtest asks at every aggregated signal; recounting would cost O(signals) each time.
 */
export class TrackRecordWindow {
  private next = 0;
  private head = 0;
  /** The past signals scored and still in the window, oldest first, each with its move in `moves`: no object a signal. */
  private readonly scored: PastSignal[] = [];
  private readonly moves: number[] = [];
  private readonly records: TrackRecords = {};
  /** Asset → the count of its closes found for the last outcome scored: the next one is near it. */
  private readonly known: Record<string, number> = {};

  constructor(private readonly horizonMs: number, private readonly lookbackMs: number) {}

  advance(past: PastSignal[], data: MarketData, asOf: number): TrackRecords {
    const from = asOf - this.lookbackMs;
    while (this.next < past.length && past[this.next].timestamp + this.horizonMs <= asOf) {
      const s = past[this.next++];
      const move = s.timestamp < from ? undefined : this.outcomeOf(s, data);
      if (move === undefined) continue;
      this.scored.push(s);
      this.moves.push(move);
      countOutcome(this.records, s.strategyName, move, 1);
    }
    while (this.head < this.scored.length && this.scored[this.head].timestamp < from) {
      countOutcome(this.records, this.scored[this.head].strategyName, this.moves[this.head], -1);
      this.head += 1;
    }
    if (this.head * 2 > this.scored.length) {
      this.scored.splice(0, this.head);
      this.moves.splice(0, this.head);
      this.head = 0;
    }
    return this.records;
  }

  /**
   * `outcomeOf`, its search started from where the asset's last one ended (outcomes are scored in
   * time order), as far on as the bars' spacing puts it.
   */
  private outcomeOf(s: PastSignal, data: MarketData): number | undefined {
    const prices = data.prices[s.asset];
    if (!prices) return undefined;
    const known = knownCountSpaced(prices.time, s.timestamp + this.horizonMs, this.known[s.asset] ?? 0);
    this.known[s.asset] = known;
    return moveTo(s, prices.close, known);
  }

  /** `past` lost its first `n` signals. */
  dropped(n: number): void {
    this.next = Math.max(0, this.next - n);
  }
}

/** The pooled record of the strategies behind an aggregated signal: the ensemble's track record. */
export function pooledRecord(records: TrackRecords, strategies: string[]): ScoredRecord {
  const out = { hits: 0, total: 0, gain: 0, loss: 0 };
  for (const name of strategies) {
    const r = records[name];
    if (!r) continue;
    out.hits += r.hits;
    out.total += r.total;
    out.gain += r.gain;
    out.loss += r.loss;
  }
  return out;
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
  /** `records` is only called when signals conflict: scoring past signals is the costly part. */
  context: { regime: Regime; records: () => TrackRecords },
  settings: AggregationSettings,
): AggregatedSignal | undefined {
  if (signals.length === 0) return undefined;
  // Plain loops, no closures: a backtest aggregates at every signal.
  let totalWeight = 0;
  let longWeight = 0;
  let timestamp = -Infinity;
  for (const x of signals) {
    totalWeight += x.confidence;
    if (x.signalType === 'LONG') longWeight += x.confidence;
    if (x.timestamp > timestamp) timestamp = x.timestamp;
  }
  const direction: SignalType = longWeight >= totalWeight - longWeight ? 'LONG' : 'SHORT';
  const agreeing = signals.filter((x) => x.signalType === direction);
  let agreeingWeight = 0;
  for (const x of agreeing) agreeingWeight += x.confidence;
  const share = totalWeight > 0 ? agreeingWeight / totalWeight : 0;
  const price = signals[0].price;

  if (share >= settings.consensusThreshold) {
    const confidence = (agreeing.reduce((s, x) => s + x.confidence * x.confidence, 0) / agreeingWeight) * share;
    const positionSize = agreeing.reduce((s, x) => s + x.positionSize * x.confidence, 0) / agreeingWeight;
    // The levels by name: spread between other fields, they were copied in property by property at run time.
    const { stopLoss, takeProfit } = protectiveLevels(direction, price, settings.risk);
    return {
      asset: signals[0].asset, signalType: direction, timestamp, price, strategyName: 'aggregate',
      confidence, positionSize: clamp(positionSize, 0, settings.risk.maxPositionSize), stopLoss, takeProfit,
      strategies: agreeing.map((s) => s.strategyName), method: 'consensus',
      analysis: { method: 'consensus', agreeingShare: share, regime: context.regime, members: signals.map(member) },
    };
  }

  const records = context.records();
  const scored = signals.map((s) => {
    const perf = performanceWeight(records[s.strategyName], settings.minTrackRecord);
    const regimeWeight = settings.regimeWeights[s.strategyName]?.[context.regime] ?? 1;
    return { s, perf, regimeWeight, score: perf * regimeWeight * s.confidence };
  });
  const best = scored.reduce((a, b) => (b.score > a.score ? b : a));
  if (best.score < settings.minResolvedConfidence) return undefined;
  const { stopLoss, takeProfit } = protectiveLevels(best.s.signalType, price, settings.risk);
  return {
    ...best.s,
    strategyName: 'aggregate',
    confidence: Math.min(best.score, 1),
    stopLoss,
    takeProfit,
    strategies: [best.s.strategyName],
    method: 'conflict_resolution',
    analysis: {
      method: 'conflict_resolution', agreeingShare: share, regime: context.regime,
      scores: scored.map((x) => ({ strategy: x.s.strategyName, signalType: x.s.signalType, confidence: x.s.confidence, performanceWeight: x.perf, regimeWeight: x.regimeWeight, score: x.score })),
    },
  };
}

const member = (s: TradingSignal) => ({ strategy: s.strategyName, signalType: s.signalType, confidence: s.confidence });
