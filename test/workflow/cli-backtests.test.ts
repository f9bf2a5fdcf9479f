import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { backtestResult } from '../../src/services/backtests';
import { importCsv } from '../../src/services/csv-import';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import type { SweepResult, WalkForwardResult } from '../../src/workflows/types';
import { heldReturn, MARKET, yfinanceDaily } from '../support/market-files';
import { backtestDeps, backtestWorker, withWorkers, workflowTestContext } from '../support/temporal';

const ctx = workflowTestContext();
const DAY = 86_400_000;
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `mts <args>` as a user runs it, against the test stack (no `mts dev` recorded in its data dir), in
 * its own process while this one runs the backtest worker.
 */
function mts(args: string[], opts: { temporalAddress?: string; databaseUrl?: string; until?: RegExp } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { TEMPORAL_ADDRESS: _a, DATABASE_URL: _d, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inherited, TEMPORAL_ADDRESS: opts.temporalAddress ?? inject('temporalAddress'), DATABASE_URL: opts.databaseUrl ?? inject('databaseUrl'),
      MTS_DATA_DIR: mkdtempSync(join(tmpdir(), 'mts-cli-')),
    },
  });
  let stdout = '';
  let stderr = '';
  // With `until`, the command is stopped once its output says that (a run left waiting).
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); if (opts.until?.test(stdout)) child.kill('SIGTERM'); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const range = ['--assets', 'bitcoin', '--from', '2020-01-01', '--to', '2021-06-01'];
/** The runs the tests below started, for the listing at the end. */
const started: { sweep?: string; backtest?: string } = {};

beforeAll(async () => {
  await importCsv(ctx.handle.db, { asset: 'bitcoin', file: `${MARKET}crypto_daily/yfinance/BTC-USD_1d.csv`, volumeIn: 'usd' });
});

