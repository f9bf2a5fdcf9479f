import type { Side } from './portfolio';

/** Paper execution costs. Slippage = fixed bps + factor × volatility (e.g. the bar's high–low range / close). */
export interface FillModel {
  fixedSlippageBps: number;
  volatilitySlippageFactor: number;
  takerFeeBps: number;
}

export interface MarketFill {
  price: number;
  /** What slippage cost against the reference price, in USD (≥ 0). */
  slippageCost: number;
  fee: number;
}

/** A market order fills worse than the reference price by the slippage, and pays the taker fee on its notional. */
export function marketFill(side: Side, quantity: number, referencePrice: number, volatility: number, model: FillModel): MarketFill {
  const slip = model.fixedSlippageBps / 10_000 + model.volatilitySlippageFactor * Math.max(volatility, 0);
  const price = side === 'BUY' ? referencePrice * (1 + slip) : referencePrice * (1 - slip);
  return {
    price,
    slippageCost: Math.abs(price - referencePrice) * quantity,
    fee: quantity * price * model.takerFeeBps / 10_000,
  };
}

export interface Bar {
  open: number;
  high: number;
  low: number;
  close: number;
}

export type ProtectiveTrigger = { kind: 'stop_loss' | 'take_profit'; price: number } | undefined;

/**
 * Checks a bar against a position's protective levels using its high and low: a stop inside the
 * bar triggers even if the close recovers; when both levels are inside one bar the stop is assumed
 * to have come first. A bar that opens beyond a level fills at the open (a gap), else at the level.
 */
export function protectiveTrigger(direction: 'LONG' | 'SHORT', stopLoss: number | null, takeProfit: number | null, bar: Bar): ProtectiveTrigger {
  if (direction === 'LONG') {
    if (stopLoss !== null && bar.low <= stopLoss) return { kind: 'stop_loss', price: Math.min(bar.open, stopLoss) };
    if (takeProfit !== null && bar.high >= takeProfit) return { kind: 'take_profit', price: Math.max(bar.open, takeProfit) };
  } else {
    if (stopLoss !== null && bar.high >= stopLoss) return { kind: 'stop_loss', price: Math.max(bar.open, stopLoss) };
    if (takeProfit !== null && bar.low <= takeProfit) return { kind: 'take_profit', price: Math.min(bar.open, takeProfit) };
  }
  return undefined;
}

/** A trailing stop follows the best price seen by `trail` (a fraction) and never moves back. */
export function trailStop(direction: 'LONG' | 'SHORT', stopLoss: number, bar: Bar, trail: number): number {
  return direction === 'LONG' ? Math.max(stopLoss, bar.high * (1 - trail)) : Math.min(stopLoss, bar.low * (1 + trail));
}
