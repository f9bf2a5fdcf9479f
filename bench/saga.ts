/**
 * `npm run bench`: saga throughput and signal-to-fill latency on the Temporal dev server and a real
 * Postgres, beside an empty workflow with the same number of activities. Writes BENCHMARKS.md.
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import type pg from 'pg';
import type { AssessmentOutcome, TradingActivities } from '../src/activities/trading';
import { loadRiskConfig } from '../src/config/risk';
import { upsertCandles } from '../src/db/market-data';
import { fills } from '../src/db/schema';
import { TASK_QUEUES } from '../src/temporal/task-queues';
import { createWorker } from '../src/workers/interceptors';
import { connectTradingDatabase, createTradingWorker, tradingSinks } from '../src/workers/trading';
import { sourceWorkflowBundle } from '../src/workers/workflow-bundle';
import { riskAndExecuteWorkflow } from '../src/workflows/trading';
import { machineBusySeconds, machineDescription, processCpuSeconds, temporalServerPid, writeBenchmarkSection } from './report';
import { withBenchStack } from './stack';

const SAGAS = Number(process.env.BENCH_SAGAS ?? 200);
const SEQUENTIAL = 50;
/**
 * Signals sent each after a quiet spell, as live ones come: longer than node-postgres keeps an idle
 * connection by default (10 s).
 */
const AFTER_QUIET = 6;
const QUIET_MS = 12_000;
/**
 * Rounds of each run, an even number: each order of a round's runs (below) runs as often as the
 * other. The same round's CPU a workflow moved by a third between rounds on this shared VM (the
 * Temporal server's most), and the server slows as its store grows over the run.
 */
const ROUNDS = Number(process.env.BENCH_SAGA_ROUNDS ?? 6);
const ASSETS = ['bitcoin', 'ethereum', 'solana', 'cardano', 'polkadot', 'ripple', 'tether', 'bittensor', 'fetch-ai', 'render-token'];

/**
 * CPU over a round, by where it ran: this process (the worker's activities and workflows, and the
 * client starting them), the Temporal server, and the rest of the machine (Postgres, the system).
 */
interface CpuUse { process: number; server: number; rest: number }

/** Starts counting CPU; the function returned gives what each part used since. */
function cpuMeter(serverPid: number): () => CpuUse {
  const read = () => ({ own: processCpuSeconds(process.pid), server: processCpuSeconds(serverPid), machine: machineBusySeconds() });
  const before = read();
  return () => {
    const after = read();
    const own = after.own - before.own;
    const server = after.server - before.server;
    return { process: own, server, rest: after.machine - before.machine - own - server };
  };
}

/**
 * Counts the statements sent on a pool's connections from now on: each is one round trip (BEGIN goes
 * with the portfolio's lock). Counted on each connection's `query`, whatever wraps it.
 */
function statementCounter(pool: pg.Pool): () => number {
  let sent = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      sent += 1;
      return query(...args);
    }) as typeof client.query;
  });
  return () => sent;
}

type SagaSteps = Pick<TradingActivities, 'assessSignalRisk' | 'reserveOrder' | 'executeOrder' | 'applyFillToPortfolio' | 'registerProtection'>;

/**
 * The saga's five steps answered at once with what the real ones return for a fill, after `roundTrips`
 * bare round trips (`SELECT 1`) in all, spread over the steps: the saga's orchestration without its
 * Postgres work, and with only the round trips of it.
 */
function answeredSteps(pool: pg.Pool, roundTrips: number): SagaSteps {
  const tripsOf = (step: number) => Math.floor((roundTrips * (step + 1)) / 5) - Math.floor((roundTrips * step) / 5);
  const travel = async (step: number) => {
    for (let k = tripsOf(step); k > 0; k--) await pool.query('SELECT 1');
  };
  const approved: AssessmentOutcome = { isApproved: true, rejectionReason: null, recommendedPositionSize: 40 };
  return {
    async assessSignalRisk() { await travel(0); return approved; },
    async reserveOrder(input) { await travel(1); return input.orderId; },
    async executeOrder(input) { await travel(2); return { fillId: `${input.orderId}-fill`, price: 100.05, quantity: 0.4, fee: 0.04, slippage: 0.02 }; },
    async applyFillToPortfolio() { await travel(3); return { realized: 0, quantity: 0.4 }; },
    async registerProtection() { await travel(4); return { stopLoss: 95.05, takeProfit: 110.06 }; },
  };
}

