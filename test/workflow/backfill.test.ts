import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cryptoOhlcv } from '../../src/db/schema';
import { simulatedSources } from '../../src/providers/simulated';
import type { CryptoDataSource } from '../../src/providers/types';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { backfillProgressQuery, backfillWorkflow } from '../../src/workflows/collection';
import { clearMarketData, testDatabase } from '../support/db';
import { spawnWorkerProcess } from '../support/processes';
import { connectTemporal, marketDataWorkers, pipelineWorker, progressReporter, type TemporalKit, testSignalDeps, withWorkers } from '../support/temporal';

const DAY = 86_400_000;
const handle = testDatabase();
let kit: TemporalKit;

beforeAll(async () => {
  kit = await connectTemporal();
});
afterAll(async () => {
  await Promise.all([kit.close(), handle.close()]);
});
beforeEach(() => clearMarketData(handle));

const from = Date.UTC(2025, 0, 1);
const to = from + 300 * DAY;
const hourly = { tier: 'hourly', asset: 'solana', kind: 'crypto' as const, intervalMinutes: 60 };

/** The simulated source, recording the start of every range it is asked for. */
function recordingSource(calls: number[]): CryptoDataSource {
  const inner = simulatedSources(9).crypto;
  return { ...inner, fetchCandles: (asset, interval, f, t) => { calls.push(f); return inner.fetchCandles(asset, interval, f, t); } };
}

async function storedBars(asset: string) {
  const [row] = await handle.db.select({ n: sql<number>`count(*)::int`, distinct: sql<number>`count(distinct ${cryptoOhlcv.timestamp})::int` })
    .from(cryptoOhlcv).where(eq(cryptoOhlcv.asset, asset));
  return row;
}

describe('backfillWorkflow', () => {
  it('ends CANCELLED, not FAILED, when its caller cancels it', async () => {
    // A slow provider: each 30-day chunk takes 300 ms, so the run is still going when cancelled.
    const inner = simulatedSources(9).crypto;
    const slow: CryptoDataSource = { ...inner, fetchCandles: async (...args) => { await new Promise((r) => setTimeout(r, 300)); return inner.fetchCandles(...args); } };
    const deps = { db: handle.db, crypto: slow, macro: simulatedSources(9).macro, reportBackfillProgress: progressReporter(kit.client) };
    const workers = [await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, deps)];
    const description = await withWorkers(workers, async () => {
      const run = await kit.client.workflow.start(backfillWorkflow, {
        workflowId: `test-backfill-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline, args: [{ targets: [hourly], from, to, heartbeatTimeoutMs: 2000 }],
      });
      await new Promise((r) => setTimeout(r, 800));
      await run.cancel();
      await run.result().catch(() => undefined);
      return run.describe();
    });
    expect(description.status.name).toBe('CANCELLED');
  });

  it('fills only the gaps, in chunks, and reports progress', async () => {
    const calls: number[] = [];
    const deps = { db: handle.db, crypto: recordingSource(calls), macro: simulatedSources(9).macro, reportBackfillProgress: progressReporter(kit.client) };
    const workers = [await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, deps)];
    const result = await withWorkers(workers, async () => {
      const first = await kit.client.workflow.execute(backfillWorkflow, {
        workflowId: `test-backfill-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline, args: [{ targets: [hourly], from: from + 10 * DAY, to: from + 20 * DAY }],
      });
      expect(first).toMatchObject({ chunksDone: 1, chunksTotal: 1, rowsWritten: 240 });
      calls.length = 0;
      return kit.client.workflow.execute(backfillWorkflow, {
        workflowId: `test-backfill-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline, args: [{ targets: [hourly], from, to: from + 40 * DAY }],
      });
    });
    // Two gaps around the 10 stored days: 10 days before, 20 days after; each fits one 30-day chunk.
    expect(calls).toEqual([from, from + 20 * DAY]);
    expect(result).toMatchObject({ chunksDone: 2, chunksTotal: 2, rowsWritten: 30 * 24 });
    expect(await storedBars('solana')).toEqual({ n: 40 * 24, distinct: 40 * 24 });
  });

  it('resumes from its heartbeat checkpoint after its worker is killed mid-way', async () => {
    const pipeline = await pipelineWorker(kit, testSignalDeps(handle));
    const pipelineRun = pipeline.run();
    let child: ChildProcess | undefined;
    try {
      child = await spawnWorkerProcess('backfill-worker.ts', { SIM_SEED: '9', SIM_LATENCY_MS: '400' });
      const run = await kit.client.workflow.start(backfillWorkflow, {
        workflowId: `test-backfill-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
        args: [{ targets: [hourly], from, to, heartbeatTimeoutMs: 2000 }],
      });
      let progress = await run.query(backfillProgressQuery);
      while (progress.chunksDone < 4) {
        await new Promise((r) => setTimeout(r, 100));
        progress = await run.query(backfillProgressQuery);
      }
      expect(progress.chunksTotal).toBe(10);
      child.kill('SIGKILL');
      const doneBeforeKill = progress.chunksDone;

      const calls: number[] = [];
      const deps = { db: handle.db, crypto: recordingSource(calls), macro: simulatedSources(9).macro, reportBackfillProgress: progressReporter(kit.client) };
      const result = await withWorkers(await marketDataWorkers(kit, deps), () => run.result());

      const resumedAt = calls[0];
      expect(resumedAt).toBeGreaterThan(from);
      // The checkpoint can trail the last finished chunk by the heartbeat throttle, never lead it.
      expect(resumedAt).toBeLessThanOrEqual(from + doneBeforeKill * 30 * DAY);
      // After resuming, gaps are found again from the checkpoint: chunks the killed worker finished after
      // its last recorded heartbeat are already stored and are not planned again.
      const asset = result.assets[0];
      expect(asset.resumedFromCheckpoint).toBe(true);
      expect(asset.chunksDone).toBe(asset.chunksTotal);
      expect(asset.chunksTotal).toBeLessThanOrEqual(10);
      // Every bar stored exactly once across both workers.
      expect(await storedBars('solana')).toEqual({ n: 300 * 24, distinct: 300 * 24 });
      expect(calls.every((c) => c >= resumedAt)).toBe(true);
    } finally {
      child?.kill('SIGKILL');
      pipeline.shutdown();
      await pipelineRun;
    }
  });
});
