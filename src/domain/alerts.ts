import { createHmac } from 'node:crypto';
import type { AggregatedSignal } from './aggregation';
import type { TradingSignal } from './signals';

/** The seed's signal alert, field for field. */
export interface SignalAlert {
  timestamp: number;
  asset: string;
  signal_type: 'LONG' | 'SHORT';
  confidence: number;
  strategies: string[];
  price: number;
  position_size: number;
  risk_metrics: { stop_loss: number; take_profit: number };
}

/** The seed's volatility alert, field for field. */
export interface VolatilityAlert {
  timestamp: number;
  asset: string;
  current_price: number;
  volatility_value: number;
  volatility_threshold: number;
  volatility_percentile: number;
  position_direction: 'LONG' | 'SHORT';
  signal_type: 'LONG' | 'SHORT';
  alert_type: 'volatility_spike';
  threshold_exceeded: true;
}

/** A filled position the saga could not protect: a person must place its stop. */
export interface UnprotectedPositionAlert {
  timestamp: number;
  asset: string;
  signal_id: string;
  fill_id: string;
  signal_type: 'LONG' | 'SHORT';
  quantity: number;
  fill_price: number;
  reason: string;
  alert_type: 'unprotected_position';
}

/** A collected tier and asset turned unhealthy by the seed's rules, or recovered: one alert each way per incident. */
export interface DataHealthAlert {
  /** When the incident started (unhealthy) or ended (recovered). */
  timestamp: number;
  asset: string;
  tier: string;
  status: 'unhealthy' | 'recovered';
  /** Why it is unhealthy; empty on recovery. */
  reasons: string[];
  alert_type: 'data_health';
}

export type AlertType = 'signal' | 'volatility_spike' | 'unprotected_position' | 'data_health';
export type Alert =
  | { type: 'signal'; body: SignalAlert }
  | { type: 'volatility_spike'; body: VolatilityAlert }
  | { type: 'unprotected_position'; body: UnprotectedPositionAlert }
  | { type: 'data_health'; body: DataHealthAlert };
/** The alerts a signal decision makes: the ones with a direction. */
export type MarketAlert = Extract<Alert, { type: 'signal' | 'volatility_spike' }>;

/** `timestamp` is the decision time (asOf), so the same decision always makes the same alert. */
export function signalAlert(s: AggregatedSignal): MarketAlert {
  return {
    type: 'signal',
    body: {
      timestamp: s.timestamp,
      asset: s.asset,
      signal_type: s.signalType,
      confidence: s.confidence,
      strategies: s.strategies,
      price: s.price,
      position_size: s.positionSize,
      risk_metrics: { stop_loss: s.stopLoss, take_profit: s.takeProfit },
    },
  };
}

export function volatilityAlert(s: TradingSignal): MarketAlert {
  const a = s.analysis as { volatility: number; volatilityThreshold: number; volatilityPercentile: number };
  return {
    type: 'volatility_spike',
    body: {
      timestamp: s.timestamp,
      asset: s.asset,
      current_price: s.price,
      volatility_value: a.volatility,
      volatility_threshold: a.volatilityThreshold,
      volatility_percentile: a.volatilityPercentile,
      position_direction: s.signalType,
      signal_type: s.signalType,
      alert_type: 'volatility_spike',
      threshold_exceeded: true,
    },
  };
}

/** The seed's file name: <alert_type>_<asset>_<YYYYMMDD_HHMMSS>.json, in UTC. */
export function alertFileName(type: AlertType, asset: string, timestamp: number): string {
  const iso = new Date(timestamp).toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `${type}_${asset.replace(/[^\w.-]/g, '_')}_${stamp}.json`;
}

/**
 * The signature a webhook delivery carries in `x-mts-signature`: `t=<ms>,v1=<hex>`, HMAC-SHA256 with
 * the shared secret over `<t>.<exact body>`. The timestamp is signed too, so a receiver that refuses
 * old timestamps refuses a replayed request. Pure: the same inputs sign the same.
 */
export function webhookSignature(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
