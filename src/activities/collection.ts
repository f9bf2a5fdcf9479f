import { Context } from '@temporalio/activity';
import { gapRanges, missingBarTimes, validateCandles } from '../domain/candles';
import { fillMacroGaps } from '../domain/macro';
import { DAY_MS, isoDate, MINUTE_MS } from '../domain/types';
import type { Database } from '../db/client';
import { recordCollectionOutcome } from '../db/collection-runs';
import { type CallLimit, finishProviderCall, takeProviderCall } from '../db/provider-calls';
import { lastMacroValueBefore, storedBarTimes, upsertCandles, upsertMacro } from '../db/market-data';
import { collectionRuns, providerCalls } from '../metrics';
import { ProviderError } from '../providers/errors';
import { toActivityFailure } from './failures';
import type { CryptoDataSource, MacroDataSource } from '../providers/types';
import type { AssetBackfillProgress, BackfillAssetInput, CollectionTarget, CollectAssetResult } from '../workflows/types';

export interface CollectionDeps {
  db: Database;
  crypto: CryptoDataSource;
  macro: MacroDataSource;
  clock?: () => number;
  /** Tells the backfill workflow how far an asset has got (a signal), so its progress query can answer. */
  reportBackfillProgress?: (workflowId: string, progress: AssetBackfillProgress) => Promise<void>;
  /** Provider (source name) → its cap on calls: held per call, across every worker (src/db/provider-calls.ts). */
  callLimits?: Record<string, CallLimit>;
}

/** How far back each live collection looks: the complete bars of the last day, so missed runs heal themselves. */
const CRYPTO_LOOKBACK_MS = DAY_MS;
const MACRO_LOOKBACK_DAYS = 14;
const MACRO_CHUNK_DAYS = 366;

