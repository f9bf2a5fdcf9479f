import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { WorkflowFailedError } from '@temporalio/client';
import { Command } from 'commander';
import { listApiKeys, revokeApiKey } from './db/api-keys';
import { briefQueryError, unreachableAddress } from './db/errors';
import { createApiKey, keyRequestProblem, parseApiKeys, type Role } from './services/api-keys';
import { type CollectionConfig, loadCollectionConfig } from './config/collection';
import { loadExecutionConfig } from './config/execution';
import { ConfigError, type Env, loadEnv } from './config/env';
import { connectDatabase, migrateDatabase } from './db/client';
import { createLogger, redactSecrets } from './logger';
import { buildWorkers, startApi, WORKER_ROLES, type WorkerRole } from './runtime';
import { backfillBody, collectBody, collectionTargets, startBackfill, startCollection } from './services/collections';
import { UnknownTargetError } from './services/targets';
import { AlertInbox } from './services/alert-inbox';
import {
  backtestBodySchema, backtestListQuery, recentBacktests, resolveBacktest, startBacktest, startSweep, startWalkForward, sweepBodySchema,
  walkForwardBodySchema,
} from './services/backtests';
import { backtestProgressQuery } from './workflows/backtest';
import { sweepProgressQuery, type sweepWorkflow } from './workflows/sweep';
import { walkForwardProgressQuery, type walkForwardWorkflow } from './workflows/walk-forward';
import { describeIssues } from './config/files';
import { importCsv, importMacroCsv } from './services/csv-import';
import { assetName } from './services/limits';
import { startSignalGeneration } from './services/signals';
import { syncSchedules } from './services/schedules';
import { ensureMarketStream, marketStreamInput } from './services/market-stream';
import { warmUpIfNew } from './services/warm-up';
import { isoDate } from './domain/types';
import { TASK_QUEUES } from './temporal/task-queues';
import { loadStreamsConfig } from './config/streams';
import { readLatestPrices } from './db/market-prices';
import { listRuns, retryRun, RUN_STATUSES, RunNotFoundError, type RunStatus, runProgress } from './services/runs';
import { innermostMessage } from './temporal/failures';
import { PROGRESS_QUERIES, progressText } from './temporal/progress';
import { signalsProgressQuery } from './workflows/signals';
import { queuePollers, systemStatus } from './services/status';
import { ensureTemporalCli } from './temporal/cli-binary';
import { connectClient, connectWorkerConnection, ensureSearchAttributes, type TemporalHandles } from './temporal/connection';
import { readLiveStack, removeStack, withoutPassword, withStack, writeStack } from './config/stack';
import { startDevServer } from './temporal/dev-server';
import { installTemporalLogging } from './temporal/logging';
import { freeLoopbackPort, serveWorkerHealth, workerHealthApp } from './workers/health';
import { connectTradingDatabase } from './workers/trading';

const say = (line: string) => console.log(`[mts] ${line}`);

/** A flag or argument the command cannot use: exit code 2. */
class UsageError extends Error {}

// A .env beside the project fills in what the environment leaves unset (the environment wins).
if (existsSync('.env')) process.loadEnvFile('.env');

function env(source: NodeJS.ProcessEnv = process.env): Env {
  try {
    return loadEnv(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * The environment of a command that talks to a stack: a running `mts dev` of this data directory
 * fills in what the environment leaves unset (its Temporal, namespace, database and API), and the
 * command says which stack it talks to.
 */
function clientEnv(): Env {
  const stack = readLiveStack(process.env.MTS_DATA_DIR || 'data');
  const e = env(stack ? withStack(process.env, stack) : process.env);
  const where = `Temporal ${temporalAddress(e)} (${e.TEMPORAL_NAMESPACE}), database ${withoutPassword(e.DATABASE_URL)}`;
  console.error(stack ? `[mts] talking to mts dev (pid ${stack.pid}, API ${stack.apiUrl}): ${where}` : `[mts] ${where}`);
  return e;
}

function temporalAddress(e: Env): string {
  return e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.TEMPORAL_PORT}`;
}

/**
 * A command's Temporal client, with MTS's search attributes registered on the namespace when missing
 * (a new cluster): every run MTS starts carries them, and a server without them refuses the start.
 */
async function connectTemporal(e: Env): Promise<TemporalHandles> {
  const address = temporalAddress(e);
  const t = await connectClient(address, e.TEMPORAL_NAMESPACE).catch((err: Error) => {
    throw new Error(`cannot reach Temporal at ${address} (${err.message}): start the stack with \`npm start\`, or point TEMPORAL_ADDRESS at yours`);
  });
  await ensureSearchAttributes(t.connection, e.TEMPORAL_NAMESPACE);
  return t;
}

/** MTS_API_KEYS, or in dev a generated admin key kept under the data dir so it survives restarts. */
function devApiKeys(e: Env): { keys: ReturnType<typeof parseApiKeys>; generated?: string } {
  if (e.MTS_API_KEYS) return { keys: parseApiKeys(e.MTS_API_KEYS) };
  const file = join(e.MTS_DATA_DIR, 'dev-api-key');
  if (!existsSync(file)) {
    mkdirSync(e.MTS_DATA_DIR, { recursive: true });
    writeFileSync(file, randomBytes(24).toString('hex'), { mode: 0o600 });
  }
  const key = readFileSync(file, 'utf8').trim();
  return { keys: parseApiKeys(`admin:${key}`), generated: key };
}

const program = new Command('mts').description('MTS: market data, signals, risk and paper trading on Temporal');

program.command('setup').description('find or build the Temporal CLI, create and migrate the database')
  .option('--no-database', 'leave the database alone (the tests make their own)')
  .action(async (opts: { database: boolean }) => {
  const e = env();
  const cli = ensureTemporalCli(say);
  say(`Temporal CLI: ${cli}`);
  if (!opts.database) {
    say('setup complete');
    return;
  }
  say(`migrating ${new URL(e.DATABASE_URL).pathname.slice(1)} at ${new URL(e.DATABASE_URL).host}…`);
  await migrateDatabase(e.DATABASE_URL);
  say('setup complete');
});

