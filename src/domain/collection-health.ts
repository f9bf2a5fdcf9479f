import { isoDate } from './types';

/**
 * The seed's data health rules for one tier and asset: too many failures in a row, data too old, too
 * many failed attempts today. Pure: the status API, /ready and the health check all call this.
 */
export interface HealthRules {
  maxConsecutiveFailures: number;
  /** Crypto bars older than this (hours, from the newest bar's close) are stale: the seed's 25. */
  maxCryptoDataAgeHours: number;
  /** Macro series publish on working days with a lag: a weekend must not read as an incident. */
  maxMacroDataAgeHours: number;
  /** Failed attempts over attempts today (UTC) above this: the seed's 10%. */
  maxDailyErrorRate: number;
  checkEveryMinutes: number;
}

export interface CollectionRecord {
  kind: 'crypto' | 'macro';
  consecutiveFailures: number;
  attemptsToday: number;
  failuresToday: number;
  /** The newest stored observation's time (a bar's close, a macro value's date end); null when nothing is stored. */
  newestDataAt: number | null;
}

export function healthReasons(r: CollectionRecord, now: number, rules: HealthRules): string[] {
  const reasons: string[] = [];
  if (r.consecutiveFailures >= rules.maxConsecutiveFailures) reasons.push(`${r.consecutiveFailures} consecutive failures (limit ${rules.maxConsecutiveFailures})`);
  const maxAgeHours = r.kind === 'crypto' ? rules.maxCryptoDataAgeHours : rules.maxMacroDataAgeHours;
  if (r.newestDataAt === null) reasons.push('no data stored yet');
  else if (now - r.newestDataAt > maxAgeHours * 3_600_000) reasons.push(`newest data is ${((now - r.newestDataAt) / 3_600_000).toFixed(1)} hours old (limit ${maxAgeHours})`);
  // Compared as counts, so exactly 10% is not over the limit however the fraction rounds.
  if (r.attemptsToday > 0 && r.failuresToday > rules.maxDailyErrorRate * r.attemptsToday) {
    reasons.push(`${r.failuresToday} of ${r.attemptsToday} attempts failed today (limit ${(rules.maxDailyErrorRate * 100).toFixed(0)}%)`);
  }
  return reasons;
}

/** A collection run as stored: its failure streak and the day its daily counts belong to. */
export interface CollectionRunCounts {
  tier: string;
  asset: string;
  consecutiveFailures: number;
  /** The UTC day (YYYY-MM-DD) the attempt and failure counts are for. */
  callsDay: string | null;
  attemptsToday: number;
  failuresToday: number;
}

/**
 * Each run with the rules applied at `now`: whether its daily counts are today's, its newest data,
 * and why it is unhealthy (none: healthy).
 */
export function collectionHealth<R extends CollectionRunCounts>(runs: R[], newest: Map<string, number>, opts: {
  now: number; rules: HealthRules; kindOf: (tier: string) => CollectionRecord['kind'];
}) {
  const today = isoDate(opts.now);
  return runs.map((run) => {
    const counted = run.callsDay === today;
    const newestDataAt = newest.get(run.asset) ?? null;
    const reasons = healthReasons({
      kind: opts.kindOf(run.tier), consecutiveFailures: run.consecutiveFailures,
      attemptsToday: counted ? run.attemptsToday : 0, failuresToday: counted ? run.failuresToday : 0, newestDataAt,
    }, opts.now, opts.rules);
    return { run, counted, newestDataAt, reasons };
  });
}
