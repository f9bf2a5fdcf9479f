import type { CollectionConfig } from '../config/collection';
import type { CollectionTarget } from '../workflows/types';

export class UnknownTargetError extends Error {}

export function tierTargets(config: CollectionConfig, tierName: string): CollectionTarget[] {
  const tier = config.tiers.find((t) => t.name === tierName);
  if (!tier) throw new UnknownTargetError(`unknown tier "${tierName}" (known: ${config.tiers.map((t) => t.name).join(', ')})`);
  return tier.assets.map((asset) => ({ tier: tier.name, asset, kind: tier.kind, intervalMinutes: tier.intervalMinutes }));
}

/** Resolves assets to their tier's settings; every asset must be in config/collection.json. */
export function assetTargets(config: CollectionConfig, assets: string[]): CollectionTarget[] {
  return assets.map((asset) => {
    const tier = config.tiers.find((t) => t.assets.includes(asset));
    if (!tier) throw new UnknownTargetError(`asset "${asset}" is in no tier of config/collection.json`);
    return { tier: tier.name, asset, kind: tier.kind, intervalMinutes: tier.intervalMinutes };
  });
}
