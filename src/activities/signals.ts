import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { SignalsConfig } from '../config/signals';
import { aggregateAssetSignals, detectRegime, type PastSignal, trackRecord } from '../domain/aggregation';
import { signalAlert, volatilityAlert, type Alert } from '../domain/alerts';
import type { TradingSignal } from '../domain/signals';
import type { Strategy } from '../domain/strategies/framework';
import { DAY_MS, HOUR_MS } from '../domain/types';
import type { Database } from '../db/client';
import { loadMarketData } from '../db/market-series';
import { getAlert, insertAlert, insertSignals, lastAlertTime, markDelivered, pastStrategySignals } from '../db/signals';
import type { AlertType } from '../domain/alerts';
import type { DeliverAlertInput, EvaluateSignalsInput, EvaluateSignalsResult } from '../workflows/types';
import { type AlertChannel, sendAlert } from './alert-channels';
import { toActivityFailure } from './failures';

export interface SignalDeps {
  db: Database;
  pool: pg.Pool;
  strategies: Strategy[];
  config: SignalsConfig;
  /** Channels to deliver on, in order; `file` and `sse` need no settings. */
  channels: AlertChannel[];
  alertsDirectory: string;
  webhook?: { url: string; secret: string };
  discord?: { url: string };
}

export function createSignalActivities(deps: SignalDeps) {
  const { db, config } = deps;
  const horizonMs = config.aggregation.trackRecordHorizonDays * DAY_MS;
  const cooldownMs = config.alerts.cooldownHours * HOUR_MS;

  return {
    /**
     * Runs every strategy at each asOf, aggregates per asset, stores signals and alerts. A strategy
     * that throws is logged and skipped (the seed's rule); the others go on. Idempotent per asOf.
     */
    async evaluateSignals(input: EvaluateSignalsInput): Promise<EvaluateSignalsResult> {
      const ctx = Context.current();
      const strategies = deps.strategies;
      const assets = [...new Set(strategies.flatMap((s) => s.config.assets))].filter((a) => !input.assets || input.assets.includes(a));
      const first = Math.min(...input.asOfs);
      const last = Math.max(...input.asOfs);
      const historyFrom = first - config.historyDays * DAY_MS;
      const data = await loadMarketData(db, assets, historyFrom, last);
      const past: PastSignal[] = await pastStrategySignals(db, historyFrom, first);
      const lastAlert = new Map<string, number>();
      const result: EvaluateSignalsResult = {
        steps: 0, signals: 0, aggregated: 0, alerts: [], trades: [], strategyFailures: [], channels: deps.channels, strategies: strategies.map((s) => s.name),
      };

      for (const asOf of [...input.asOfs].sort((a, b) => a - b)) {
        const produced: TradingSignal[] = [];
        for (const strategy of strategies) {
          try {
            const signals = strategy.generateSignals(strategy.analyze(data, asOf)).filter((s) => assets.includes(s.asset));
            produced.push(...signals);
          } catch (err) {
            log.error('strategy failed; skipped', { strategy: strategy.name, asOf, error: (err as Error).message });
            result.strategyFailures.push({ strategy: strategy.name, asOf, error: (err as Error).message });
          }
        }
        result.signals += (await insertSignals(db, produced)).length;

        const records = () => trackRecord(past, data, asOf, horizonMs, config.historyDays * DAY_MS);
        const alerts: Alert[] = produced.filter((s) => s.strategyName === 'volatility_spike').map(volatilityAlert);
        const aggregated = [];
        for (const asset of assets) {
          const own = produced.filter((s) => s.asset === asset);
          const agg = aggregateAssetSignals(own, { regime: detectRegime(data, asset, asOf), records }, config.aggregation);
          if (!agg) continue;
          aggregated.push(agg);
          if (agg.confidence >= config.alerts.minConfidence) alerts.push(signalAlert(agg));
        }
        const newAggregates = await insertSignals(db, aggregated);
        result.aggregated += newAggregates.length;
        // Only a newly stored aggregate trades: a re-run of the same asOf starts no second saga.
        for (const row of newAggregates) {
          const agg = aggregated.find((a) => a.asset === row.asset)!;
          result.trades.push({ signalId: String(row.id), asset: agg.asset, signalType: agg.signalType, price: agg.price, confidence: agg.confidence, timestamp: agg.timestamp });
        }
        past.push(...produced);

        for (const alert of alerts) {
          const key = `${alert.type}|${alert.body.asset}|${alert.body.signal_type}`;
          const previous = lastAlert.get(key) ?? await lastAlertTime(db, alert.type, alert.body.asset, alert.body.signal_type, asOf - cooldownMs, asOf - 1);
          if (previous !== undefined && asOf - previous < cooldownMs) continue;
          lastAlert.set(key, asOf);
          const id = await insertAlert(db, alert);
          if (id !== undefined) result.alerts.push({ id, type: alert.type, asset: alert.body.asset, timestamp: asOf });
        }
        result.steps += 1;
        ctx.heartbeat(result.steps);
      }
      return result;
    },

    /** Delivers one stored alert on one channel; a channel already recorded as delivered is not sent again. */
    async deliverAlert(input: DeliverAlertInput): Promise<{ delivered: boolean; filePath?: string }> {
      const row = await getAlert(db, input.alertId);
      if (!row) throw ApplicationFailure.nonRetryable(`alert ${input.alertId} does not exist`, 'AlertNotFound');
      if (row.distributedChannels.includes(input.channel)) return { delivered: false };
      try {
        const filePath = await sendAlert(input.channel, {
          id: row.id, type: row.alertType as AlertType, asset: row.asset, timestamp: row.timestamp, body: row.alertData as Record<string, unknown>,
        }, { directory: deps.alertsDirectory, webhook: deps.webhook, discord: deps.discord, pool: deps.pool });
        await markDelivered(db, row.id, input.channel, filePath);
        return { delivered: true, filePath };
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
  };
}

export type SignalActivities = ReturnType<typeof createSignalActivities>;
