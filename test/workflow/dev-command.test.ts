import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { dropDatabase } from '../../src/db/client';

const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, '127.0.0.1').once('connect', () => { socket.destroy(); resolve(true); }).once('error', () => resolve(false));
});

const SECRETS = {
  ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hook', ALERT_WEBHOOK_SECRET: 'webhook-secret-0123456789',
  DISCORD_WEBHOOK_URL: 'https://discord.com/api/webhooks/123/discordtoken-abcdef', COINGECKO_API_KEY: 'coingecko-key-xyz', FRED_API_KEY: 'fred-key-123',
};

/** The CLI and the tsx loader by absolute path, so the CLI can run from another directory. */
const cliPath = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const tsxLoader = import.meta.resolve('tsx');

const database = new URL(inject('databaseUrl'));
database.pathname = `${database.pathname}_dev`;
const dataDir = mkdtempSync(join(tmpdir(), 'mts-dev-'));
/** Stacks a test started: one whose test failed half-way is still stopped, with its Temporal dev server. */
const stacks: Array<{ child: ReturnType<typeof spawn>; exited: Promise<number | null> }> = [];
afterAll(async () => {
  for (const s of stacks) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await Promise.all(stacks.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 20_000))])));
  rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase(database.toString());
});

/** Starts a command that brings up the stack, resolving once it prints the API line; its output so far stays readable. */
async function startStack(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  stacks.push({ child, exited });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); if (output.includes('API:')) resolve(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    void exited.then((code) => reject(new Error(`${command} ${args.join(' ')} exited early (${code}):\n${output}`)));
  });
  return { child, exited, output: () => output };
}