program.command('migrate').description('create the database if needed and apply migrations').action(async () => {
  await migrateDatabase(env().DATABASE_URL);
  say('migrations applied');
});

program.command('schedules').description('Temporal Schedules of the collection tiers')
  .command('sync').description('create or update one Schedule per tier from config/collection.json').action(async () => {
    const e = clientEnv();
    const t = await connectTemporal(e);
    try {
      for (const r of await syncSchedules(t.client, loadCollectionConfig(), loadExecutionConfig().snapshotIntervalMinutes)) say(`${r.scheduleId}: ${r.action}`);
      if (e.MARKET_STREAM !== 'none') {
        await ensureMarketStream(t.client, marketStreamInput(loadStreamsConfig(loadExecutionConfig().symbols)));
        say(`market stream (${e.MARKET_STREAM}): running; workers with the market-stream role consume it`);
      }
    } finally {
      await t.close();
    }
  });

program.command('worker').description('run workers on their task queues')
  .option('--role <roles>', `comma-separated: ${WORKER_ROLES.join(', ')}`, WORKER_ROLES.join(','))
  .action(async (opts: { role: string }) => {
    const e = clientEnv();
    const roles = opts.role.split(',').map((r) => r.trim()) as WorkerRole[];
    const bad = roles.find((r) => !(WORKER_ROLES as readonly string[]).includes(r));
    if (bad) throw new UsageError(`--role: unknown role "${bad}" (${WORKER_ROLES.join(', ')})`);
    const health = e.WORKER_HEALTH_PORT > 0;
    const temporalMetrics = health ? `127.0.0.1:${await freeLoopbackPort()}` : undefined;
    installTemporalLogging(e.LOG_LEVEL, { metricsBindAddress: temporalMetrics });
    const db = connectDatabase(e.DATABASE_URL);
    // Opens no connection unless a trading activity runs here.
    const tradingDb = connectTradingDatabase(e.DATABASE_URL);
    const t = await connectTemporal(e);
    const connection = await connectWorkerConnection(temporalAddress(e));
    const workers = await buildWorkers({ env: e, roles, connection, db, tradingDb, client: t.client });
    const server = health
      ? await serveWorkerHealth(workerHealthApp({ roles, workers, temporalMetricsUrl: `http://${temporalMetrics}/metrics` }), e.WORKER_HEALTH_PORT, e.HOST)
      : undefined;
    say(`workers running (${roles.join(', ')}) against ${temporalAddress(e)}${server ? `; /health and /metrics on ${e.HOST}:${e.WORKER_HEALTH_PORT}` : ''}; Ctrl-C to stop`);
    await Promise.all(workers.map((w) => w.run()));
    server?.close();
    await Promise.all([connection.close(), t.close(), db.close(), tradingDb.close()]);
  });

const keys = program.command('keys').description('API keys stored (hashed) in Postgres; MTS_API_KEYS still works for development');
keys.command('create').description('make a key and print it once')
  .requiredOption('--role <role>', 'read, operator, trader or admin')
  .requiredOption('--name <name>', 'who or what uses it (shown in the audit log)')
  .action(async (opts: { role: string; name: string }) => {
    const problem = keyRequestProblem(opts.name, opts.role);
    if (problem) throw new UsageError(problem);
    const e = clientEnv();
    await migrateDatabase(e.DATABASE_URL);
    const db = connectDatabase(e.DATABASE_URL);
    try {
      const key = await createApiKey(db.db, opts.name, opts.role as Role);
      say(`key "${opts.name}" (${opts.role}); it is shown this once, store it now:`);
      console.log(key);
    } finally {
      await db.close();
    }
  });
keys.command('list').description('the stored keys (names, roles, state; never the keys)').action(async () => {
  const e = clientEnv();
  const db = connectDatabase(e.DATABASE_URL);
  try {
    const rows = await listApiKeys(db.db);
    if (rows.length === 0) say('no stored keys: make one with `mts keys create --role read --name dashboard`');
    for (const k of rows) console.log(`${k.name.padEnd(24)} ${k.role.padEnd(9)} ${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'}  created ${k.createdAt.toISOString()}`);
  } finally {
    await db.close();
  }
});
keys.command('revoke <name>').description('revoke a key (running APIs refuse it at once)').action(async (name: string) => {
  const e = clientEnv();
  const db = connectDatabase(e.DATABASE_URL);
  try {
    if (!(await revokeApiKey(db.db, name))) {
      console.error(`mts: no key named "${name}" (see mts keys list)`);
      process.exitCode = 1;
      return;
    }
    say(`key "${name}" revoked`);
  } finally {
    await db.close();
  }
});

program.command('api').description('serve the HTTP API').action(async () => {
  const e = env();
  const logger = createLogger(e.LOG_LEVEL);
  if (!e.MTS_API_KEYS) throw new UsageError('MTS_API_KEYS: required for `mts api` (role:key pairs, comma-separated)');
  const db = connectDatabase(e.DATABASE_URL);
  const t = await connectTemporal(e);
  await startApi({ env: e, db, client: t.client, collection: loadCollectionConfig(), apiKeys: parseApiKeys(e.MTS_API_KEYS), logger });
  say(`API on http://${e.HOST}:${e.PORT}`);
});

