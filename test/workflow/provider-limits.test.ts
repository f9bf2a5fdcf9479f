import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { backfillWorkflow } from '../../src/workflows/collection';
import { spawnWorkerProcess } from '../support/processes';
import { pipelineWorker, testSignalDeps, withWorkers, workflowTestContext } from '../support/temporal';

const ctx = workflowTestContext();
const DAY = 86_400_000;
const spawned: Array<{ kill(signal: NodeJS.Signals): boolean }> = [];
afterAll(() => { for (const p of spawned) p.kill('SIGKILL'); });

describe('provider call limits', () => {
  it('hold for every call, whatever the mix of backfills, across two worker processes', async () => {
    // Two market-data worker processes, each with a counting provider under CoinGecko's name: each
    // chunk of a backfill is one call, printed as it is made. The cap lives in Postgres, not in either.
    const limit = { calls: 3, windowMs: 2_000 };
    const calls: number[] = [];
    for (let k = 0; k < 2; k++) {
      const child = await spawnWorkerProcess('backfill-worker.ts', {
        SIM_SEED: '5', SIM_LATENCY_MS: '0', PROVIDER_NAME: 'coingecko', CALL_LIMIT: String(limit.calls), CALL_WINDOW_MS: String(limit.windowMs),
      });
      spawned.push(child);
      child.stdout!.on('data', (d: Buffer) => { for (const m of d.toString().matchAll(/call (\d+)/g)) calls.push(Number(m[1])); });
    }
    const from = Date.UTC(2025, 0, 1);
    // 45 days of hourly bars are two 30-day chunks: two backfills × three coins × two chunks = 12 calls.
    const backfill = (assets: string[]) => ctx.kit.client.workflow.execute(backfillWorkflow, {
      workflowId: `test-limits-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
      args: [{ targets: assets.map((asset) => ({ tier: 'hourly', asset, kind: 'crypto' as const, intervalMinutes: 60 })), from, to: from + 45 * DAY }],
    });
    await withWorkers([await pipelineWorker(ctx.kit, testSignalDeps(ctx.handle))], () =>
      Promise.all([backfill(['bitcoin', 'ethereum', 'solana']), backfill(['ripple', 'cardano', 'polkadot'])]));

    expect(calls).toHaveLength(12);
    calls.sort((a, b) => a - b);
    // In any 2 s window at most 3 calls start (the 4th after a window's first starts at least 2 s later;
    // a few ms for the two clocks), and the cap is used, not just calls in a row.
    for (let i = 0; i + limit.calls < calls.length; i++) expect(calls[i + limit.calls] - calls[i]).toBeGreaterThanOrEqual(limit.windowMs - 20);
    expect(calls.some((t, i) => i + 2 < calls.length && calls[i + 2] - t < limit.windowMs / 2)).toBe(true);
  }, 120_000);
});
