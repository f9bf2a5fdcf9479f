import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collectionRuns, cryptoOhlcv, macroIndicators, positions } from '../../src/db/schema';
import { ensurePortfolio } from '../../src/db/trading';
import { SimulatedMarket } from '../../src/domain/simulated-market';
import { coingeckoSource } from '../../src/providers/coingecko';
import { fredSource } from '../../src/providers/fred';
import { simulatedSources } from '../../src/providers/simulated';
import { retryRun } from '../../src/services/runs';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { collectTierWorkflow } from '../../src/workflows/collection';
import { protectPositionsWorkflow } from '../../src/workflows/trading';
import type { CollectionTarget } from '../../src/workflows/types';
import { clearMarketData, testDatabase } from '../support/db';
import { FakeHttpServer } from '../support/fake-http';
import { fredBody, marketChartBody } from '../support/providers';
import { startTestApi } from '../support/api';
import {
  connectTemporal, marketDataWorkers, pipelineWorker, type TemporalKit, testSignalDeps, tradingDeps, tradingWorker, withWorkers,
} from '../support/temporal';

const NOW = Date.UTC(2026, 10, 24, 12, 7);
const M15 = 15 * 60_000;
const handle = testDatabase();
const server = new FakeHttpServer();
let kit: TemporalKit;
let base = '';

beforeAll(async () => {
  kit = await connectTemporal();
  base = await server.start();
});
afterAll(async () => {
  await Promise.all([kit.close(), handle.close(), server.stop()]);
});
beforeEach(async () => {
  server.reset();
  await clearMarketData(handle);
});

const target = (asset: string, kind: 'crypto' | 'macro' = 'crypto', intervalMinutes = 15): CollectionTarget =>
  ({ tier: kind === 'macro' ? 'macro' : 'high_frequency', asset, kind, intervalMinutes });

function liveDeps() {
  return {
    db: handle.db,
    crypto: coingeckoSource({ plan: 'demo', apiKey: 'k', baseURL: `${base}/api/v3`, clock: () => NOW }),
    macro: fredSource({ apiKey: 'k', baseURL: base }),
    clock: () => NOW,
  };
}

/** CoinGecko answering every coin with a gently rising price. */
function serveMarketCharts() {
  server.on((_req, url) => {
    const m = /^\/api\/v3\/coins\/([\w-]+)\/market_chart\/range$/.exec(url.pathname);
    if (!m) return undefined;
    return marketChartBody(Number(url.searchParams.get('from')) * 1000, Number(url.searchParams.get('to')) * 1000, (t) => 1000 + (t % 86_400_000) / 60_000);
  });
}

async function countCandles(asset: string) {
  const [row] = await handle.db.select({ n: sql<number>`count(*)::int` }).from(cryptoOhlcv).where(eq(cryptoOhlcv.asset, asset));
  return row.n;
}

