/**
 * The work budget of every request, stated in one place. A request above a bound is refused at the
 * edge with a 400 naming the field and the bound, never started as a runaway workflow; inputs are
 * held to plausible ranges so nothing non-finite is ever stored.
 */
import { z } from 'zod';
import { STRATEGY_DEFINITIONS } from '../domain/strategies';
import { isoDate } from '../domain/types';

const DAY_MS = 86_400_000;

export const LIMITS = {
  /** No market data exists before bitcoin's first block; nothing is scheduled past 2100. */
  earliestTime: Date.UTC(2009, 0, 3),
  latestTime: Date.UTC(2100, 0, 1),
  /** Asset, indicator and strategy names. */
  nameLength: 64,
  /** Decision times one signal-generation request may cover. */
  signalSteps: 20_000,
  /** Days one backfill request may cover (per asset; the provider's calls follow from it). */
  backfillDays: 3_660,
  /** Assets per request. */
  assets: 50,
  /** Bars one backtest may replay: (to − from) / bar × assets. */
  backtestBars: 20_000_000,
  /** Child backtests a sweep or walk-forward may start: combinations (× folds, + folds). */
  childBacktests: 500,
  /** Starting capital of a backtest, USD. */
  maxCapital: 1e12,
  /** Prices a posted signal may quote, USD. */
  maxPrice: 1e9,
  /** Candle intervals one may ask for, minutes (up to a week). */
  maxIntervalMinutes: 10_080,
  /** Concurrent SSE streams per API key. */
  streamsPerKey: 10,
} as const;

const inRange = (t: number) => t >= LIMITS.earliestTime && t <= LIMITS.latestTime;
const RANGE_MESSAGE = `must lie between ${isoDate(LIMITS.earliestTime)} and ${isoDate(LIMITS.latestTime)}`;

/** A time as epoch milliseconds (a number or a numeric query string), an ISO date or an ISO date-time, within the plausible range. */
export const instant = z.union([
  z.coerce.number().int(),
  z.string().datetime({ offset: true }).transform((s) => Date.parse(s)),
  z.string().date().transform((s) => Date.parse(`${s}T00:00:00Z`)),
], { error: 'must be epoch milliseconds, an ISO date or an ISO date-time' })
  .refine(inRange, { message: RANGE_MESSAGE });

export const assetName = z.string().min(1).max(LIMITS.nameLength, `at most ${LIMITS.nameLength} characters`)
  .regex(/^[\w.-]+$/, 'letters, digits, ".", "_" and "-" only');

export const assetList = z.array(assetName).min(1).max(LIMITS.assets, `at most ${LIMITS.assets} assets`);

/** A shipped strategy, looked up as an own property (so "constructor" or "__proto__" are not strategies). */
export const strategyName = z.string().max(LIMITS.nameLength).refine((s) => Object.hasOwn(STRATEGY_DEFINITIONS, s), {
  message: `must be one of ${Object.keys(STRATEGY_DEFINITIONS).join(', ')}`,
});

export const days = (ms: number) => ms / DAY_MS;