program.command('dev').description('everything in one process: Temporal dev server, migrations, schedules, workers, API')
  .action(async () => {
    const e = env();
    const logger = createLogger(e.LOG_LEVEL);
    installTemporalLogging(e.LOG_LEVEL);
    const collection = loadCollectionConfig();
    const { keys, generated } = devApiKeys(e);
    await migrateDatabase(e.DATABASE_URL);
    const server = e.TEMPORAL_ADDRESS
      ? undefined
      : await startDevServer({
        cli: ensureTemporalCli(say), dataDir: e.MTS_DATA_DIR, port: e.TEMPORAL_PORT, uiPort: e.TEMPORAL_UI_PORT, namespace: e.TEMPORAL_NAMESPACE, log: say,
      });
    const address = temporalAddress(e);
    const t = await connectTemporal(e);
    for (const r of await syncSchedules(t.client, collection, loadExecutionConfig().snapshotIntervalMinutes)) say(`schedule ${r.scheduleId}: ${r.action}`);
    const db = connectDatabase(e.DATABASE_URL);
    const tradingDb = connectTradingDatabase(e.DATABASE_URL);
    const connection = await connectWorkerConnection(address);
    const workers = await buildWorkers({ env: e, roles: [...WORKER_ROLES], connection, db, tradingDb, client: t.client });
    if (e.MARKET_STREAM !== 'none') await ensureMarketStream(t.client, marketStreamInput(loadStreamsConfig(loadExecutionConfig().symbols)));
    // A first start on the simulated market fills the dashboard by itself: history, signals, paper trades.
    const warmUp = e.MARKET_DATA_SOURCE === 'simulated'
      ? await warmUpIfNew(t.client, db.db, { config: collection, days: e.SIMULATED_WARM_UP_DAYS })
      : undefined;
    const running = Promise.all(workers.map((w) => w.run()));
    const http = await startApi({ env: e, db, client: t.client, collection, apiKeys: keys, logger, temporalUiUrl: e.TEMPORAL_UI_URL ?? server?.uiUrl });
    const inboxDir = e.ALERTS_INBOX_DIR ?? join(e.MTS_DATA_DIR, 'inbox');
    const inbox = new AlertInbox(t.client, inboxDir);
    inbox.start(5000, (err) => logger.error({ err }, 'alert inbox scan failed'));

    const port = (http.address() as AddressInfo).port;
    const apiUrl = `http://${e.HOST}:${port}`;
    // Every other mts command of this data directory now talks to this stack without being told its ports.
    writeStack(e.MTS_DATA_DIR, {
      pid: process.pid, startedAt: new Date().toISOString(), apiUrl, temporalAddress: address, namespace: e.TEMPORAL_NAMESPACE,
      temporalUiUrl: server?.uiUrl ?? null, databaseUrl: e.DATABASE_URL, host: e.HOST, port,
    });
    say(`market data: ${e.MARKET_DATA_SOURCE}, macro: ${e.MACRO_DATA_SOURCE}, real-time stream: ${e.MARKET_STREAM}`);
    say(`API:         ${apiUrl}  (GET /ready, /api/v1/…)`);
    say(`dashboard:   ${apiUrl}/  (sign in with the API key below)`);
    if (e.MARKET_STREAM !== 'none') say(`prices:      ${apiUrl}/api/v1/prices/stream (SSE), or in a terminal: npm run mts -- prices --follow`);
    if (server) say(`Temporal UI: ${server.uiUrl}`);
    if (warmUp) {
      say(`warm-up:     first start on the simulated market: backfilling 400 days, then deciding and paper-trading the last ${e.SIMULATED_WARM_UP_DAYS} days`);
      say(`             (run "${warmUp}", about half a minute; SIMULATED_WARM_UP_DAYS=0 starts empty)`);
    }
    // The key itself is never printed: logs and terminals get copied around.
    const keyFile = join(e.MTS_DATA_DIR, 'dev-api-key');
    say(generated ? `API key (admin): in ${keyFile}; KEY=$(cat ${keyFile})` : 'API keys: from MTS_API_KEYS');
    say(`try: curl -X POST -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"tier":"high_frequency"}' ${apiUrl}/api/v1/collections`);

    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      say('stopping…');
      http.close();
      await inbox.stop();
      // The SDK itself starts shutting workers down on SIGINT and SIGTERM; a second shutdown would throw.
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => undefined);
      await Promise.all([connection.close(), t.close(), db.close(), tradingDb.close()]);
      await server?.stop();
      removeStack(e.MTS_DATA_DIR, process.pid);
      say('stopped');
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program.command('watch-alerts').description('send alert files dropped into a directory to the risk-and-execute saga')
  .option('--dir <path>', 'directory to watch (default ALERTS_INBOX_DIR or <MTS_DATA_DIR>/inbox)')
  .option('--interval <seconds>', 'seconds between scans', '5')
  .action(async (opts: { dir?: string; interval: string }) => {
    const e = clientEnv();
    const seconds = Number(opts.interval);
    if (!(seconds > 0)) throw new UsageError(`--interval: "${opts.interval}" is not a positive number of seconds`);
    const dir = opts.dir ?? e.ALERTS_INBOX_DIR ?? join(e.MTS_DATA_DIR, 'inbox');
    const t = await connectTemporal(e);
    const logger = createLogger(e.LOG_LEVEL);
    new AlertInbox(t.client, dir).start(seconds * 1000, (err) => logger.error({ err }, 'alert inbox scan failed'));
    say(`watching ${dir}; processed files go to ${join(dir, 'processed')}, invalid ones to ${join(dir, 'rejected')}`);
  });

/** Calls `tick` every `everyMs` until `done` settles, and once more then (`finished`): a long run's progress. */
async function whileRunning(done: Promise<unknown>, everyMs: number, tick: (finished: boolean) => Promise<void>): Promise<void> {
  for (;;) {
    const finished = await Promise.race([done.then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), everyMs))]);
    await tick(finished);
    if (finished) return;
  }
}

/**
 * A progress bar of `format` (cli-progress's tokens, `payload`'s among them), read every second from
 * `read` until `done` settles; shown from the first reading (a run not yet picked up has none).
 */
