import { type CollectionConfig, tierKindOf } from '../config/collection';
import type { Database } from '../db/client';
import { listCollectionRuns, newestDataTimes, recordHealthChange } from '../db/collection-runs';
import { collectionHealth } from '../domain/collection-health';
import type { DeliverAlertInput, NewAlert } from '../workflows/types';

export interface HealthDeps {
  db: Database;
  collection: CollectionConfig;
  /** The channels health alerts go out on: the signal alerts' channels. */
  channels: Array<DeliverAlertInput['channel']>;
  clock?: () => number;
}

export function createHealthActivities(deps: HealthDeps) {
  const now = deps.clock ?? Date.now;
  return {
    /**
     * Applies the seed's data health rules to every collected tier and asset; a change of state opens
     * or closes an incident and stores its one alert. Returns the new alerts for delivery.
     */
    async checkDataHealth(): Promise<{ alerts: NewAlert[]; channels: HealthDeps['channels']; unhealthy: number }> {
      const t = now();
      const alerts: NewAlert[] = [];
      const [runs, newest] = await Promise.all([listCollectionRuns(deps.db), newestDataTimes(deps.db)]);
      const health = collectionHealth(runs, newest, { now: t, rules: deps.collection.health, kindOf: tierKindOf(deps.collection) });
      for (const { run, reasons } of health) {
        const unhealthy = reasons.length > 0;
        if (unhealthy === (run.unhealthySince !== null)) continue;
        const id = await recordHealthChange(deps.db, {
          timestamp: t, asset: run.asset, tier: run.tier, status: unhealthy ? 'unhealthy' : 'recovered', reasons, alert_type: 'data_health',
        });
        if (id !== undefined) alerts.push({ id, type: 'data_health', asset: run.asset, timestamp: t });
      }
      return { alerts, channels: deps.channels, unhealthy: health.filter((h) => h.reasons.length).length };
    },
  };
}

export type HealthActivities = ReturnType<typeof createHealthActivities>;
