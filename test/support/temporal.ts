// First: the quiet Temporal logger, installed before anything here makes the SDK's runtime.
import './quiet-temporal';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundle } from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import type { SignalDeps } from '../../src/activities/signals';
import { loadSignalsConfig } from '../../src/config/signals';
import { buildStrategies, loadStrategyConfigs } from '../../src/config/strategies';
import type { DatabaseHandle } from '../../src/db/client';
import type { CollectionDeps } from '../../src/activities/collection';
import { createMarketDataWorkers } from '../../src/workers/market-data';
import { createPipelineWorker } from '../../src/workers/pipeline';
import { createTradingWorker } from '../../src/workers/trading';
import { createBacktestWorker } from '../../src/workers/backtest';
import { sourceWorkflowBundle } from '../../src/workers/workflow-bundle';
import type { BacktestDeps } from '../../src/activities/backtest';
import { backtestProgressSignal } from '../../src/workflows/backtest';
import type { TradingDeps } from '../../src/activities/trading';
import { loadRiskConfig } from '../../src/config/risk';
import { loadEnv } from '../../src/config/env';
import { backfillProgressSignal } from '../../src/workflows/collection';
import { clearMarketData, testDatabase } from './db';

export interface TemporalKit {
  client: Client;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

/**
 * A workflow test file's database (emptied once) and Temporal connection, opened before its tests and
 * closed after them; `kit` is set when the tests start.
 */
export function workflowTestContext(): { handle: DatabaseHandle; kit: TemporalKit } {
  const ctx = { handle: testDatabase(), kit: undefined as unknown as TemporalKit };
  beforeAll(async () => {
    ctx.kit = await connectTemporal();
    await clearMarketData(ctx.handle);
  });
  afterAll(async () => { await Promise.all([ctx.kit.close(), ctx.handle.close()]); });
  return ctx;
}

export async function connectTemporal(): Promise<TemporalKit> {
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection }),
    nativeConnection,
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

let bundle: Promise<WorkflowBundle> | undefined;
/** The workflow bundle of the sources, read once per test file (bundled once for the whole run: `sourceWorkflowBundle`). */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= sourceWorkflowBundle();
  return bundle;
}

export const progressReporter = (client: Client): CollectionDeps['reportBackfillProgress'] =>
  (workflowId, progress) => client.workflow.getHandle(workflowId).signal(backfillProgressSignal, progress);

/** Signal activities on the shipped strategy and signal configs, alerts written under a fresh temp folder. */
export function testSignalDeps(handle: DatabaseHandle, overrides: Partial<SignalDeps> = {}): SignalDeps {
  return {
    db: handle.db,
    pool: handle.pool,
    strategies: buildStrategies(loadStrategyConfigs()),
    config: loadSignalsConfig(),
    channels: ['file', 'sse'],
    alertsDirectory: mkdtempSync(join(tmpdir(), 'mts-alerts-')),
    ...overrides,
  };
}

export async function pipelineWorker(kit: TemporalKit, signals: SignalDeps): Promise<Worker> {
  return createPipelineWorker({ connection: kit.nativeConnection, namespace: 'default', signals, workflowBundle: await workflowBundle() });
}

export function marketDataWorkers(kit: TemporalKit, deps: CollectionDeps): Promise<Worker[]> {
  return createMarketDataWorkers({ connection: kit.nativeConnection, namespace: 'default', deps });
}

export function tradingDeps(handle: DatabaseHandle, overrides: Partial<TradingDeps> = {}): TradingDeps {
  return {
    // Tests run many sagas at once on a busy machine: the 5 s staleness rule is tested on its own, not by load.
    db: handle.db, risk: { ...loadRiskConfig(), processingTimeoutMs: 60_000 }, fillModel: { fixedSlippageBps: 10, volatilitySlippageFactor: 0, takerFeeBps: 10 },
    portfolioId: 'test', initialCapital: 10_000, ...overrides,
  };
}

export async function tradingWorker(kit: TemporalKit, deps: TradingDeps): Promise<Worker> {
  return createTradingWorker({ connection: kit.nativeConnection, namespace: 'default', deps, workflowBundle: await workflowBundle() });
}

export function backtestDeps(handle: DatabaseHandle, client: Client): BacktestDeps {
  return {
    db: handle.db, risk: loadRiskConfig(), signals: loadSignalsConfig(), strategies: loadStrategyConfigs(),
    reportProgress: (workflowId, progress) => client.workflow.getHandle(workflowId).signal(backtestProgressSignal, progress),
  };
}

export async function backtestWorker(kit: TemporalKit, deps: BacktestDeps): Promise<Worker> {
  return createBacktestWorker({ connection: kit.nativeConnection, namespace: 'default', deps, concurrency: loadEnv().BACKTESTS_PER_WORKER, workflowBundle: await workflowBundle() });
}

/** Runs the workers while `fn` runs, then shuts them down and waits for them to stop. */
export async function withWorkers<T>(workers: Worker[], fn: () => Promise<T>): Promise<T> {
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.all(running);
  }
}
