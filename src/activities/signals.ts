import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { SignalsConfig } from '../config/signals';
import { aggregateAssetSignals, detectRegime, type PastSignal, pooledRecord, type TrackRecords, trackRecord } from '../domain/aggregation';
import { type MarketAlert, signalAlert, volatilityAlert } from '../domain/alerts';
import type { TradingSignal } from '../domain/signals';
import type { Strategy } from '../domain/strategies/framework';
import { BAR_MINUTES, DAY_MS, DEFAULT_BAR, HOUR_MS, MINUTE_MS } from '../domain/types';
import type { Database } from '../db/client';
import { loadMarketDataBars } from '../db/market-series';
import { getAlert, insertAlert, insertSignals, lastAlertTime, markDelivered, pastStrategySignals } from '../db/signals';
import type { AlertType } from '../domain/alerts';
import type { DeliverAlertInput, EvaluateSignalsInput, EvaluateSignalsResult } from '../workflows/types';
import { type AlertChannel, sendAlert } from './alert-channels';
import { alertsDelivered, signalsGenerated } from '../metrics';
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

const pastKey = (x: { asset: string; strategyName: string; timestamp: number }) => `${x.asset}|${x.strategyName}|${x.timestamp}`;

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
      // Sorted by name: the order the backtest engine decides assets closing at the same time in.
      const assets = [...new Set(strategies.flatMap((s) => s.config.assets))].filter((a) => !input.assets || input.assets.includes(a))
        .sort((a, b) => a.localeCompare(b));
      const minutesOf = (s: Strategy) => BAR_MINUTES[s.config.bar ?? DEFAULT_BAR];
      const first = Math.min(...input.asOfs);
      const last = Math.max(...input.asOfs);
      const historyFrom = first - config.historyDays * DAY_MS;
      // Each strategy looks at bars of its own size; the regime at daily closes; track records at the shortest bar.
      const barSizes = [...new Set([...strategies.map(minutesOf), BAR_MINUTES['1d']])];
      const dataByBar = await loadMarketDataBars(db, assets, historyFrom, last, barSizes);
      const daily = dataByBar.get(BAR_MINUTES['1d'])!;
      const trackData = dataByBar.get(Math.min(...barSizes))!;
      const past: PastSignal[] = await pastStrategySignals(db, historyFrom, first);
      const seen = new Set(past.map(pastKey));
      const lastAlert = new Map<string, number>();
      const result: EvaluateSignalsResult = {
        steps: 0, signals: 0, aggregated: 0, alerts: [], trades: [], strategyFailures: [], channels: deps.channels, strategies: strategies.map((s) => s.name),
      };

      for (const asOf of [...input.asOfs].sort((a, b) => a - b)) {
        // A strategy decides when a bar of its size closes: at each run, on the latest such close. The
        // same close decided again (a later run inside the same bar) stores nothing new and trades nothing.
        const byDecisionTime = new Map<number, Strategy[]>();
        for (const strategy of strategies) {
          const barMs = minutesOf(strategy) * MINUTE_MS;
          const at = Math.floor(asOf / barMs) * barMs;
          byDecisionTime.set(at, [...(byDecisionTime.get(at) ?? []), strategy]);
        }
        for (const at of [...byDecisionTime.keys()].sort((a, b) => a - b)) {
          await decideAt(at, byDecisionTime.get(at)!);
        }
        result.steps += 1;
        ctx.heartbeat(result.steps);
      }
      return result;

      async function decideAt(at: number, deciding: Strategy[]) {
        const produced: TradingSignal[] = [];
        for (const strategy of deciding) {
          try {
            const signals = strategy.generateSignals(strategy.analyze(dataByBar.get(minutesOf(strategy))!, at)).filter((x) => assets.includes(x.asset));
            produced.push(...signals);
          } catch (err) {
            log.error('strategy failed; skipped', { strategy: strategy.name, asOf: at, error: (err as Error).message });
            result.strategyFailures.push({ strategy: strategy.name, asOf: at, error: (err as Error).message });
          }
        }
        const stored = await insertSignals(db, produced);
        for (const row of stored) signalsGenerated.inc({ strategy: row.strategyName, asset: row.asset });
        result.signals += stored.length;

        let scored: TrackRecords | undefined;
        const records = () => (scored ??= trackRecord(past, trackData, at, horizonMs, config.historyDays * DAY_MS));
        const alerts: MarketAlert[] = produced.filter((x) => x.strategyName === 'volatility_spike').map(volatilityAlert);
        const aggregated = [];
        // The regime as of the last completed day: a day still under way (a partial daily bar) is not yet a close, as in backtests.
        const regimeAsOf = Math.floor(at / DAY_MS) * DAY_MS;
        for (const asset of assets) {
          const own = produced.filter((x) => x.asset === asset);
          const agg = aggregateAssetSignals(own, { regime: detectRegime(daily, asset, regimeAsOf), records }, config.aggregation);
          if (!agg) continue;
          aggregated.push(agg);
          if (agg.confidence >= config.alerts.minConfidence) alerts.push(signalAlert(agg));
        }
        const newAggregates = await insertSignals(db, aggregated);
        for (const row of newAggregates) signalsGenerated.inc({ strategy: row.strategyName, asset: row.asset });
        result.aggregated += newAggregates.length;
        // Only a newly stored aggregate trades: a re-run of the same decision time starts no second saga.
        for (const agg of aggregated) {
          const row = newAggregates.find((r) => r.asset === agg.asset);
          if (!row) continue;
          result.trades.push({
            signalId: String(row.id), asset: agg.asset, signalType: agg.signalType, price: agg.price, confidence: agg.confidence, timestamp: agg.timestamp,
            trackRecord: pooledRecord(records(), agg.strategies),
          });
        }
        for (const x of produced) {
          if (seen.has(pastKey(x))) continue;
          seen.add(pastKey(x));
          past.push(x);
        }

        for (const alert of alerts) {
          const key = `${alert.type}|${alert.body.asset}|${alert.body.signal_type}`;
          const previous = lastAlert.get(key) ?? await lastAlertTime(db, alert.type, alert.body.asset, alert.body.signal_type, at - cooldownMs, at - 1);
          if (previous !== undefined && at - previous < cooldownMs) continue;
          lastAlert.set(key, at);
          const id = await insertAlert(db, alert);
          if (id !== undefined) result.alerts.push({ id, type: alert.type, asset: alert.body.asset, timestamp: at });
        }
      }
    },

    /** Delivers one stored alert on one channel; a channel already recorded as delivered is not sent again. */
    async deliverAlert(input: DeliverAlertInput): Promise<{ delivered: boolean; filePath?: string }> {
      const row = await getAlert(db, input.alertId);
      if (!row) throw ApplicationFailure.nonRetryable(`alert ${input.alertId} does not exist`, 'AlertNotFound');
      if (row.distributedChannels.includes(input.channel)) {
        alertsDelivered.inc({ channel: input.channel, outcome: 'skipped' });
        return { delivered: false };
      }
      try {
        const filePath = await sendAlert(input.channel, {
          id: row.id, type: row.alertType as AlertType, asset: row.asset, timestamp: row.timestamp, body: row.alertData as Record<string, unknown>,
        }, { directory: deps.alertsDirectory, webhook: deps.webhook, discord: deps.discord, pool: deps.pool });
        await markDelivered(db, row.id, input.channel, filePath);
        alertsDelivered.inc({ channel: input.channel, outcome: 'delivered' });
        return { delivered: true, filePath };
      } catch (err) {
        alertsDelivered.inc({ channel: input.channel, outcome: 'failed' });
        throw toActivityFailure(err);
      }
    },
  };
}

export type SignalActivities = ReturnType<typeof createSignalActivities>;