describe('mts dev (what npm start runs)', () => {
  it('starts its own Temporal dev server, workers and API, and stops all of it on SIGTERM', async () => {
    const [api, temporal, ui] = [await freePort(), await freePort(), await freePort()];
    const { TEMPORAL_ADDRESS: _, ...inherited } = process.env;
    const { child, exited, output: read } = await startStack(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'dev'], {
      ...inherited, DATABASE_URL: database.toString(), PORT: String(api), TEMPORAL_PORT: String(temporal), TEMPORAL_UI_PORT: String(ui), MTS_DATA_DIR: dataDir, LOG_LEVEL: 'info',
      // The warm-up is the next test's: this one starts and stops an empty stack.
      SIMULATED_WARM_UP_DAYS: '0',
      // Every secret the process is configured with, so the grep below looks for each.
      ...SECRETS,
    });
    expect((await fetch(`http://127.0.0.1:${api}/ready`)).status).toBe(200);
    expect(await accepts(temporal)).toBe(true);
    // The dashboard, where the output says it is.
    expect(read()).toContain(`dashboard:   http://127.0.0.1:${api}/`);
    expect(read()).not.toContain('warm-up:');
    const dashboard = await fetch(`http://127.0.0.1:${api}/`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain('<script type="module" src="/app.js">');
    // Requests with the generated admin key and with a guessed one, both logged by the API.
    const key = readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim();
    const guessed = 'guessed-key-0123456789abcdef';
    expect((await fetch(`http://127.0.0.1:${api}/api/v1/schedules`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${api}/api/v1/schedules`, { headers: { authorization: `Bearer ${guessed}` } })).status).toBe(401);

    child.kill('SIGTERM');
    expect(await exited, read()).toBe(0);
    const output = read();
    expect(output).toContain('[mts] stopped');
    expect(await accepts(temporal)).toBe(false);
    expect(await accepts(api)).toBe(false);
    // Everything the process wrote, from start to stop, holds no key, valid or guessed.
    expect(output).toContain('"url":"/api/v1/schedules"');
    expect(output).not.toContain(key);
    expect(output).not.toContain(guessed);
    for (const secret of ['webhook-secret-0123456789', 'discordtoken-abcdef', 'coingecko-key-xyz', 'fred-key-123']) expect(output).not.toContain(secret);
  }, 180_000);

  it('npm start fills an empty database by itself (history, signals, paper trades), talks to its CLI without ports, and stops completely', async () => {
    const [api, temporal, ui] = [await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'mts-start-'));
    const { TEMPORAL_ADDRESS: _a, PORT: _p, TEMPORAL_PORT: _t, DATABASE_URL: _d, ...inherited } = process.env;
    const { child, exited, output } = await startStack('npm', ['start', '--silent'], {
      ...inherited, DATABASE_URL: database.toString(), PORT: String(api), TEMPORAL_PORT: String(temporal), TEMPORAL_UI_PORT: String(ui), MTS_DATA_DIR: dir, LOG_LEVEL: 'warn',
    });

    // Only the data directory, as a user in the same checkout would have it: ports and database come from the stack.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'runs', '--limit', '3'], { env: { ...inherited, MTS_DATA_DIR: dir }, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stderr).toContain(`talking to mts dev (pid `);
    expect(cli.stderr).toContain(`Temporal 127.0.0.1:${temporal} (default)`);
    expect(cli.stderr).toContain(`API http://127.0.0.1:${api}`);
    // What an operator checks first: every queue has a worker, the Schedules run, the portfolio is its cash.
    const status = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'status'], { env: { ...inherited, MTS_DATA_DIR: dir }, encoding: 'utf8' });
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/mts-tier-hourly\s+active/);
    for (const queue of ['mts-market-data', 'mts-market-stream', 'mts-pipeline', 'mts-trading', 'mts-backtest']) expect(status.stdout).toMatch(new RegExp(`${queue}\\s+\\S*@`));
    expect(status.stdout).not.toContain('NO WORKER');
    expect(status.stdout).toMatch(/Portfolio "default": equity \$\d+\.\d\d/);
    // The simulated stream moves in real time: two reads of the prices a few seconds apart differ.
    const bitcoinLine = () => {
      const out = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'prices'], { env: { ...inherited, MTS_DATA_DIR: dir }, encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      return out.stdout.split('\n').find((l) => / bitcoin /.test(l) && /simulated/.test(l));
    };
    const before = await waitFor('a streamed bitcoin price', bitcoinLine, 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(bitcoinLine()).not.toEqual(before);
    // The warm-up of an empty database: the tiers' history backfilled, the last 30 days decided and
    // each aggregated signal taken through the saga to an end, so the dashboard has signals and trades.
    expect(output()).toContain('warm-up:     first start on the simulated market');
    const key = readFileSync(join(dir, 'dev-api-key'), 'utf8').trim();
    const get = async <T,>(path: string) => (await fetch(`http://127.0.0.1:${api}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<T>;
    type Runs = { runs: Array<{ workflowId: string; status: string }> };
    await waitFor('the warm-up to complete', async () => (await get<Runs>('/runs?limit=200')).runs.some((r) => r.workflowId === 'warm-up' && r.status === 'COMPLETED') || undefined, 150_000);
    const { runs } = await get<Runs>('/runs?limit=200');
    expect(runs.find((r) => r.workflowId === 'warm-up-backfill')?.status).toBe('COMPLETED');
    // bitcoin's 15-minute bars (its tier's) reach back the 400 days volatility_spike's year-long window needs.
    const day = 86_400_000;
    const yearAgo = Math.floor(Date.now() / day) * day - 399 * day;
    const oldest = await get<{ candles: unknown[] }>(`/market-data/bitcoin/candles?interval=15&from=${yearAgo}&to=${yearAgo + day - 1}&limit=200`);
    expect(oldest.candles).toHaveLength(96);
    type Signals = { signals: Array<{ id: number; outcome?: { status: string } }> };
    const aggregates = (await get<Signals>('/signals?strategy=aggregate&limit=500')).signals;
    expect(aggregates.length).toBeGreaterThan(0);
    for (const s of aggregates) expect(['filled', 'rejected', 'compensated', 'filled_unprotected']).toContain(s.outcome?.status);
    // Every filled one is a paper trade of the portfolio, and every signal traded is one of them.
    const filled = aggregates.filter((s) => s.outcome?.status === 'filled').map((s) => String(s.id)).sort();
    const { trades } = await get<{ trades: Array<{ signalId: string | null }> }>('/portfolio/trades?limit=500');
    expect([...new Set(trades.flatMap((t) => (t.signalId ? [t.signalId] : [])))].sort()).toEqual(filled);
    // A run that does not exist is named, with the usage exit code.
    const failing = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'retry', 'no-such-run'], { env: { ...inherited, MTS_DATA_DIR: dir }, encoding: 'utf8' });
    expect(failing.status).toBe(2);
    expect(failing.stderr).toMatch(/mts: no workflow run with id "no-such-run"/);
    // `mts status` lists what is stored: bitcoin's 15-minute bars from at least that day on. (After the
    // last request: spawnSync holds the event loop, and a kept-alive socket the server closed meanwhile
    // would be reused.)
    const stored = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'status'], { env: { ...inherited, MTS_DATA_DIR: dir }, encoding: 'utf8' });
    expect(stored.status, stored.stderr).toBe(0);
    const firstStored = /^ {2}bitcoin +.*\b15 min (\d{4}-\d\d-\d\d) \d\d:\d\d → /m.exec(stored.stdout)?.[1];
    expect(firstStored, stored.stdout).toBeDefined();
    expect(firstStored! <= new Date(yearAgo).toISOString().slice(0, 10)).toBe(true);

    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    await exited;
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    expect(await accepts(api)).toBe(false);
    expect(await accepts(temporal)).toBe(false);
    // Quiet: no poll errors from the SDK or the dev server on the way out.
    expect(output()).not.toMatch(/network dial error|Failed to poll/);
    expect(existsSync(join(dir, 'stack.json'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('npm run build: node runs the built CLI and its prebuilt workflow bundle with no TypeScript sources beside it', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    // What the image holds: the build, the configs and migrations, the packages; no src/, no tsx.
    const app = mkdtempSync(join(tmpdir(), 'mts-built-'));
    for (const entry of ['dist', 'config', 'drizzle', 'package.json']) cpSync(join(root, entry), join(app, entry), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'));
    const [api, temporal, ui] = [await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'mts-built-data-'));
    const { TEMPORAL_ADDRESS: _a, PORT: _p, TEMPORAL_PORT: _t, DATABASE_URL: _d, NODE_OPTIONS: _n, ...inherited } = process.env;
    const { child, exited, output } = await startStack(process.execPath, [join(app, 'dist', 'cli.js'), 'dev'], {
      ...inherited, DATABASE_URL: database.toString(), PORT: String(api), TEMPORAL_PORT: String(temporal), TEMPORAL_UI_PORT: String(ui), MTS_DATA_DIR: dir, LOG_LEVEL: 'warn',
    });
    expect((await fetch(`http://127.0.0.1:${api}/ready`)).status).toBe(200);
    const key = readFileSync(join(dir, 'dev-api-key'), 'utf8').trim();
    const strategies = await fetch(`http://127.0.0.1:${api}/api/v1/strategies`, { headers: { authorization: `Bearer ${key}` } });
    expect(strategies.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited, output()).toBe(0);
    rmSync(app, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('reads a .env beside it, under the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mts-dotenv-'));
    writeFileSync(join(dir, '.env'), `DATABASE_URL=${inject('databaseUrl')}\nTEMPORAL_NAMESPACE=from-dotenv\nMTS_DATA_DIR=${join(dir, 'data')}\n`);
    const { TEMPORAL_ADDRESS: _a, DATABASE_URL: _d, TEMPORAL_NAMESPACE: _n, MTS_DATA_DIR: _m, ...inherited } = process.env;
    const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['--import', tsxLoader, cliPath, 'keys', 'list'], { cwd: dir, env, encoding: 'utf8' });
    const fromFile = run(inherited);
    expect(fromFile.status, fromFile.stderr).toBe(0);
    expect(fromFile.stderr).toContain(`(from-dotenv), database ${inject('databaseUrl')}`);
    const fromEnv = run({ ...inherited, TEMPORAL_NAMESPACE: 'from-env' });
    expect(fromEnv.stderr).toContain('(from-env)');
    rmSync(dir, { recursive: true, force: true });
  });
});