export function createCollectionActivities(deps: CollectionDeps) {
  const { db, crypto, macro } = deps;
  const now = deps.clock ?? Date.now;

  /**
   * Waits for room under the provider's cap before a call. While it waits the activity heartbeats
   * (`keepAlive`: a backfill re-sends its checkpoint) and a cancellation ends the wait.
   */
  async function providerCall<T>(provider: string, keepAlive: () => void | Promise<void>, call: () => Promise<T>): Promise<T> {
    const limit = deps.callLimits?.[provider];
    if (!limit) return call();
    let taken = await takeProviderCall(db, provider, limit);
    while ('waitMs' in taken) {
      await keepAlive();
      await Context.current().sleep(Math.min(taken.waitMs, 5_000));
      taken = await takeProviderCall(db, provider, limit);
    }
    try {
      return await call();
    } finally {
      await finishProviderCall(db, taken.id);
    }
  }
  const heartbeat = () => Context.current().heartbeat();

  async function fetchAndStoreCandles(target: CollectionTarget, from: number, to: number, keepAlive: () => void | Promise<void> = heartbeat) {
    const intervalMs = target.intervalMinutes * MINUTE_MS;
    const batch = await providerCall(crypto.name, keepAlive, () => crypto.fetchCandles(target.asset, intervalMs, from, to));
    validateCandles(batch.candles, `${crypto.name} ${target.asset}`);
    const rowsWritten = await upsertCandles(db, target.asset, target.intervalMinutes, crypto.name, batch.candles);
    return { rowsWritten, calls: batch.calls, bars: batch.candles.length };
  }

  async function fetchAndStoreMacro(indicator: string, fromDate: string, toDate: string, keepAlive: () => void | Promise<void> = heartbeat) {
    const { observations, calls } = await providerCall(macro.name, keepAlive, () => macro.fetchObservations(indicator, fromDate, toDate));
    const previous = await lastMacroValueBefore(db, indicator, fromDate);
    const filled = fillMacroGaps(indicator, observations, previous);
    const rowsWritten = await upsertMacro(db, indicator, macro.name, filled);
    return { rowsWritten, calls };
  }

  /** Runs `work`, recording the outcome in collection_runs whether it succeeds or not. */
  async function recorded<T extends { rowsWritten: number; calls: number }>(target: CollectionTarget, work: () => Promise<T>): Promise<T> {
    const source = target.kind === 'crypto' ? crypto.name : macro.name;
    const at = new Date(now());
    try {
      const result = await work();
      providerCalls.inc({ provider: source }, result.calls);
      collectionRuns.inc({ tier: target.tier, outcome: 'ok' });
      await recordCollectionOutcome(db, { tier: target.tier, asset: target.asset, source, calls: result.calls, at, rowsWritten: result.rowsWritten });
      return result;
    } catch (err) {
      const calls = err instanceof ProviderError ? 1 : 0;
      providerCalls.inc({ provider: source }, calls);
      collectionRuns.inc({ tier: target.tier, outcome: 'failed' });
      await recordCollectionOutcome(db, { tier: target.tier, asset: target.asset, source, calls, at, error: (err as Error).message });
      throw toActivityFailure(err);
    }
  }

  return {
    /** Collects the latest complete bars (or observations) of one asset and upserts them. */
    async collectAsset(target: CollectionTarget): Promise<CollectAssetResult> {
      const t = now();
      const result = await recorded(target, () => {
        if (target.kind === 'macro') {
          return fetchAndStoreMacro(target.asset, isoDate(t - MACRO_LOOKBACK_DAYS * DAY_MS), isoDate(t));
        }
        const intervalMs = target.intervalMinutes * MINUTE_MS;
        const from = Math.ceil((t - CRYPTO_LOOKBACK_MS) / intervalMs) * intervalMs;
        return fetchAndStoreCandles(target, from, Math.floor(t / intervalMs) * intervalMs);
      });
      return { asset: target.asset, rowsWritten: result.rowsWritten, calls: result.calls };
    },

    /**
     * Fills the gaps of one asset over [from, to) in chunks no larger than one provider call serves.
     * After each chunk it heartbeats its checkpoint; a retry on another worker starts from there.
     */
    async backfillAsset(input: BackfillAssetInput): Promise<AssetBackfillProgress> {
      const ctx = Context.current();
      const checkpoint = ctx.info.heartbeatDetails as AssetBackfillProgress | undefined;
      const end = Math.min(input.to, now());
      const intervalMs = input.intervalMinutes * MINUTE_MS;
      const start = checkpoint?.resumeFrom ?? input.from;

      let chunks: Array<{ from: number; to: number }>;
      if (input.kind === 'macro') {
        chunks = [];
        for (let f = start; f < end; f += MACRO_CHUNK_DAYS * DAY_MS) chunks.push({ from: f, to: Math.min(end, f + MACRO_CHUNK_DAYS * DAY_MS) });
      } else {
        const alignedEnd = Math.floor(end / intervalMs) * intervalMs;
        const present = await storedBarTimes(db, input.asset, input.intervalMinutes, start, alignedEnd);
        chunks = gapRanges(missingBarTimes(present, start, alignedEnd, intervalMs), intervalMs, crypto.maxRangeMs(intervalMs));
      }

      const progress: AssetBackfillProgress = {
        asset: input.asset,
        chunksDone: checkpoint?.chunksDone ?? 0,
        chunksTotal: (checkpoint?.chunksDone ?? 0) + chunks.length,
        rowsWritten: checkpoint?.rowsWritten ?? 0,
        resumeFrom: start,
        resumedFromCheckpoint: checkpoint !== undefined,
      };
      const report = async () => {
        ctx.heartbeat(progress);
        const workflowId = ctx.info.workflowExecution?.workflowId;
        if (workflowId) await deps.reportBackfillProgress?.(workflowId, progress);
      };
      await report();

      for (const chunk of chunks) {
        const result = await recorded(input, () =>
          input.kind === 'macro'
            ? fetchAndStoreMacro(input.asset, isoDate(chunk.from), isoDate(chunk.to - 1), report)
            : fetchAndStoreCandles(input, chunk.from, chunk.to, report));
        progress.chunksDone += 1;
        progress.rowsWritten += result.rowsWritten;
        progress.resumeFrom = chunk.to;
        await report();
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      }
      return progress;
    },
  };
}

export type CollectionActivities = ReturnType<typeof createCollectionActivities>;
