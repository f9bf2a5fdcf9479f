import { describe, expect, it } from 'vitest';
import { loadCollectionConfig } from '../../src/config/collection';
import { healthReasons } from '../../src/domain/collection-health';

const rules = loadCollectionConfig().health;
const HOUR = 3_600_000;
const now = Date.UTC(2026, 5, 1, 12);
const healthy = { kind: 'crypto' as const, consecutiveFailures: 0, attemptsToday: 10, failuresToday: 0, newestDataAt: now - HOUR };

describe('the seed\'s data health rules, at their boundaries', () => {
  it('ships the seed\'s thresholds', () => {
    expect(rules).toMatchObject({ maxConsecutiveFailures: 3, maxCryptoDataAgeHours: 25, maxDailyErrorRate: 0.1 });
  });

  it('three failures in a row', () => {
    expect(healthReasons({ ...healthy, consecutiveFailures: 2 }, now, rules)).toEqual([]);
    expect(healthReasons({ ...healthy, consecutiveFailures: 3 }, now, rules)).toEqual(['3 consecutive failures (limit 3)']);
  });

  it('data older than 25 hours (crypto); macro series get their weekends', () => {
    expect(healthReasons({ ...healthy, newestDataAt: now - 25 * HOUR }, now, rules)).toEqual([]);
    expect(healthReasons({ ...healthy, newestDataAt: now - 25 * HOUR - 60_000 }, now, rules)).toEqual(['newest data is 25.0 hours old (limit 25)']);
    expect(healthReasons({ ...healthy, kind: 'macro', newestDataAt: now - 72 * HOUR }, now, rules)).toEqual([]);
    expect(healthReasons({ ...healthy, kind: 'macro', newestDataAt: now - 97 * HOUR }, now, rules)).toEqual(['newest data is 97.0 hours old (limit 96)']);
    expect(healthReasons({ ...healthy, newestDataAt: null }, now, rules)).toEqual(['no data stored yet']);
  });

  it('more than 10% of today\'s attempts failed: exactly 10% is still healthy', () => {
    expect(healthReasons({ ...healthy, attemptsToday: 10, failuresToday: 1 }, now, rules)).toEqual([]);
    expect(healthReasons({ ...healthy, attemptsToday: 10, failuresToday: 2 }, now, rules)).toEqual(['2 of 10 attempts failed today (limit 10%)']);
    expect(healthReasons({ ...healthy, attemptsToday: 0, failuresToday: 0 }, now, rules)).toEqual([]);
  });
});
