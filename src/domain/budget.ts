import { DAY_MS, MINUTE_MS, type Tier } from './types';

/** One provider call per asset per collection, so a tier costs assets × collections a day. */
export function dailyCallsForTier(tier: Pick<Tier, 'intervalMinutes' | 'assets'>): number {
  return tier.assets.length * Math.ceil(DAY_MS / (tier.intervalMinutes * MINUTE_MS));
}

export interface DailyBudget {
  estimatedDailyCalls: number;
  byTier: Record<string, number>;
  baselineDailyCalls: number;
  reductionPercent: number;
}

/** The seed's arithmetic: its tiers cost 2×96 + 8×24 + 9×1 = 393 calls a day against 10 coins × 288 = 2,880. */
export function dailyBudget(tiers: Tier[], baseline: { intervalMinutes: number; coins: number }): DailyBudget {
  const byTier = Object.fromEntries(tiers.map((t) => [t.name, dailyCallsForTier(t)]));
  const estimatedDailyCalls = Object.values(byTier).reduce((a, b) => a + b, 0);
  const baselineDailyCalls = baseline.coins * Math.ceil(DAY_MS / (baseline.intervalMinutes * MINUTE_MS));
  const reductionPercent = baselineDailyCalls === 0 ? 0 : Math.round((1 - estimatedDailyCalls / baselineDailyCalls) * 1000) / 10;
  return { estimatedDailyCalls, byTier, baselineDailyCalls, reductionPercent };
}
