/**
 * `npm run bench`: saga throughput and signal-to-fill latency on the Temporal dev server and a real
 * Postgres, beside an empty workflow with the same number of activities. Writes BENCHMARKS.md.
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { loadRiskConfig } from '../src/config/risk';
import { upsertCandles } from '../src/db/market-data';
import { fills } from '../src/db/schema';
import { TASK_QUEUES } from '../src/temporal/task-queues';
import { workflowsPath } from '../src/workers/pipeline';
import { createTradingWorker } from '../src/workers/trading';
import { riskAndExecuteWorkflow } from '../src/workflows/trading';
import { machineDescription, writeBenchmarkSection } from './report';
import { withBenchStack } from './stack';

const SAGAS = Number(process.env.BENCH_SAGAS ?? 200);
const SEQUENTIAL = 50;
const ASSETS = ['bitcoin', 'ethereum', 'solana', 'cardano', 'polkadot', 'ripple', 'tether', 'bittensor', 'fetch-ai', 'render-token'];

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function main() {
  await withBenchStack('saga', 20, async ({ db, temporal: env }) => {
    for (const asset of ASSETS) {
      await upsertCandles(db.db, asset, 60, 'simulated', [{ timestamp: Date.UTC(2026, 0, 1), open: 100, high: 100, low: 100, close: 100, volume: 1 }]);
    }
    const silent = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
    // A worker runs once: the concurrent run and the sequential one each get their own, on one bundle.
    const sagaBundle = await bundleWorkflowCode({ workflowsPath, logger: silent });
    const tradingWorker = () => createTradingWorker({
      connection: env.nativeConnection, namespace: 'default',
      workflowBundle: sagaBundle,
      // Generous limits and small positions (0.2% × confidence 0.2 = 0.04% of equity each, the 0.5 confidence
      // threshold lifted) so every saga of both runs fills: the bench measures the path, not the limits. One bar
      // per coin: the market checks have too little history to apply.
      deps: {
        db: db.db,
        risk: {
          ...loadRiskConfig(), maxSingleAssetExposure: 1, dailyLossLimit: 1, maxDrawdown: 1, drawdownWarningLevel: 1, maxSectorExposure: 1, maxPortfolioRisk: 1,
          confidenceThreshold: 0, basePositionPercent: 0.002, minPositionSize: 0.0001,
        },
        fillModel: { fixedSlippageBps: 5, volatilitySlippageFactor: 0, takerFeeBps: 10 }, portfolioId: 'bench', initialCapital: 100_000_000,
      },
    });
    const trading = await tradingWorker();
    const empty = await Worker.create({
      connection: env.nativeConnection, namespace: 'default', taskQueue: 'mts-bench',
      workflowBundle: await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)), logger: silent }),
      activities: { async noop() {} },
    });

    const runSagas = async () => {
      const started = Date.now();
      const starts = new Map<string, number>();
      await Promise.all(Array.from({ length: SAGAS }, async (_, i) => {
        const id = `bench-${i}`;
        starts.set(`signal-${id}-fill`, Date.now());
        const h = await env.client.workflow.start(riskAndExecuteWorkflow, {
          workflowId: `signal-${id}`, taskQueue: TASK_QUEUES.trading,
          args: [{ signalId: id, asset: ASSETS[i % ASSETS.length], signalType: 'LONG', price: 100, confidence: 0.2, timestamp: Date.now() }],
        });
        const outcome = await h.result();
        if (outcome.status !== 'filled') throw new Error(`saga ${id}: ${outcome.status}`);
      }));
      const elapsed = (Date.now() - started) / 1000;
      const rows = await db.db.select({ id: fills.id, createdAt: fills.createdAt }).from(fills).where(eq(fills.portfolioId, 'bench'));
      const latencies = rows.map((r) => r.createdAt.getTime() - starts.get(r.id)!);
      return { elapsed, latencies };
    };
    const runEmpty = async () => {
      const started = Date.now();
      const durations: number[] = [];
      await Promise.all(Array.from({ length: SAGAS }, async (_, i) => {
        const t = Date.now();
        await env.client.workflow.execute('emptySagaWorkflow', { workflowId: `empty-${i}`, taskQueue: 'mts-bench', args: [] });
        durations.push(Date.now() - t);
      }));
      return { elapsed: (Date.now() - started) / 1000, durations };
    };

    /** One signal at a time on the idle stack: start → fill row written, and start → saga result. */
    const runSequential = async () => {
      const toFill: number[] = [];
      const toResult: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) {
        const id = `bench-one-${i}`;
        const t = Date.now();
        const outcome = await env.client.workflow.execute(riskAndExecuteWorkflow, {
          workflowId: `signal-${id}`, taskQueue: TASK_QUEUES.trading,
          args: [{ signalId: id, asset: ASSETS[i % ASSETS.length], signalType: 'LONG', price: 100, confidence: 0.2, timestamp: Date.now() }],
        });
        toResult.push(Date.now() - t);
        if (outcome.status !== 'filled') throw new Error(`saga ${id}: ${outcome.status}`);
        const [row] = await db.db.select({ createdAt: fills.createdAt }).from(fills).where(eq(fills.id, `signal-${id}-fill`));
        toFill.push(row.createdAt.getTime() - t);
      }
      return { toFill, toResult };
    };

    const saga = await trading.runUntil(runSagas());
    const baseline = await empty.runUntil(runEmpty());
    const single = await (await tradingWorker()).runUntil(runSequential());
    report(saga, baseline, single);
  });
}

function report(saga: { elapsed: number; latencies: number[] }, baseline: { elapsed: number; durations: number[] }, single: { toFill: number[]; toResult: number[] }) {
  writeBenchmarkSection('Paper-trading saga throughput', [
    `Command: \`npm run bench\` (BENCH_SAGAS=${SAGAS}). Machine: ${machineDescription()}. Temporal CLI dev server (SQLite), Postgres 127.0.0.1:5432, one worker process.`,
    `${SAGAS} signals started at once, one trading worker; each saga is assess → reserve → fill → book → protect (5 activities, 4 Postgres transactions).`,
    '',
    '| run | total (s) | per second | p50 latency (ms) | p99 latency (ms) |',
    '|---|---|---|---|---|',
    `| risk-and-execute saga (signal → booked fill) | ${saga.elapsed.toFixed(2)} | ${(SAGAS / saga.elapsed).toFixed(1)} | ${quantile(saga.latencies, 0.5)} | ${quantile(saga.latencies, 0.99)} |`,
    `| empty workflow, 5 no-op activities (start → completion) | ${baseline.elapsed.toFixed(2)} | ${(SAGAS / baseline.elapsed).toFixed(1)} | ${quantile(baseline.durations, 0.5)} | ${quantile(baseline.durations, 0.99)} |`,
    '',
    'Latency is measured from the client starting the workflow: for the saga, to the moment its fill row was written; for the baseline, to the workflow result. All signals start together, so the latencies include queueing behind the others.',
    '',
    `A single signal on the idle stack, ${SEQUENTIAL} one after another: signal → fill row p50 ${quantile(single.toFill, 0.5)} ms, p99 ${quantile(single.toFill, 0.99)} ms; signal → saga result (stop and target placed) p50 ${quantile(single.toResult, 0.5)} ms, p99 ${quantile(single.toResult, 0.99)} ms.`,
  ]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
