/**
 * bench/engine-run.ts as the benches run it: bundled as `npm run build` bundles the CLI the workers
 * run (esbuild, no tsx at run time), each run a Node process of its own so its peak memory is its own.
 */
import { spawn } from 'node:child_process';
import { build } from 'esbuild';
import { fromRoot } from '../src/paths';
import type { EngineRun } from './engine-run';
import { BACKTEST_NODE_FLAGS } from './report';

export const ENGINE_RUN = fromRoot('dist', 'bench', 'engine-run.mjs');

export async function buildEngineRun(): Promise<void> {
  await build({
    entryPoints: [fromRoot('bench', 'engine-run.ts')], outfile: ENGINE_RUN, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', logLevel: 'warning',
  });
}

/**
 * One run of `scenario` in a process of its own, with the deployed backtest workers' Node flags unless
 * `nodeFlags` says otherwise, on the scenario's own number of bars unless `bars` says otherwise.
 */
export async function engineRun(scenario: string, opts: { nodeFlags?: string[]; bars?: number } = {}): Promise<EngineRun> {
  const nodeFlags = opts.nodeFlags ?? BACKTEST_NODE_FLAGS;
  console.log(`[bench] engine: ${scenario} (node ${nodeFlags.join(' ') || 'without flags'})`);
  const env = opts.bars === undefined ? process.env : { ...process.env, BENCH_BARS: String(opts.bars) };
  const child = spawn(process.execPath, [...nodeFlags, ENGINE_RUN, scenario], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`dist/bench/engine-run.mjs ${scenario} exited with ${code}`);
  return JSON.parse(output.trim().split('\n').pop()!) as EngineRun;
}
