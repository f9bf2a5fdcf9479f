import { describe, expect, it } from 'vitest';
import { loadCollectionConfig, parseCollectionConfig } from '../../src/config/collection';
import { dailyBudget, dailyCallsForTier } from '../../src/domain/budget';

describe('daily API budget', () => {
  it('gives the seed figures for the shipped tiers: 393 calls against a 2,880 baseline', () => {
    const config = loadCollectionConfig();
    const budget = dailyBudget(config.tiers, config.baseline);
    expect(budget.byTier).toEqual({ high_frequency: 192, hourly: 192, macro: 9 });
    expect(budget.estimatedDailyCalls).toBe(393);
    expect(budget.baselineDailyCalls).toBe(2880);
    expect(budget.reductionPercent).toBe(86.4);
  });

  it('rounds partial collections up', () => {
    expect(dailyCallsForTier({ intervalMinutes: 7, assets: ['a', 'b'] })).toBe(2 * 206);
  });

  it('rejects a config with a bad tier, naming the field', () => {
    expect(() => parseCollectionConfig({
      tiers: { hourly: { intervalMinutes: 0, kind: 'crypto', assets: ['x'] } }, baseline: { intervalMinutes: 5, coins: 10 }, catchupWindowMinutes: 60,
    }, 'collection.json')).toThrow(/collection.json: tiers.hourly.intervalMinutes/);
  });
});