/** The `i`th signal of a run: a small long on one of the coins, in turn. */
const signalOf = (id: string, i: number) =>
  ({ signalId: id, asset: ASSETS[i % ASSETS.length], signalType: 'LONG' as const, price: 100, confidence: 0.2, timestamp: Date.now() });

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** The middle value, or the mean of the middle two of an even count. */
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main() {
  await withBenchStack('saga', 20, async ({ url, db, temporal: env }) => {
    // The trading worker's own pool, as `mts worker` makes it.
    const tradingDb = connectTradingDatabase(url);
    const statementsSent = statementCounter(tradingDb.pool);
    const serverPid = temporalServerPid(env.address);
    for (const asset of ASSETS) {
      await upsertCandles(db.db, asset, 60, 'simulated', [{ timestamp: Date.UTC(2026, 0, 1), open: 100, high: 100, low: 100, close: 100, volume: 1 }]);
    }
    const silent = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
    // A worker runs once: every run gets its own, on one bundle.
    const sagaBundle = await sourceWorkflowBundle();
    const tradingWorker = () => createTradingWorker({
      connection: env.nativeConnection, namespace: 'default',
      workflowBundle: sagaBundle,
      // Generous limits and small positions (0.2% × confidence 0.2 = 0.04% of equity each, the 0.5 confidence
      // threshold lifted) so every saga of both runs fills: the bench measures the path, not the limits. One bar
      // per coin: the market checks have too little history to apply.
      deps: {
        db: tradingDb.db,
        risk: {
          ...loadRiskConfig(), maxSingleAssetExposure: 1, dailyLossLimit: 1, maxDrawdown: 1, drawdownWarningLevel: 1, maxSectorExposure: 1, maxPortfolioRisk: 1,
          confidenceThreshold: 0, basePositionPercent: 0.002, minPositionSize: 0.0001,
        },
        fillModel: { fixedSlippageBps: 5, volatilitySlippageFactor: 0, takerFeeBps: 10 }, portfolioId: 'bench', initialCapital: 100_000_000,
      },
    });
    const emptyBundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)), logger: silent });
    const emptyWorker = () => Worker.create({
      connection: env.nativeConnection, namespace: 'default', taskQueue: 'mts-bench', workflowBundle: emptyBundle, activities: { async noop() {} },
    });
    /** The saga's workflow on a trading worker whose steps are answered at once, after `roundTrips` a saga. */
    const answeringWorker = (roundTrips: number) => createWorker({
      connection: env.nativeConnection, namespace: 'default', taskQueue: TASK_QUEUES.trading,
      workflowBundle: sagaBundle, sinks: tradingSinks, activities: answeredSteps(tradingDb.pool, roundTrips),
    });
    const runSagas = async (round: number): Promise<SagaRun> => {
      const started = Date.now();
      const sentBefore = statementsSent();
      const cpu = cpuMeter(serverPid);
      const starts = new Map<string, number>();
      await Promise.all(Array.from({ length: SAGAS }, async (_, i) => {
        const id = `bench-${round}-${i}`;
        starts.set(`signal-${id}-fill`, Date.now());
        const h = await env.client.workflow.start(riskAndExecuteWorkflow, {
          workflowId: `signal-${id}`, taskQueue: TASK_QUEUES.trading,
          args: [signalOf(id, i)],
        });
        const outcome = await h.result();
        if (outcome.status !== 'filled') throw new Error(`saga ${id}: ${outcome.status}`);
      }));
      const elapsed = (Date.now() - started) / 1000;
      const used = cpu();
      const rows = await db.db.select({ id: fills.id, createdAt: fills.createdAt }).from(fills).where(eq(fills.portfolioId, 'bench'));
      const latencies = rows.filter((r) => starts.has(r.id)).map((r) => r.createdAt.getTime() - starts.get(r.id)!);
      return { elapsed, latencies, cpu: used, roundTrips: (statementsSent() - sentBefore) / SAGAS };
    };
    /** `SAGAS` workflows started at once, each `execute(i)` timed from its start to its result. */
    const runAtOnce = async (execute: (i: number) => Promise<void>): Promise<TimedRun> => {
      const started = Date.now();
      const cpu = cpuMeter(serverPid);
      const durations: number[] = [];
      await Promise.all(Array.from({ length: SAGAS }, async (_, i) => {
        const t = Date.now();
        await execute(i);
        durations.push(Date.now() - t);
      }));
      return { elapsed: (Date.now() - started) / 1000, durations, cpu: cpu() };
    };
    const runEmpty = (round: number) => runAtOnce(async (i) => {
      await env.client.workflow.execute('emptySagaWorkflow', { workflowId: `empty-${round}-${i}`, taskQueue: 'mts-bench', args: [] });
    });
    /** The saga's workflow on `answeringWorker`. */
    const runAnswered = (name: string, round: number) => runAtOnce(async (i) => {
      const id = `${name}-${round}-${i}`;
      const outcome = await env.client.workflow.execute(riskAndExecuteWorkflow, { workflowId: id, taskQueue: TASK_QUEUES.trading, args: [signalOf(id, i)] });
      if (outcome.status !== 'filled') throw new Error(`${id}: ${outcome.status}`);
    });

    /**
     * `count` signals one at a time, each after `quietMs` with nothing running: start → fill row
     * written, and start → saga result.
     */
    const runSequential = async (name: string, count: number, quietMs = 0) => {
      const toFill: number[] = [];
      const toResult: number[] = [];
      for (let i = 0; i < count; i++) {
        if (quietMs > 0) await new Promise((resolve) => setTimeout(resolve, quietMs));
        const id = `bench-${name}-${i}`;
        const t = Date.now();
        const outcome = await env.client.workflow.execute(riskAndExecuteWorkflow, {
          workflowId: `signal-${id}`, taskQueue: TASK_QUEUES.trading,
          args: [signalOf(id, i)],
        });
        toResult.push(Date.now() - t);
        if (outcome.status !== 'filled') throw new Error(`saga ${id}: ${outcome.status}`);
        const [row] = await db.db.select({ createdAt: fills.createdAt }).from(fills).where(eq(fills.id, `signal-${id}-fill`));
        toFill.push(row.createdAt.getTime() - t);
      }
      return { toFill, toResult };
    };
    /** The same for the empty workflow: start → result, the floor the server's task dispatch sets. */
    const runEmptySequential = async () => {
      const durations: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) {
        const t = Date.now();
        await env.client.workflow.execute('emptySagaWorkflow', { workflowId: `empty-one-${i}`, taskQueue: 'mts-bench', args: [] });
        durations.push(Date.now() - t);
      }
      return durations;
    };

    // Rounds of each, interleaved, so a slow spell of this shared machine falls on the runs side by side
    // alike; every other round in the reverse order, so the server's slowing over the run (its store
    // grows) weighs on each run's place alike too. The answered sagas make as many round trips as the
    // latest saga round did, counted (in a reversed round, the round before's: it runs before its saga).
    const sagas: SagaRun[] = [];
    const baselines: TimedRun[] = [];
    const answered: TimedRun[] = [];
    const travelled: TimedRun[] = [];
    let roundTrips = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const runs = [
        async () => {
          const saga = await (await tradingWorker()).runUntil(runSagas(round));
          roundTrips = Math.round(saga.roundTrips);
          sagas.push(saga);
        },
        async () => { baselines.push(await (await emptyWorker()).runUntil(runEmpty(round))); },
        async () => { answered.push(await (await answeringWorker(0)).runUntil(runAnswered('answered', round))); },
        async () => { travelled.push(await (await answeringWorker(roundTrips)).runUntil(runAnswered('travelled', round))); },
      ];
      for (const run of round % 2 === 1 ? runs : runs.reverse()) await run();
    }
    const single = await (await tradingWorker()).runUntil(async () => ({
      ...await runSequential('one', SEQUENTIAL), afterQuiet: await runSequential('quiet', AFTER_QUIET, QUIET_MS),
    }));
    const emptySingle = await (await emptyWorker()).runUntil(runEmptySequential());
    report({ sagas, baselines, answered, travelled }, { ...single, empty: emptySingle });
    await tradingDb.close();
  });
}

