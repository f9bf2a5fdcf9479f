import { z } from 'zod';
import type { HealthRules } from '../domain/collection-health';
import type { Tier } from '../domain/types';
import { parseConfig, readJsonFile } from './files';
import { fromRoot } from '../paths';

const tierSchema = z.object({
  description: z.string().optional(),
  intervalMinutes: z.number().int().positive(),
  kind: z.enum(['crypto', 'macro']),
  assets: z.array(z.string().min(1)).min(1),
});

const collectionSchema = z.object({
  tiers: z.record(z.string().regex(/^[a-z0-9_]+$/, 'tier names are lower-case letters, digits and _'), tierSchema),
  baseline: z.object({ intervalMinutes: z.number().int().positive(), coins: z.number().int().nonnegative() }),
  catchupWindowMinutes: z.number().int().positive(),
  health: z.object({
    description: z.string().optional(),
    maxConsecutiveFailures: z.number().int().positive(),
    maxCryptoDataAgeHours: z.number().positive(),
    maxMacroDataAgeHours: z.number().positive(),
    maxDailyErrorRate: z.number().min(0).max(1),
    checkEveryMinutes: z.number().int().positive(),
  }),
});

export interface CollectionConfig {
  tiers: Tier[];
  baseline: { intervalMinutes: number; coins: number };
  catchupWindowMinutes: number;
  health: HealthRules;
}

export const defaultCollectionConfigPath = fromRoot('config', 'collection.json');

export function parseCollectionConfig(raw: unknown, origin: string): CollectionConfig {
  const { tiers, baseline, catchupWindowMinutes, health: { description: _d, ...health } } = parseConfig(collectionSchema, raw, origin);
  return {
    tiers: Object.entries(tiers).map(([name, t]) => ({ name, ...t })),
    baseline,
    catchupWindowMinutes,
    health,
  };
}

export function loadCollectionConfig(path = defaultCollectionConfigPath): CollectionConfig {
  return parseCollectionConfig(readJsonFile(path), path);
}

export function findTier(config: CollectionConfig, name: string): Tier | undefined {
  return config.tiers.find((t) => t.name === name);
}

/** Tier name → its kind (a tier no longer configured counts as crypto). */
export const tierKindOf = (config: CollectionConfig) => (tier: string) => findTier(config, tier)?.kind ?? 'crypto';