function startTier(targets: CollectionTarget[], tier = 'high_frequency') {
  return kit.client.workflow.start(collectTierWorkflow, {
    workflowId: `test-collect-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline, args: [{ tier, targets, generateSignals: false }],
  });
}

describe('collectTierWorkflow', () => {
  it('writes the last day of 15-minute simulated candles per asset, and a second run writes none', async () => {
    const deps = { db: handle.db, ...simulatedSources(5), clock: () => NOW };
    const workers = [await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, deps)];
    const [first, second] = await withWorkers(workers, async () => {
      const a = await (await startTier([target('bitcoin'), target('ethereum')])).result();
      const b = await (await startTier([target('bitcoin'), target('ethereum')])).result();
      return [a, b];
    });
    expect(first.rowsWritten).toBe(190);
    expect(second.rowsWritten).toBe(0);
    expect(await countCandles('bitcoin')).toBe(95);

    const lastOpen = Math.floor(NOW / M15) * M15 - M15;
    const [stored] = await handle.db.select().from(cryptoOhlcv)
      .where(sql`${cryptoOhlcv.asset} = 'ethereum' and ${cryptoOhlcv.timestamp} = ${lastOpen}`);
    const expected = new SimulatedMarket(5).candle('ethereum', lastOpen, M15);
    expect(stored).toMatchObject({ ...expected, intervalMinutes: 15, source: 'simulated' });
    const runs = await handle.db.select().from(collectionRuns);
    expect(runs.map((r) => [r.asset, r.lastRowsWritten, r.consecutiveFailures])).toEqual(
      expect.arrayContaining([['bitcoin', 0, 0], ['ethereum', 0, 0]]));
  });

  it('fails only the asset with a malformed body; the others complete and the run names it', async () => {
    serveMarketCharts();
    server.on((_req, url) => (url.pathname.includes('/coins/badcoin/') ? { body: '{"prices": [[17000' } : undefined));
    const workers = [await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, liveDeps())];
    const err = await withWorkers(workers, async () =>
      (await startTier([target('bitcoin'), target('badcoin'), target('ethereum')])).result().then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/^1 of 3 assets failed: badcoin: coingecko: badcoin: response body is not valid JSON/);
    expect(await countCandles('bitcoin')).toBe(95);
    expect(await countCandles('ethereum')).toBe(95);
    expect(await countCandles('badcoin')).toBe(0);
    // Bad data is not retried: one request for badcoin.
    expect(server.requests.filter((r) => r.url.pathname.includes('badcoin'))).toHaveLength(1);
    const [bad] = await handle.db.select().from(collectionRuns).where(eq(collectionRuns.asset, 'badcoin'));
    expect(bad).toMatchObject({ consecutiveFailures: 1, lastSuccessAt: null });
    expect(bad.lastError).toMatch(/not valid JSON/);
  });

  it('checks the stops of every coin whose bars arrived, even when another coin failed', async () => {
    serveMarketCharts();
    server.on((_req, url) => (url.pathname.includes('/coins/badcoin/') ? { body: 'not json' } : undefined));
    // A bitcoin long at 2,000 with its stop at 1,500; the served prices start the day at 1,000.
    await ensurePortfolio(handle.db, 'test', 10_000, Math.floor(NOW / 86_400_000));
    await handle.db.insert(positions).values({
      portfolioId: 'test', asset: 'bitcoin', quantity: 1, averagePrice: 2000, stopLoss: 1500, takeProfit: 3000, protectionCheckedUntil: NOW - 86_400_000,
    });
    const workers = [
      await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, liveDeps()),
      await tradingWorker(kit, tradingDeps(handle, { clock: () => NOW })),
    ];
    const { failure, exits } = await withWorkers(workers, async () => {
      const run = await kit.client.workflow.start(collectTierWorkflow, {
        workflowId: `test-collect-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
        args: [{ tier: 'high_frequency', targets: [target('bitcoin'), target('badcoin')], generateSignals: true }],
      });
      const err = await run.result().then(() => undefined, (e: unknown) => e);
      const protect = kit.client.workflow.getHandle<typeof protectPositionsWorkflow>(`protect-${run.workflowId}`);
      return { failure: err, exits: await protect.result() };
    });
    // The run still fails visibly for the bad coin …
    expect((failure as WorkflowFailedError).cause?.message).toMatch(/^1 of 2 assets failed: badcoin/);
    // … and bitcoin's stop met its fresh bars: it fired at the first bar's open, below the stop.
    expect(exits).toEqual([expect.objectContaining({ asset: 'bitcoin', kind: 'stop_loss', quantity: 1 })]);
    const [pos] = await handle.db.select().from(positions).where(eq(positions.asset, 'bitcoin'));
    expect(pos.quantity).toBe(0);
  });

  it('waits out a 429 for its Retry-After and retries a 500, then completes', async () => {
    serveMarketCharts();
    server.once(/coins\/bitcoin\//, { status: 429, headers: { 'retry-after': '2' }, body: { status: { error_code: 429, error_message: 'Rate limited' } } });
    server.once(/coins\/ethereum\//, { status: 500, body: { error: 'boom' } });
    const workers = [await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, liveDeps())];
    const summary = await withWorkers(workers, async () => (await startTier([target('bitcoin'), target('ethereum')])).result());
    expect(summary.rowsWritten).toBe(190);
    const btc = server.requests.filter((r) => r.url.pathname.includes('bitcoin'));
    expect(btc).toHaveLength(2);
    expect(btc[1].at - btc[0].at).toBeGreaterThanOrEqual(1900);
    expect(server.requests.filter((r) => r.url.pathname.includes('ethereum'))).toHaveLength(2);
    const [row] = await handle.db.select().from(collectionRuns).where(eq(collectionRuns.asset, 'bitcoin'));
    // Two provider calls today: the refused one and the one that worked.
    expect(row).toMatchObject({ callsToday: 2, consecutiveFailures: 0, lastError: null });
  });

  it('stores FRED values with "." forward-filled and flagged', async () => {
    server.on((_req, url) => (url.pathname === '/fred/series/observations'
      ? fredBody([['2026-11-18', '16.5'], ['2026-11-19', '.'], ['2026-11-20', '18.25']])
      : undefined));
    const workers = [await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, liveDeps())];
    await withWorkers(workers, async () => (await startTier([target('VIXCLS', 'macro', 1440)], 'macro')).result());
    const rows = await handle.db.select().from(macroIndicators).orderBy(macroIndicators.date);
    expect(rows.map((r) => [r.date, r.value, r.isForwardFilled, r.source])).toEqual([
      ['2026-11-18', 16.5, false, 'fred'],
      ['2026-11-19', 16.5, true, 'fred'],
      ['2026-11-20', 18.25, false, 'fred'],
    ]);
  });

  it('a failed run retried through the API completes once the fault is gone', async () => {
    serveMarketCharts();
    server.on((_req, url) => (url.pathname.includes('/coins/ethereum/') ? { status: 404, body: { error: 'coin not found' } } : undefined));
    const http = await startTestApi(kit.client, handle, 'operator:operator-key-1');
    const api = `${http.base}/api/v1`;
    const auth = { authorization: 'Bearer operator-key-1' };
    const workers = [await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, liveDeps())];
    try {
      await withWorkers(workers, async () => {
        const run = await startTier([target('bitcoin'), target('ethereum')]);
        await expect(run.result()).rejects.toThrow(WorkflowFailedError);
        const described = (await (await fetch(`${api}/runs/${run.workflowId}`, { headers: auth })).json()) as { failure: string };
        expect(described).toMatchObject({ status: 'FAILED', type: 'collectTierWorkflow' });
        expect(described.failure).toMatch(/ethereum: coingecko: HTTP 404/);

        server.reset();
        serveMarketCharts();
        const retry = await fetch(`${api}/runs/${run.workflowId}/retry`, { method: 'POST', headers: auth });
        expect(retry.status).toBe(202);
        const body = (await retry.json()) as { runId: string };
        expect(body).toMatchObject({ workflowId: run.workflowId, method: 'reset' });
        expect(body.runId).not.toBe(run.firstExecutionRunId);
        const summary = await kit.client.workflow.getHandle(run.workflowId, body.runId).result();
        expect(summary.rowsWritten).toBe(95);

        const again = await fetch(`${api}/runs/${run.workflowId}/retry`, { method: 'POST', headers: auth });
        expect(again.status).toBe(409);
      });
    } finally {
      await http.close();
    }
    expect(await countCandles('ethereum')).toBe(95);
  });

  it('a run that never got going is retried by starting the same input again', async () => {
    // No worker yet: the run is terminated before any workflow task completes, so there is nothing to reset to.
    const run = await startTier([target('bitcoin')]);
    await run.terminate('operator stopped it');
    const deps = { db: handle.db, ...simulatedSources(5), clock: () => NOW };
    const retried = await retryRun(kit.client, run.workflowId);
    expect(retried.method).toBe('restart');
    const workers = [await pipelineWorker(kit, testSignalDeps(handle)), ...await marketDataWorkers(kit, deps)];
    const summary = await withWorkers(workers, () => kit.client.workflow.getHandle(run.workflowId, retried.runId).result());
    expect(summary).toMatchObject({ tier: 'high_frequency', rowsWritten: 95 });
  });
});
