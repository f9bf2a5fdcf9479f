import { z } from 'zod';
import type { MarketData, PriceSeries, RiskSettings, SignalType, TradingSignal } from '../signals';
import type { BarSize } from '../types';
import { clamp, knownCount, protectiveLevels } from '../signals';

/** What an optimiser needs to know about one parameter. */
export type ParameterSpec =
  | { name: string; type: 'int' | 'float'; default: number; min: number; max: number; step?: number; description: string }
  | { name: string; type: 'enum'; default: string; values: string[]; description: string };

export type Params = Record<string, number | string>;

/** Per-asset analysis: the numbers decided on; `signal` is set when they call for a trade. */
export interface AssetAnalysis {
  asset: string;
  price: number | null;
  values: Record<string, unknown>;
  signal?: { signalType: SignalType; confidence: number; sizeScale: number };
}

export interface Analysis {
  strategy: string;
  asOf: number;
  assets: AssetAnalysis[];
}

export interface StrategyConfig {
  name: string;
  enabled: boolean;
  assets: string[];
  /** The bar it decides on: it runs when such a bar closes, on bars of that size (absent: every bar it is fed). */
  bar?: BarSize;
  parameters: Params;
  risk: RiskSettings;
}

/** The seed's interface: analyze → generateSignals, plus the parameter specs an optimiser needs. */
export interface Strategy {
  readonly name: string;
  readonly config: StrategyConfig;
  parameters(): ParameterSpec[];
  /** Must use only data known at `asOf`, whatever else `data` holds. */
  analyze(data: MarketData, asOf: number): Analysis;
  generateSignals(analysis: Analysis): TradingSignal[];
  /** A new per-asset stream of this strategy's decision, reading `macro` (the VIX) as its closes reach it. */
  openStream?(macro: MarketData['macro']): AssetStream;
}

/** The zod schema of a strategy's parameters, built from its specs: one source of truth. */
export function parametersSchema(specs: ParameterSpec[]) {
  return z.object(Object.fromEntries(specs.map((s) => {
    if (s.type === 'enum') return [s.name, z.enum(s.values as [string, ...string[]]).default(s.default)];
    const base = s.type === 'int' ? z.number().int() : z.number();
    return [s.name, base.min(s.min).max(s.max).default(s.default)];
  }))).strict();
}

/** Turns an analysis into signals with the shared risk fields; every strategy uses this. */
export function signalsFromAnalysis(analysis: Analysis, config: StrategyConfig): TradingSignal[] {
  const out: TradingSignal[] = [];
  for (const a of analysis.assets) {
    if (!a.signal || a.price === null) continue;
    const positionSize = clamp(config.risk.positionSize * a.signal.confidence * a.signal.sizeScale, 0, config.risk.maxPositionSize);
    // The levels by name, not spread into the literal: a spread between other fields builds the
    // object property by property at run time (a backtest makes one of these at every signal).
    const { stopLoss, takeProfit } = protectiveLevels(a.signal.signalType, a.price, config.risk);
    out.push({
      asset: a.asset,
      signalType: a.signal.signalType,
      timestamp: analysis.asOf,
      price: a.price,
      strategyName: config.name,
      confidence: a.signal.confidence,
      positionSize,
      stopLoss,
      takeProfit,
      analysis: a.values,
    });
  }
  return out;
}

/**
 * A strategy's decision for one asset as a stream: fed the asset's closes in order, O(1) work and no
 * allocation per close. A strategy that reads the VIX gets the series when the stream opens and
 * takes in each observation once a close at or after its time is fed. Every strategy analyses live
 * through its stream too (`analyzeByStream` feeds it the window it looks back over), so a backtest
 * streaming years of bars decides as live does.
 */
export interface AssetStream {
  /** Closes the decision looks back over (the current one included). */
  readonly lookback: number;
  /** When how far back depends on the data (windows of VIX days): the closes to feed for a decision at asOf. */
  lookbackAt?(prices: PriceSeries, asOf: number): number;
  /** Feeds the next close (and when it closed); true when the analysis at this close carries a signal. */
  push(close: number, time: number): boolean;
  /** The analysis at the last close fed. */
  analysis(asset: string): AssetAnalysis;
}

export interface StrategyDefinition {
  name: string;
  description: string;
  parameters: ParameterSpec[];
  /** Builds the per-asset analysis at asOf from data known then, on bars of size `bar` (absent: daily, as live decides then). */
  analyzeAsset(data: MarketData, asset: string, asOf: number, params: Params, bar?: BarSize): AssetAnalysis;
  /** The same decision, incremental (every shipped strategy has one; one without is analysed at every close, slower). */
  stream?(params: Params, macro: MarketData['macro'], bar?: BarSize): AssetStream;
}

/** The analysis at asOf through a fresh stream fed the closes known then. */
export function analyzeByStream(stream: AssetStream, data: MarketData, asset: string, asOf: number): AssetAnalysis {
  const prices = data.prices[asset];
  if (!prices) return { asset, price: null, values: { reason: 'no prices' } };
  const end = knownCount(prices.time, asOf);
  const lookback = stream.lookbackAt?.(prices, asOf) ?? stream.lookback;
  for (let i = Math.max(0, end - lookback); i < end; i++) stream.push(prices.close[i], prices.time[i]);
  return stream.analysis(asset);
}

/** A definition whose analysis is its stream's. */
export const streamedAnalysis = (stream: NonNullable<StrategyDefinition['stream']>): StrategyDefinition['analyzeAsset'] =>
  (data, asset, asOf, params, bar) => analyzeByStream(stream(params, data.macro, bar), data, asset, asOf);

export function createStrategy(def: StrategyDefinition, config: StrategyConfig): Strategy {
  return {
    name: def.name,
    config,
    parameters: () => def.parameters,
    analyze: (data, asOf) => ({
      strategy: def.name,
      asOf,
      assets: config.assets.map((asset) => def.analyzeAsset(data, asset, asOf, config.parameters, config.bar)),
    }),
    generateSignals: (analysis) => signalsFromAnalysis(analysis, config),
    openStream: def.stream && ((macro) => def.stream!(config.parameters, macro, config.bar)),
  };
}
