/** A column of numbers: plain arrays from the database, typed arrays from long backtests. */
export type Column = number[] | Float64Array;

/** The market data a strategy sees. Each point carries the time it became known (close time), in epoch ms. */
export interface PriceSeries {
  /** When each bar closed; a bar may be used only at or after this time. */
  time: Column;
  open: Column;
  high: Column;
  low: Column;
  close: Column;
  volume: Column;
}

export interface MacroSeries {
  /** When each observation became known: the UTC midnight after its date. */
  time: number[];
  date: string[];
  value: number[];
}

export interface MarketData {
  prices: Record<string, PriceSeries>;
  macro: Record<string, MacroSeries>;
}

export type SignalType = 'LONG' | 'SHORT';

export interface TradingSignal {
  asset: string;
  signalType: SignalType;
  /** The asOf time the signal was decided at (epoch ms). */
  timestamp: number;
  price: number;
  strategyName: string;
  confidence: number;
  /** Position size hint as a fraction of equity. */
  positionSize: number;
  stopLoss: number;
  takeProfit: number;
  /** The numbers the strategy decided on, stored with the signal. */
  analysis: Record<string, unknown>;
}

export interface RiskSettings {
  /** Base position as a fraction of equity, scaled by each strategy. */
  positionSize: number;
  maxPositionSize: number;
  stopLossPct: number;
  riskRewardRatio: number;
}

/** The stop of a position entered at `price`: `stopLossPct` (2% by default) against it. */
export function stopLossPrice(signalType: SignalType, price: number, stopLossPct: number): number {
  return signalType === 'LONG' ? price * (1 - stopLossPct) : price * (1 + stopLossPct);
}

/** The target of a position entered at `price`: the stop's distance × the reward ratio in its favour. */
export function takeProfitPrice(signalType: SignalType, price: number, stopLoss: number, riskRewardRatio: number): number {
  const distance = Math.abs(price - stopLoss) * riskRewardRatio;
  return signalType === 'LONG' ? price + distance : price - distance;
}

/** The stop and target a signal advertises: the levels the core sets on a fill at its price (`protect`). */
export function protectiveLevels(signalType: SignalType, price: number, risk: Pick<RiskSettings, 'stopLossPct' | 'riskRewardRatio'>) {
  const stopLoss = stopLossPrice(signalType, price, risk.stopLossPct);
  return { stopLoss, takeProfit: takeProfitPrice(signalType, price, stopLoss, risk.riskRewardRatio) };
}

/** How many points of a series are known at `asOf` (times are sorted ascending). */
export function knownCount(time: ArrayLike<number>, asOf: number): number {
  let lo = 0;
  let hi = time.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (time[mid] <= asOf) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `knownCount`, searched outwards from `near` (a count found for a nearby time): a replay that asks
 * about times close to the ones it asked before touches a few neighbouring points, where a search
 * over the whole series reads a point in each of its far halves (cache misses on a long series).
 */
export function knownCountNear(time: ArrayLike<number>, asOf: number, near: number): number {
  const n = time.length;
  const from = Math.min(Math.max(near, 0), n);
  let lo = 0;
  let hi = n;
  let step = 1;
  if (from < n && time[from] <= asOf) {
    // The count is past `from`: gallop forwards while points are known.
    lo = from + 1;
    while (lo + step - 1 < n && time[lo + step - 1] <= asOf) {
      lo += step;
      step *= 2;
    }
    hi = Math.min(n, lo + step - 1);
  } else {
    // The count is at most `from`: gallop backwards while points are not known yet.
    hi = from;
    while (hi - step >= 0 && time[hi - step] > asOf) {
      hi -= step;
      step *= 2;
    }
    lo = Math.max(0, hi - step + 1);
  }
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (time[mid] <= asOf) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `knownCountNear`, started where `asOf`'s count would be if the points after (or before) the
 * `near`th were spaced as its last two are: on regular bars the search reads two points (after the
 * spacing's), where a gallop over a day of hourly bars read about eleven and over a month twenty
 * (the market conditions' midnights, a month of them rebuilt at most of the shipped SMA's
 * decisions, and the track records, each outcome a signal's horizon past the last).
 */
export function knownCountSpaced(time: ArrayLike<number>, asOf: number, near: number): number {
  const last = Math.min(near, time.length) - 1;
  const spacing = last >= 1 ? time[last] - time[last - 1] : 0;
  const guess = spacing > 0 ? last + 1 + Math.floor((asOf - time[last]) / spacing) : near;
  return knownCountNear(time, asOf, Number.isNaN(guess) ? near : guess);
}

/** The last `n` values known at asOf. */
export function lastKnown(values: Column, time: ArrayLike<number>, asOf: number, n: number): Column {
  const end = knownCount(time, asOf);
  return values.slice(Math.max(0, end - n), end);
}

export const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