interface SagaRun { elapsed: number; latencies: number[]; cpu: CpuUse; roundTrips: number }
/** Workflows started at once, each timed from its start to its result. */
interface TimedRun { elapsed: number; durations: number[]; cpu: CpuUse }

interface SagaRuns {
  sagas: SagaRun[];
  baselines: TimedRun[];
  /** The saga's workflow, its steps answered at once. */
  answered: TimedRun[];
  /** The same, its steps making the saga's round trips first. */
  travelled: TimedRun[];
}

interface Latencies { toFill: number[]; toResult: number[] }

function report(runs: SagaRuns, single: Latencies & { afterQuiet: Latencies; empty: number[] }) {
  const { sagas, baselines, answered, travelled } = runs;
  const rate = (r: { elapsed: number }) => SAGAS / r.elapsed;
  const best = <T extends { elapsed: number }>(runs: T[]) => runs.reduce((a, b) => (b.elapsed < a.elapsed ? b : a));
  const bestShare = rate(best(sagas)) / rate(best(baselines));
  /** Each round's run of `r` against the empty workflow's run beside it, in order. */
  const pairShares = (r: Array<{ elapsed: number }>) => r.map((x, k) => rate(x) / rate(baselines[k])).sort((a, b) => a - b);
  const sagaShares = pairShares(sagas);
  const share = median(sagaShares);
  const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
  /** CPU a workflow in ms (each part, then all of it) and the cores busy over the round. */
  const perWorkflow = (r: { elapsed: number; cpu: CpuUse }) => {
    const [own, server, rest] = [r.cpu.process, r.cpu.server, r.cpu.rest].map((s) => (s / SAGAS) * 1000);
    return { own, server, rest, all: own + server + rest, cores: (r.cpu.process + r.cpu.server + r.cpu.rest) / r.elapsed };
  };
  const cpuCells = (r: { elapsed: number; cpu: CpuUse }) => {
    const c = perWorkflow(r);
    return `${c.own.toFixed(1)} | ${c.server.toFixed(1)} | ${c.rest.toFixed(1)} | ${c.cores.toFixed(2)}`;
  };
  /** The median over the rounds of each part of a workflow's CPU, and of the cores busy. */
  const medianCpu = (r: Array<{ elapsed: number; cpu: CpuUse }>) => {
    const each = r.map(perWorkflow);
    const of = (k: keyof ReturnType<typeof perWorkflow>) => median(each.map((c) => c[k]));
    return { own: of('own'), server: of('server'), rest: of('rest'), all: of('all'), cores: of('cores') };
  };
  const [saga, empty] = [medianCpu(sagas), medianCpu(baselines)];
  const ofEmpty = (r: TimedRun[]) => percent(median(pairShares(r)));
  const roundTrips = Math.round(median(sagas.map((r) => r.roundTrips)));
  const controlRows = (label: string, r: TimedRun[]) => r.map((x, k) =>
    `| ${label} | ${k + 1} | ${x.elapsed.toFixed(2)} | ${rate(x).toFixed(1)} | ${quantile(x.durations, 0.5)} | ${quantile(x.durations, 0.99)} | ${cpuCells(x)} |`);
  writeBenchmarkSection('Paper-trading saga throughput', [
    `Command: \`npm run bench\` (BENCH_SAGAS=${SAGAS}). Machine: ${machineDescription()}. Temporal CLI dev server (SQLite), Postgres 127.0.0.1:5432, one worker process.`,
    `${SAGAS} signals started at once, one trading worker; each saga is assess → reserve → fill → book → protect (5 activities, 4 Postgres transactions). ${ROUNDS} rounds of each run, interleaved: saga, empty, answered, answered after round trips in the odd rounds, the reverse order in the even ones.`,
    `Two controls run the saga's workflow on a trading worker (its bundle, sinks and interceptors) whose five steps are answered at once with what the real ones return for a fill: as they are, and after as many bare round trips to Postgres (\`SELECT 1\` on the trading pool) as the round's sagas made (counted on the pool's connections), spread over the steps.`,
    '',
    `| run | round | total (s) | per second | p50 latency (ms) | p99 latency (ms) | CPU a workflow (ms): this process (worker and client) | the Temporal server | the rest (Postgres, the system) | cores busy (of ${cpus().length}) |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...sagas.map((r, k) => `| risk-and-execute saga (signal → booked fill) | ${k + 1} | ${r.elapsed.toFixed(2)} | ${rate(r).toFixed(1)} | ${quantile(r.latencies, 0.5)} | ${quantile(r.latencies, 0.99)} | ${cpuCells(r)} |`),
    ...controlRows('empty workflow, 5 no-op activities (start → completion)', baselines),
    ...controlRows('the saga\'s workflow, steps answered at once (start → result)', answered),
    ...controlRows(`the same, after ${roundTrips} round trips a saga (start → result)`, travelled),
    '',
    `The saga runs ${percent(share)} of the empty workflow's rate (target 80 %: ${share >= 0.8 ? 'met' : 'not met'}): the median over the rounds of each saga round's rate against the empty round run beside it (${percent(sagaShares[0])} to ${percent(sagaShares[sagaShares.length - 1])}). Each pair runs side by side, on the same server at the same size and in the same spell of this shared machine, each order as often; the empty workflow's rounds alone ranged ${Math.min(...baselines.map(rate)).toFixed(1)}–${Math.max(...baselines.map(rate)).toFixed(1)} a second over the run. The best saga round against the best empty round, wherever each fell: ${percent(bestShare)}.`,
    `Where the time goes (CPU of each process over a round, from /proc): over the rounds (medians) a saga cost the machine ${saga.all.toFixed(0)} ms of CPU and an empty workflow ${empty.all.toFixed(0)} ms — ${(saga.own - empty.own).toFixed(0)} ms more in this process (the activities' statements: building, sending, reading), ${(saga.server - empty.server).toFixed(0)} ms more in the Temporal server and ${(saga.rest - empty.rest).toFixed(0)} ms more in Postgres and the rest. The empty workflow's CPU over the saga's: ${((empty.all / saga.all) * 100).toFixed(0)} %, against their rates' ${(share * 100).toFixed(0)} % (cores busy: ${saga.cores.toFixed(2)} and ${empty.cores.toFixed(2)} of ${cpus().length}).`,
    `Where the saga's share goes, each against the empty round beside it (medians): its workflow with the steps answered at once ${ofEmpty(answered)} (the orchestration, the same five tasks); with its ${roundTrips} round trips to Postgres a saga and nothing else ${ofEmpty(travelled)}; the saga ${percent(share)}: the rest of what it costs is its statements' own work (Postgres planning and running them, the rows read and written, the lock's queue).`,
    'Latency is measured from the client starting the workflow: for the saga, to the moment its fill row was written; for the others, to the workflow result. All signals start together, so the latencies include queueing behind the others.',
    '',
    `A single signal on the idle stack, ${SEQUENTIAL} one after another: signal → fill row p50 ${quantile(single.toFill, 0.5)} ms, p99 ${quantile(single.toFill, 0.99)} ms; signal → saga result (stop and target placed) p50 ${quantile(single.toResult, 0.5)} ms, p99 ${quantile(single.toResult, 0.99)} ms. The empty workflow, ${SEQUENTIAL} one after another on the same server: start → result p50 ${quantile(single.empty, 0.5)} ms, p99 ${quantile(single.empty, 0.99)} ms.`,
    `A signal after ${QUIET_MS / 1000} s with nothing running (as live signals come; ${AFTER_QUIET} of them, on the same worker): signal → fill row p50 ${quantile(single.afterQuiet.toFill, 0.5)} ms, slowest ${Math.max(...single.afterQuiet.toFill)} ms; signal → saga result p50 ${quantile(single.afterQuiet.toResult, 0.5)} ms, slowest ${Math.max(...single.afterQuiet.toResult)} ms. The trading pool keeps its idle connections (\`keepIdle\`, src/db/client.ts): closed after node-postgres's 10 s, as before, such a signal took ~12 ms longer to its fill (a new connection, its settings and the saga's statements prepared again).`,
    'The server runs with MTS\'s dynamic config (src/temporal/server-config.ts), as `npm start` and docker-compose.yml run it. With Temporal\'s defaults each hand-over of a workflow or activity task waited ~40 ms (a history shard reads its new transfer tasks at most 20 times a second; the dev server has one shard): a single signal took ~295 ms to its fill and ~550 ms to its result, the empty workflow ~550 ms. Eager activities take the same work off the server in both runs, so the saga\'s own work weighs more in the ratio than it did.',
    `Each saga step reads its book and the bars it needs in one statement (marks, the newest bar, the streamed price; in assess and reserve the market conditions' candles with their interval's choice): 16 statements a saga where there were 24, in 14 round trips (BEGIN and the portfolio's lock in one; ${roundTrips} counted in this run). Each statement's text is built once (drizzle's prepared queries, src/db/prepared.ts): built at every call it cost ~1.9 ms of the worker's ~4.6 ms of CPU a saga, sagas run one after another without Temporal (2.7 ms now). Per saga on the worker's main thread, by V8's profiler: socket writes to Postgres ~0.5 ms a statement (the loopback's cost on this VM, with the wake-up of the Postgres backend it writes to); on the workflow thread the SDK's \`vm.runInContext\` ~17–23 ms a workflow (~3 ms more for the saga than for the empty one), the same code for both.`,
  ]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