async function progressBar(done: Promise<unknown>, format: string, read: () => Promise<{ done: number; total: number; payload?: object } | null>) {
  const bar = new SingleBar({ format, hideCursor: true });
  let shown = false;
  await whileRunning(done, 1000, async () => {
    const p = await read();
    if (!p) return;
    if (!shown) { bar.start(p.total, 0, p.payload); shown = true; }
    bar.update(p.done, p.payload);
  });
  if (shown) bar.stop();
}

/** Says so when no worker has polled the backtest queue lately: a run started there waits for one. */
async function warnWithoutBacktestWorker(t: TemporalHandles, namespace: string) {
  if ((await queuePollers(t.client, namespace, TASK_QUEUES.backtest)).length > 0) return;
  say(`no worker polls ${TASK_QUEUES.backtest}: the run waits until one does (npm start, or mts worker --role backtest)`);
}

/** What `backtest`, `sweep` and `walk-forward` replay: the strategies, the coins and range, and the conventions. */
interface ReplayOptions {
  strategy?: string; strategies?: string; assets: string; from: string; to: string; capital: string; fillAt: string; bar?: string;
  sizing: string; fraction: string; feeBps?: string; slippageBps?: string; stops: boolean; short: boolean;
}

function withReplayOptions(command: Command): Command {
  return command
    .option('--strategy <name>', 'one strategy from config/strategies')
    .option('--strategies <list>', 'several strategies, aggregated as paper trading does, or "live" for the enabled ensemble')
    .requiredOption('--assets <list>', 'comma-separated coins with stored history')
    .requiredOption('--from <date>', 'first decision date')
    .requiredOption('--to <date>', 'last decision date')
    .option('--capital <usd>', 'initial capital', '10000')
    .option('--fill-at <when>', 'next_open or close', 'next_open')
    .option('--bar <size>', 'bars to replay: 1d, 1h, 15m or 1m (built from the stored candles; the live system defaults to its shortest strategy bar)')
    .option('--sizing <kind>', 'risk (the risk module), fixed_fraction or all_in', 'risk')
    .option('--fraction <f>', 'share of equity per trade with --sizing fixed_fraction', '0.5')
    .option('--fee-bps <n>', 'taker fee in basis points (default: config/execution.json)')
    .option('--slippage-bps <n>', 'fixed slippage in basis points (default: config/execution.json)')
    .option('--no-stops', 'no stop loss or take profit')
    .option('--no-short', 'a SHORT only closes a long');
}

/** The request fields the replay options give, for the command's schema to validate. */
function replayBody(opts: ReplayOptions) {
  const selection = opts.strategies === undefined ? { strategy: opts.strategy }
    : { strategies: opts.strategies === 'live' ? 'live' : opts.strategies.split(',').map((x) => x.trim()) };
  return {
    ...selection, assets: opts.assets.split(','), from: opts.from, to: opts.to, initialCapital: Number(opts.capital),
    conventions: {
      fillAt: opts.fillAt, ...(opts.bar ? { bar: opts.bar } : {}), protective: opts.stops, allowShort: opts.short,
      sizing: opts.sizing === 'fixed_fraction' ? { kind: 'fixed_fraction', fraction: Number(opts.fraction) } : { kind: opts.sizing },
      fillModel: {
        ...loadExecutionConfig().fillModel,
        ...(opts.feeBps !== undefined ? { takerFeeBps: Number(opts.feeBps) } : {}),
        ...(opts.slippageBps !== undefined ? { fixedSlippageBps: Number(opts.slippageBps) } : {}),
      },
    },
  };
}

/** `name=value` pairs of a repeatable flag. */
function namedValues(flag: string, pairs: string[]): Array<[string, string]> {
  const named = pairs.map((kv): [string, string] => {
    const at = kv.indexOf('=');
    if (at < 1) throw new UsageError(`${flag}: "${kv}" is not name=value`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  });
  // Taken as an object, a name given twice would keep its last value without a word.
  const repeatedName = named.find(([name], k) => named.findIndex(([other]) => other === name) < k);
  if (repeatedName) throw new UsageError(`${flag}: "${repeatedName[0]}" is given twice`);
  return named;
}
/** A flag value as a number when it reads as one. */
const numberOrText = (value: string) => (value !== '' && Number.isFinite(Number(value)) ? Number(value) : value);
/** A repeatable flag's values, in the order given. */
const repeated = (value: string, earlier: string[]) => [...earlier, value];
/** `--grid name=v1,v2,…` flags as a sweep's grid. */
const gridOf = (flags: string[]) => Object.fromEntries(namedValues('--grid', flags).map(([name, values]) => [name, values.split(',').map(numberOrText)]));
const GRID_FLAG = ['--grid <name=v1,v2,…>', 'a parameter and its values, strategy.parameter with several strategies (repeatable)'] as const;
const percent = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)} %`);
const ratio = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(2));
const usd = (x: number) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

withReplayOptions(program.command('backtest').description('run a backtest on stored history, with a progress bar and a results table'))
  .option('--param <k=v>', 'strategy parameter, strategy.parameter=value with several strategies (repeatable)', repeated, [] as string[])
  .action(async (opts: ReplayOptions & { param: string[] }) => {
    const e = clientEnv();
    const params = Object.fromEntries(namedValues('--param', opts.param).map(([k, v]) => [k, numberOrText(v)]));
    const parsed = backtestBodySchema.safeParse({ ...replayBody(opts), params });
    if (!parsed.success) throw new UsageError(describeIssues(parsed.error));
    const t = await connectTemporal(e);
    try {
      await warnWithoutBacktestWorker(t, e.TEMPORAL_NAMESPACE);
      const started = await startBacktest(t.client, resolveBacktest(parsed.data, loadExecutionConfig()));
      say(`backtest ${started.id} (workflow ${started.workflowId}); needs a worker with the backtest role (npm start runs one)`);
      const handle = t.client.workflow.getHandle(started.workflowId);
      const done = handle.result();
      await progressBar(done, 'backtest [{bar}] {percentage}% | {value}/{total} bars | equity {equity}', async () => {
        const p = await handle.query(backtestProgressQuery).catch(() => null);
        return p && { done: p.barsDone, total: p.barsTotal, payload: { equity: p.equity.toFixed(2) } };
      });
      const s = await done;
      const byRule = (counts: Record<string, number> = {}) => Object.entries(counts).map(([rule, n]) => `${n} ${rule}`).join(', ') || 'none';
      const rows: Array<[string, string]> = [
        ['bars', s.bars.toLocaleString('en-US')], ['final equity', usd(s.finalEquity)],
        ['total return', percent(s.totalReturn)], ['buy and hold', percent(s.buyAndHoldReturn)], ['exposure', percent(s.exposureTime)],
        ['sharpe', ratio(s.sharpe)], ['max drawdown', percent(s.maxDrawdownPct)], ['trades', String(s.tradeCount)],
        ['rejected signals', byRule(s.rejectionsByRule)], ['shrunk by a cap', byRule(s.shrunkByRule)], ['annualised with', `${s.periodsPerYear} periods a year`],
      ];
      for (const [k, v] of rows) console.log(`  ${k.padEnd(17)} ${v}`);
      const api = `http://${e.HOST}:${e.PORT}/api/v1/backtests/${started.id}`;
      say(`details: ${api}/result   report: ${api}/report.html`);
    } finally {
      await t.close();
    }
  });

