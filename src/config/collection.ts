import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Tier } from '../domain/types';

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
});

export interface CollectionConfig {
  tiers: Tier[];
  baseline: { intervalMinutes: number; coins: number };
  catchupWindowMinutes: number;
}

export const defaultCollectionConfigPath = fileURLToPath(new URL('../../config/collection.json', import.meta.url));

export function parseCollectionConfig(raw: unknown, origin: string): CollectionConfig {
  const parsed = collectionSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${origin}: ${problems.join('; ')}`);
  }
  const { tiers, baseline, catchupWindowMinutes } = parsed.data;
  return {
    tiers: Object.entries(tiers).map(([name, t]) => ({ name, ...t })),
    baseline,
    catchupWindowMinutes,
  };
}

export function loadCollectionConfig(path = defaultCollectionConfigPath): CollectionConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  return parseCollectionConfig(raw, path);
}

export function findTier(config: CollectionConfig, name: string): Tier | undefined {
  return config.tiers.find((t) => t.name === name);
}