describe('mts sweep, walk-forward and backtest', () => {
  it('sweeps a grid, one backtest per combination, and prints them ranked as the sweep ranked them', async () => {
    const run = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(ctx.handle, ctx.kit.client))], () =>
      mts(['sweep', '--strategy', 'sma_crossover', ...range, '--grid', 'fast=5,10', '--grid', 'slow=30,40']));
    expect(run.code, run.stderr).toBe(0);
    const id = /sweep (bt-sw\w+) \(workflow/.exec(run.stdout)?.[1];
    expect(id, run.stdout).toBeDefined();
    started.sweep = id;
    const swept: SweepResult = await ctx.kit.client.workflow.getHandle(`sweep-${id}`).result();
    // Each printed row: rank, sharpe, return, drawdown, trades, final equity, backtest id, parameters.
    const rows = run.stdout.split('\n').filter((l) => /^ {2}\d+ /.test(l)).map((l) => l.trim().split(/\s{2,}/));
    expect(rows.map((r) => r[6])).toEqual(swept.ranked.map((e) => e.backtestId));
    expect(rows.map((r) => JSON.parse(r[7]) as unknown)).toEqual(swept.ranked.map((e) => e.params));
    // Every combination once, best Sharpe first.
    const combos = rows.map((r) => JSON.parse(r[7]) as Record<string, number>).map((p) => `${p['sma_crossover.fast']}/${p['sma_crossover.slow']}`);
    expect(combos.sort()).toEqual(['10/30', '10/40', '5/30', '5/40']);
    const sharpes = rows.map((r) => Number(r[1]));
    expect(sharpes).toEqual([...sharpes].sort((a, b) => b - a));
    expect(sharpes[0]).toBe(Number(swept.ranked[0].summary!.sharpe!.toFixed(2)));
    // Buy and hold over the range, worked out here from the file the test imported.
    const held = heldReturn(yfinanceDaily('BTC-USD'), DAY, Date.parse('2020-01-01T00:00:00Z'), Date.parse('2021-06-01T00:00:00Z'));
    expect(run.stdout).toContain(`buy and hold over the same coins and range: ${(held * 100).toFixed(2)} %\n`);
  }, 120_000);

  it('backtests one strategy with --param and prints the stored result', async () => {
    const run = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(ctx.handle, ctx.kit.client))], () =>
      mts(['backtest', '--strategy', 'sma_crossover', ...range, '--param', 'fast=5', '--param', 'slow=20']));
    expect(run.code, run.stderr).toBe(0);
    const id = /backtest (bt-\w+) \(workflow/.exec(run.stdout)![1];
    started.backtest = id;
    const stored = await backtestResult(ctx.handle.db, id);
    expect(stored?.parameters).toEqual({ sma_crossover: expect.objectContaining({ fast: 5, slow: 20 }) });
    const printed = /final equity +\$([\d,.]+)/.exec(run.stdout)![1];
    expect(Number(printed.replaceAll(',', ''))).toBeCloseTo(stored!.finalValue, 2);
  }, 120_000);

  it('walks forward: a row per fold with the best in-sample parameters, and the folds chained', async () => {
    const run = await withWorkers([await backtestWorker(ctx.kit, backtestDeps(ctx.handle, ctx.kit.client))], () => mts([
      'walk-forward', '--strategy', 'sma_crossover', '--assets', 'bitcoin', '--from', '2019-01-01', '--to', '2021-06-01',
      '--grid', 'fast=5,10', '--grid', 'slow=20,30', '--folds', '2', '--in-sample-days', '120',
    ]));
    expect(run.code, run.stderr).toBe(0);
    const id = /walk-forward (bt-wf\w+) \(workflow/.exec(run.stdout)![1];
    const result: WalkForwardResult = await ctx.kit.client.workflow.getHandle(`walkforward-${id}`).result();
    const rows = run.stdout.split('\n').filter((l) => /^ {2}\d+ /.test(l)).map((l) => l.trim().split(/\s{2,}/));
    expect(rows).toHaveLength(2);
    rows.forEach((row, k) => {
      const fold = result.folds[k];
      const span = (w: { from: number; to: number }) => `${new Date(w.from).toISOString().slice(0, 10)} → ${new Date(w.to).toISOString().slice(0, 10)}`;
      expect(row.slice(1, 3)).toEqual([span(fold.inSample), span(fold.outOfSample)]);
      expect(JSON.parse(row.at(-1)!)).toEqual(fold.inSample.best!.params);
      // Each stretch's buy and hold beside its return, worked out here from the file.
      expect(row[4]).toBe(`${(heldReturn(yfinanceDaily('BTC-USD'), DAY, fold.outOfSample.from, fold.outOfSample.to) * 100).toFixed(2)} %`);
    });
    // The chained folds, worked out here from each fold's own return.
    const chained = result.folds.reduce((equity, f) => equity * (1 + f.outOfSample.summary!.totalReturn!), 10_000);
    const printed = /folds chained: \$10,000\.00 → \$([\d,.]+)/.exec(run.stdout)![1];
    expect(Number(printed.replaceAll(',', ''))).toBeCloseTo(chained, 2);
  }, 120_000);

  it('lists the stored backtests, a sweep\'s children only with --children', async () => {
    const ids = (out: string) => out.split('\n').filter((l) => /^ {2}bt-/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    const own = await mts(['backtests', '--limit', '200']);
    expect(own.code, own.stderr).toBe(0);
    expect(ids(own.stdout)).toContain(started.backtest);
    expect(ids(own.stdout).some((id) => id.startsWith('bt-sw') || id.startsWith('bt-wf'))).toBe(false);
    const all = await mts(['backtests', '--limit', '200', '--children']);
    expect(ids(all.stdout)).toEqual(expect.arrayContaining([started.backtest, `${started.sweep}-0`, `${started.sweep}-3`]));
    const refused = await mts(['backtests', '--limit', '0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--limit: /);
  }, 60_000);

  it('on a new cluster registers the search attributes it starts runs with, and says when no backtest worker polls', async () => {
    // A Temporal server of its own: no MTS search attributes, no worker ever.
    const cli = findTemporalCli()!;
    const bare = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: cli }, ip: '127.0.0.1', log: { format: 'pretty', level: 'never' } } });
    try {
      const run = await mts(['sweep', '--strategy', 'sma_crossover', ...range, '--grid', 'fast=5,10'], { temporalAddress: bare.address, until: /sweep bt-sw\w+ \(workflow/ });
      expect(run.stderr).not.toMatch(/mts:/);
      expect(run.stdout).toContain('[mts] no worker polls mts-backtest: the run waits until one does (npm start, or mts worker --role backtest)');
      const id = /sweep (bt-sw\w+) \(workflow/.exec(run.stdout)![1];
      const waiting = bare.client.workflow.getHandle(`sweep-${id}`);
      expect((await waiting.describe()).status.name).toBe('RUNNING');
      // `mts runs` lists it running; with no worker to answer its progress query, it says so rather than waiting.
      const listed = await mts(['runs', '--limit', '5'], { temporalAddress: bare.address });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^RUNNING .* sweepWorkflow +sweep-${id} +no progress reported yet$`, 'm'));
      await waiting.terminate('test over');
    } finally {
      await bare.teardown();
    }
  }, 120_000);

  it('refuses a bad grid before starting anything, naming the flag or the field', async () => {
    const unpaired = await mts(['sweep', '--strategy', 'sma_crossover', ...range, '--grid', 'fast']);
    expect(unpaired.code).toBe(2);
    expect(unpaired.stderr).toContain('--grid: "fast" is not name=value');
    const unknown = await mts(['sweep', '--strategy', 'sma_crossover', ...range, '--grid', 'nope=1,2']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/grid\.nope: sma_crossover has no parameter "nope"/);
    // Said of the name once, not once for each of its values.
    expect(unknown.stderr.match(/has no parameter/g)).toHaveLength(1);
    const twice = await mts(['sweep', '--strategy', 'sma_crossover', ...range, '--grid', 'fast=5', '--grid', 'fast=10']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('--grid: "fast" is given twice');
    const repeated = await mts(['sweep', '--strategy', 'sma_crossover', ...range, '--grid', 'fast=5,10,5']);
    expect(repeated.code).toBe(2);
    expect(repeated.stderr).toMatch(/grid\.fast\.2: 5 is already value 0/);
  }, 60_000);

  it('says what is wrong before it connects to anything, and what to do when Temporal or Postgres is not there', async () => {
    // Refused with exit code 2 even where nothing listens: the input is checked first.
    const nowhere = '127.0.0.1:1';
    const cases: Array<[string[], string]> = [
      [['import-csv', '--asset', 'bitcoin', '--file', join(root, 'no-such-file.csv')], '--file: '],
      [['import-csv', '--asset', 'bitcoin', '--file', root], '--file: '],
      [['keys', 'create', '--role', 'god', '--name', 'x'], '--role: must be one of read, operator, trader, admin'],
      [['signals', '--as-of', 'nope'], '--as-of: "nope" is not a date'],
      [['collect', '--tier', 'nope'], '--tier: unknown tier "nope" (known: high_frequency, hourly, macro)'],
      [['backfill', '--assets', 'dogecoin', '--from', '2024-01-01'], '--assets: asset "dogecoin" is in no tier of config/collection.json'],
      [['backfill', '--assets', 'bitcoin', '--from', '2010-01-01', '--to', '2024-01-01'], 'from: a backfill may cover at most 3660 days; split it'],
    ];
    const [unreachable, noDatabase, ...refused] = await Promise.all([
      mts(['runs'], { temporalAddress: nowhere }), mts(['backtests'], { databaseUrl: `postgres://postgres@${nowhere}/mts` }),
      ...cases.map(([args]) => mts(args, { temporalAddress: nowhere })),
    ]);
    cases.forEach(([args, message], k) => {
      expect({ args, code: refused[k].code, stderr: refused[k].stderr }).toEqual({ args, code: 2, stderr: expect.stringContaining(message) });
      expect(refused[k].stderr).not.toMatch(/\n\s+at /);
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^mts: cannot reach Temporal at 127\.0\.0\.1:1 \(.+\): start the stack with `npm start`/m);
    expect(noDatabase.code).toBe(1);
    expect(noDatabase.stderr).toMatch(/^mts: cannot reach Postgres at 127\.0\.0\.1:1 \(ECONNREFUSED\): start it, or point DATABASE_URL at yours$/m);
  }, 60_000);
});