withReplayOptions(program.command('sweep').description('a parameter sweep: one backtest per combination of --grid values, shared by every backtest worker, ranked'))
  .requiredOption(...GRID_FLAG, repeated, [] as string[])
  .option('--metric <name>', 'rank by sharpe, totalReturn, finalEquity or maxDrawdownPct (lowest first)', 'sharpe')
  .action(async (opts: ReplayOptions & { grid: string[]; metric: string }) => {
    const e = clientEnv();
    const parsed = sweepBodySchema.safeParse({ ...replayBody(opts), grid: gridOf(opts.grid), metric: opts.metric });
    if (!parsed.success) throw new UsageError(describeIssues(parsed.error));
    const t = await connectTemporal(e);
    try {
      await warnWithoutBacktestWorker(t, e.TEMPORAL_NAMESPACE);
      const started = await startSweep(t.client, parsed.data, loadExecutionConfig());
      say(`sweep ${started.id} (workflow ${started.workflowId}): a backtest per combination, run by the workers with the backtest role (npm start runs one; more share them)`);
      const handle = t.client.workflow.getHandle<typeof sweepWorkflow>(started.workflowId);
      const done = handle.result();
      await progressBar(done, 'sweep [{bar}] {percentage}% | {value}/{total} combinations', () => handle.query(sweepProgressQuery).catch(() => null));
      const { ranked, metric } = await done;
      const idWidth = `${started.id}-${ranked.length - 1}`.length + 2;
      console.log(`  ${'rank'.padEnd(5)}${'sharpe'.padStart(8)}${'return'.padStart(11)}${'max dd'.padStart(10)}${'trades'.padStart(8)}${'final equity'.padStart(15)}  ${'backtest'.padEnd(idWidth)}parameters`);
      ranked.forEach((entry, k) => {
        const s = entry.summary;
        const figures = s
          ? `${ratio(s.sharpe).padStart(8)}${percent(s.totalReturn).padStart(11)}${percent(s.maxDrawdownPct).padStart(10)}`
            + `${String(s.tradeCount).padStart(8)}${usd(s.finalEquity).padStart(15)}`
          : `  failed: ${entry.error ?? 'no result'}`.padEnd(52);
        console.log(`  ${String(k + 1).padEnd(5)}${figures}  ${entry.backtestId.padEnd(idWidth)}${JSON.stringify(entry.params)}`);
      });
      // Every combination replays the same coins and range, so the same buy and hold.
      const held = ranked.find((entry) => entry.summary)?.summary;
      if (held) console.log(`  buy and hold over the same coins and range: ${percent(held.buyAndHoldReturn)}`);
      const api = `http://${e.HOST}:${e.PORT}/api/v1/backtests`;
      say(`ranked by ${metric}: ${api}/sweeps/${started.id} (the dashboard's Backtests view shows it by its id); one backtest: ${api}/<backtest>/result`);
    } finally {
      await t.close();
    }
  });

withReplayOptions(program.command('walk-forward').description('walk-forward analysis: each fold sweeps its in-sample window, its best parameters trade the next stretch'))
  .requiredOption(...GRID_FLAG, repeated, [] as string[])
  .requiredOption('--folds <n>', 'out-of-sample stretches, run in order')
  .requiredOption('--in-sample-days <n>', 'days each fold sweeps before its out-of-sample stretch')
  .option('--metric <name>', 'pick each fold\'s best by sharpe, totalReturn, finalEquity or maxDrawdownPct (lowest)', 'sharpe')
  .action(async (opts: ReplayOptions & { grid: string[]; folds: string; inSampleDays: string; metric: string }) => {
    const e = clientEnv();
    const parsed = walkForwardBodySchema.safeParse({
      ...replayBody(opts), grid: gridOf(opts.grid), metric: opts.metric, folds: Number(opts.folds), inSampleDays: Number(opts.inSampleDays),
    });
    if (!parsed.success) throw new UsageError(describeIssues(parsed.error));
    const t = await connectTemporal(e);
    try {
      await warnWithoutBacktestWorker(t, e.TEMPORAL_NAMESPACE);
      const started = await startWalkForward(t.client, parsed.data, loadExecutionConfig());
      say(`walk-forward ${started.id} (workflow ${started.workflowId}): run by the workers with the backtest role (npm start runs one)`);
      const handle = t.client.workflow.getHandle<typeof walkForwardWorkflow>(started.workflowId);
      const done = handle.result();
      await progressBar(done, 'walk-forward [{bar}] {value}/{total} folds', async () => {
        const p = await handle.query(walkForwardProgressQuery).catch(() => null);
        return p && { done: p.foldsDone, total: p.folds };
      });
      const { folds, stitched } = await done;
      const span = (w: { from: number; to: number }) => `${isoDate(w.from)} → ${isoDate(w.to)}`;
      console.log(`  ${'fold'.padEnd(5)}${'in sample'.padEnd(26)}${'out of sample'.padEnd(26)}${'return'.padStart(11)}${'buy & hold'.padStart(12)}`
        + `${'sharpe'.padStart(8)}  best in sample`);
      for (const f of folds) {
        const s = f.outOfSample.summary;
        console.log(`  ${String(f.fold).padEnd(5)}${span(f.inSample).padEnd(26)}${span(f.outOfSample).padEnd(26)}${percent(s?.totalReturn).padStart(11)}`
          + `${percent(s?.buyAndHoldReturn).padStart(12)}${ratio(s?.sharpe).padStart(8)}  ${f.inSample.best ? JSON.stringify(f.inSample.best.params) : 'none'}`);
      }
      say(`out of sample, folds chained: ${usd(stitched.initialCapital)} → ${usd(stitched.finalEquity)} (${percent(stitched.totalReturn)}); `
        + `http://${e.HOST}:${e.PORT}/api/v1/backtests/walk-forward/${started.id}`);
    } finally {
      await t.close();
    }
  });

program.command('backtests').description('the newest stored backtests with their figures (ids to open: /api/v1/backtests/<id>/result)')
  .option('--limit <n>', 'how many, 1 to 200', '20')
  .option('--children', 'include the backtests of sweeps and walk-forwards')
  .action(async (opts: { limit: string; children?: boolean }) => {
    const e = clientEnv();
    const parsed = backtestListQuery.safeParse({ limit: opts.limit, children: opts.children ? 'true' : 'false' });
    if (!parsed.success) throw new UsageError(describeIssues(parsed.error).replace(/^limit/, '--limit'));
    const db = connectDatabase(e.DATABASE_URL);
    try {
      const { backtests } = await recentBacktests(db.db, parsed.data);
      if (backtests.length === 0) say('no backtest stored yet: `mts backtest --strategies live --assets bitcoin,ethereum --from … --to …`');
      for (const b of backtests) {
        console.log(`  ${b.id.padEnd(16)} ${percent(b.totalReturn).padStart(10)} ${`sharpe ${ratio(b.sharpe)}`.padEnd(13)} ${b.from} → ${b.to}  ${b.strategy} on ${b.assets.join(', ')}`);
      }
    } finally {
      await db.close();
    }
  });

/** Refuses, as bad usage of `flag`, a tier or an asset that config/collection.json does not have. */
function knownTargets(flag: string, config: CollectionConfig, request: { tier: string } | { assets: string[] }): void {
  try {
    collectionTargets(config, request);
  } catch (err) {
    if (err instanceof UnknownTargetError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

program.command('collect').description('start a collection now')
  .option('--tier <tier>', 'a tier from config/collection.json')
  .option('--assets <list>', 'comma-separated configured assets')
  .action(async (opts: { tier?: string; assets?: string }) => {
    if (!opts.tier === !opts.assets) throw new UsageError('give exactly one of --tier or --assets');
    const parsed = collectBody.safeParse(opts.tier ? { tier: opts.tier } : { assets: opts.assets!.split(',') });
    if (!parsed.success) throw new UsageError(describeIssues(parsed.error));
    const config = loadCollectionConfig();
    knownTargets(opts.tier ? '--tier' : '--assets', config, parsed.data);
    const e = clientEnv();
    const t = await connectTemporal(e);
    const started = await startCollection(t.client, config, parsed.data);
    say(`started ${started.workflowId}`);
    await t.close();
  });

program.command('backfill').description('fill gaps for assets over a date range (a backfillWorkflow)')
  .requiredOption('--assets <list>', 'comma-separated configured assets')
  .requiredOption('--from <date>', 'start, ISO date or time')
  .option('--to <date>', 'end (exclusive), ISO date or time', new Date().toISOString())
  .action(async (opts: { assets: string; from: string; to: string }) => {
    const parsed = backfillBody.safeParse({ assets: opts.assets.split(','), from: opts.from, to: opts.to });
    if (!parsed.success) throw new UsageError(describeIssues(parsed.error));
    const config = loadCollectionConfig();
    knownTargets('--assets', config, { assets: parsed.data.assets });
    const e = clientEnv();
    const t = await connectTemporal(e);
    const started = await startBackfill(t.client, config, parsed.data);
    say(`started ${started.workflowId}; progress: GET /api/v1/runs/${encodeURIComponent(started.workflowId)}`);
    await t.close();
  });

program.command('import-csv').description('load a CSV: OHLCV bars into crypto_ohlcv (--asset) or a daily series into macro_indicators (--indicator)')
  .option('--asset <asset>', 'coin id to store OHLCV bars under, e.g. bitcoin')
  .option('--indicator <series>', 'macro series to store a date,value file under, e.g. VIXCLS')
  .requiredOption('--file <path>', 'CSV file')
  .option('--interval <minutes>', 'bar length in minutes (inferred from the data when omitted)')
  .option('--column <name>', 'value column of a macro file (default: the one named like the indicator)')
  .option('--volume-in <unit>', 'the file\'s volume unit: coin (stored as is) or usd (yfinance; converted at each close)', 'coin')
  .action(async (opts: { asset?: string; indicator?: string; file: string; interval?: string; column?: string; volumeIn: string }) => {
    if (!opts.asset === !opts.indicator) throw new UsageError('give exactly one of --asset or --indicator');
    if (opts.volumeIn !== 'coin' && opts.volumeIn !== 'usd') throw new UsageError(`--volume-in: "${opts.volumeIn.slice(0, 16)}" must be coin or usd`);
    // The same name rule as the API's, so an imported coin can be asked for there.
    if (opts.asset !== undefined && !assetName.safeParse(opts.asset).success) throw new UsageError(`--asset: "${opts.asset.slice(0, 64)}" must be 1–64 letters, digits, ".", "_" or "-"`);
    if (opts.indicator !== undefined && !/^[A-Za-z0-9_]{1,64}$/.test(opts.indicator)) throw new UsageError(`--indicator: "${opts.indicator.slice(0, 64)}" must be 1–64 letters, digits or "_"`);
    if (!statSync(opts.file, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`--file: "${opts.file}" is not a file`);
    const e = clientEnv();
    const intervalMinutes = opts.interval === undefined ? undefined : Number(opts.interval);
    if (intervalMinutes !== undefined && !(Number.isInteger(intervalMinutes) && intervalMinutes > 0)) {
      throw new UsageError(`--interval: "${opts.interval}" is not a whole number of minutes`);
    }
    await migrateDatabase(e.DATABASE_URL);
    const db = connectDatabase(e.DATABASE_URL);
    try {
      if (opts.indicator) {
        const r = await importMacroCsv(db.db, { indicator: opts.indicator, file: opts.file, column: opts.column });
        say(`${r.indicator}: ${r.rowsRead} rows read, ${r.rowsWritten} written (${r.forwardFilled} forward-filled gaps), ${r.first} … ${r.last}`);
        return;
      }
      const bar = new SingleBar({ format: 'import [{bar}] {percentage}% | {value}/{total} bars', hideCursor: true });
      let started = false;
      const result = await importCsv(db.db, {
        asset: opts.asset!, file: opts.file, intervalMinutes, volumeIn: opts.volumeIn,
        onProgress: (done, total) => {
          if (!started) { bar.start(total, 0); started = true; }
          bar.update(done);
        },
      });
      if (started) bar.stop();
      say(`${result.asset}: ${result.rowsRead} rows read, ${result.rowsWritten} written, ${result.intervalMinutes}-minute bars ${result.first} … ${result.last}`);
      if (result.duplicates) say(`${result.duplicates} rows repeated an earlier timestamp and were skipped`);
      if (result.rejected.length) {
        say(`${result.rejected.length} rows rejected:`);
        for (const r of result.rejected.slice(0, 10)) say(`  ${r.reason}`);
      }
    } finally {
      await db.close();
    }
  });

program.command('signals').description('run the strategies now, at --as-of, or over --from/--to (a generateSignalsWorkflow)')
  .option('--as-of <time>', 'one decision time, ISO date or time')
  .option('--from <date>', 'first decision time of a range')
  .option('--to <date>', 'last decision time of a range')
  .option('--assets <list>', 'comma-separated coins (default: every strategy asset)')
  .option('--no-distribute', 'store alerts without sending them')
  .action(async (opts: { asOf?: string; from?: string; to?: string; assets?: string; distribute: boolean }) => {
    const e = clientEnv();
    const time = (flag: string, v?: string) => {
      if (v === undefined) return undefined;
      const t = Date.parse(v);
      if (Number.isNaN(t)) throw new UsageError(`${flag}: "${v}" is not a date`);
      return t;
    };
    const request = {
      asOf: time('--as-of', opts.asOf), from: time('--from', opts.from), to: time('--to', opts.to), assets: opts.assets?.split(','), distribute: opts.distribute,
    };
    const t = await connectTemporal(e);
    try {
      const started = await startSignalGeneration(t.client, request);
      say(`started ${started.workflowId} (a worker with the pipeline role runs it: npm start has one)`);
      const handle = t.client.workflow.getHandle(started.workflowId);
      const done = handle.result();
      await whileRunning(done, 2000, async (finished) => {
        const p = finished ? null : await handle.query(signalsProgressQuery).catch(() => null);
        if (p) say(`${p.stepsDone}/${p.stepsTotal} decision times, ${p.signals} signals, ${p.aggregated} aggregated, ${p.alerts} alerts`);
      });
      const r = await done;
      const outcomes = Object.entries(r.sagaOutcomes).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
      say(`done: ${r.stepsDone} decision times, ${r.signals} strategy signals, ${r.aggregated} aggregated, ${r.alerts} alerts ` +
        `(${r.deliveries.delivered} delivered, ${r.deliveries.failed} failed), trades: ${outcomes}`);
      for (const f of r.strategyFailures) say(`strategy ${f.strategy} failed at ${new Date(f.asOf).toISOString()}: ${f.error}`);
    } finally {
      await t.close();
    }
  });

program.command('prices').description('the latest streamed price of each asset and its age')
  .option('--follow', 'keep printing prices as they change (Ctrl-C to stop)')
  .action(async (opts: { follow?: boolean }) => {
    const e = clientEnv();
    const db = connectDatabase(e.DATABASE_URL, 1);
    const printed = new Map<string, number>();
    const show = async () => {
      const prices = await readLatestPrices(db.db);
      if (prices.length === 0 && printed.size === 0 && !opts.follow) {
        say('no streamed prices yet: `npm start` runs the simulated stream (MARKET_STREAM); a market-stream worker writes them');
      }
      for (const p of prices) {
        if (printed.get(p.asset) === p.time) continue;
        printed.set(p.asset, p.time);
        const age = ((Date.now() - p.time) / 1000).toFixed(1);
        console.log(`${new Date(p.time).toISOString()}  ${p.asset.padEnd(16)} ${p.price.toPrecision(8).padStart(14)}  ${p.source} (${age} s old)`);
      }
    };
    try {
      await show();
      while (opts.follow) {
        await new Promise((r) => setTimeout(r, 1000));
        await show();
      }
    } finally {
      await db.close();
    }
  });

program.command('status').description('schedules, collection health, the bars stored, workers on each task queue, the portfolio and the latest failures')
  .action(async () => {
    const e = clientEnv();
    const t = await connectTemporal(e);
    const db = connectDatabase(e.DATABASE_URL);
    try {
      const s = await systemStatus({
        client: t.client, db: db.db, namespace: e.TEMPORAL_NAMESPACE, collection: loadCollectionConfig(),
        portfolioId: loadExecutionConfig().portfolioId, initialCapital: e.INITIAL_CAPITAL,
      });
      const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '—');
      console.log('Schedules');
      if (s.schedules.length === 0) console.log('  none: `npm start` (or `mts schedules sync`) creates them');
      for (const x of s.schedules) console.log(`  ${x.id.padEnd(26)} ${x.paused ? 'PAUSED ' : 'active '} next ${when(x.nextActionTimes[0] ?? null)}`);
      console.log(`Collection (provider calls today: ${s.collection.budget.callsMadeToday}; ${s.collection.unhealthy} unhealthy)`);
      if (s.collection.assets.length === 0) console.log('  nothing collected yet: `mts collect --tier high_frequency`');
      for (const a of s.collection.assets) {
        const health = a.health === 'unhealthy' ? `UNHEALTHY: ${a.reasons.join('; ')}` : 'ok';
        console.log(`  ${a.tier.padEnd(15)} ${a.asset.padEnd(16)} last success ${when(a.lastSuccessAt)}  ${health}${a.lastError ? ` (last error: ${redactSecrets(a.lastError).slice(0, 80)})` : ''}`);
      }
      console.log('Stored bars (first → last)');
      if (s.stored.assets.length === 0) console.log('  none yet: `mts collect --tier high_frequency`, `mts backfill` or `mts import-csv`');
      for (const { asset, intervals } of s.stored.assets) {
        console.log(`  ${asset.padEnd(16)} ${intervals.map((i) => `${i.intervalMinutes} min ${when(i.firstTime)} → ${when(i.lastTime)}`).join('; ')}`);
      }
      console.log('Workers');
      for (const q of s.queues) {
        const off = q.taskQueue === TASK_QUEUES.marketStream && e.MARKET_STREAM === 'none' && !q.pollers.length;
        console.log(`  ${q.taskQueue.padEnd(22)} ${q.pollers.length ? q.pollers.join(', ') : off ? 'off (MARKET_STREAM=none)' : 'NO WORKER: start `npm start` or `mts worker`'}`);
      }
      const p = s.portfolio;
      console.log(`Portfolio "${p.id}": equity $${p.equity.toFixed(2)}, cash $${p.cash.toFixed(2)}, ${p.openPositions} open positions, drawdown ${(p.drawdown * 100).toFixed(2)} %`);
      console.log('Latest failures');
      if (s.failures.length === 0) console.log('  none');
      for (const f of s.failures) console.log(`  ${when(f.startTime)} ${f.workflowId}: ${redactSecrets(f.failure ?? 'failed').slice(0, 120)}  (mts retry ${f.workflowId})`);
    } finally {
      await Promise.all([t.close(), db.close()]);
    }
  });

program.command('runs').description('workflow runs, newest first (the Temporal Web UI shows the same)')
  .option('--type <workflowType>', 'e.g. collectTierWorkflow, backtestWorkflow')
  .option('--status <status>', 'running, completed, failed, cancelled, terminated, timed_out')
  .option('--limit <n>', 'how many', '20')
  .action(async (opts: { type?: string; status?: string; limit: string }) => {
    const e = clientEnv();
    const status = opts.status?.toUpperCase();
    if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status: one of ${RUN_STATUSES.join(', ').toLowerCase()}`);
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit: "${opts.limit}" is not a whole number from 1 to 1000`);
    const t = await connectTemporal(e);
    try {
      const runs = await listRuns(t.client, { type: opts.type, status: status as RunStatus | undefined, limit });
      if (runs.length === 0) say('no runs yet: `npm start` schedules collections every 15 minutes, or run `mts collect --tier high_frequency`');
      // The long ones still running say how far they are (a query each, answered by their workers).
      const progress = await Promise.all(runs.map(async (r) =>
        (r.status === 'RUNNING' && r.type in PROGRESS_QUERIES ? `  ${progressText(await runProgress(t.client, r))}` : '')));
      runs.forEach((r, k) => console.log(`${r.status.padEnd(10)} ${r.startTime.slice(0, 19).replace('T', ' ')}  ${r.type.padEnd(26)} ${r.workflowId}${progress[k]}`));
    } finally {
      await t.close();
    }
  });

program.command('retry <workflowId>').description('retry a failed, cancelled, terminated or timed-out run (reset to its first workflow task, or start its input again)')
  .action(async (workflowId: string) => {
    const e = clientEnv();
    const t = await connectTemporal(e);
    try {
      const r = await retryRun(t.client, workflowId);
      say(`${r.workflowId}: ${r.method === 'reset' ? 'reset to its first workflow task' : 'started again with the same input'} (run ${r.runId})`);
    } finally {
      await t.close();
    }
  });

/**
 * Exit codes: 0 done; 1 an error (a service unreachable, a refused request); 2 bad usage or
 * configuration; 3 the run itself failed (its reason is printed).
 */
program.parseAsync().catch((thrown: Error) => {
  if (thrown instanceof WorkflowFailedError) {
    console.error(`mts: the run failed: ${redactSecrets(innermostMessage(thrown))}`);
    process.exit(3);
  }
  // The one socket the CLI opens itself is Postgres's (Temporal's client says so in its own words).
  const unreachable = unreachableAddress(thrown);
  if (unreachable) {
    console.error(`mts: cannot reach Postgres at ${unreachable.address} (${unreachable.reason}): start it, or point DATABASE_URL at yours`);
    process.exit(1);
  }
  const err = briefQueryError(thrown) as Error;
  // A client error often wraps the reason (a start refused by the server): both, when they differ.
  const reason = innermostMessage(err);
  console.error(`mts: ${redactSecrets(reason === err.message ? err.message : `${err.message}: ${reason}`)}`);
  process.exit(err instanceof UsageError || err instanceof ConfigError || err instanceof RunNotFoundError ? 2 : 1);
});
