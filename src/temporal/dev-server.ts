import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { dynamicConfigFlags } from './server-config';

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` with SQLite persistence under dataDir and MTS's dynamic config, and waits until it answers. */
export async function startDevServer(opts: { cli: string; dataDir: string; port: number; uiPort: number; namespace: string; log: (l: string) => void }): Promise<DevServer> {
  mkdirSync(opts.dataDir, { recursive: true });
  const dbFile = resolve(join(opts.dataDir, 'temporal.db'));
  const child: ChildProcess = spawn(opts.cli, [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--ui-port', String(opts.uiPort),
    '--db-filename', dbFile, '--namespace', opts.namespace, '--log-level', 'error', ...dynamicConfigFlags(),
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  const address = `127.0.0.1:${opts.port}`;
  // A binary that cannot be run (not executable, removed) is an 'error' event, never an exit.
  const failedToRun = new Promise<Error>((r) => child.on('error', r));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const early = await Promise.race([exited, failedToRun, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 500))]);
    if (early instanceof Error) throw new Error(`could not run the Temporal CLI at ${opts.cli}: ${early.message}`);
    if (early !== 'waiting') throw new Error(`temporal server start-dev exited with code ${early}; is port ${opts.port} or ${opts.uiPort} in use?`);
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.workflowService.getSystemInfo({});
      await c.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new Error(`Temporal dev server did not answer on ${address} within 60s`);
      }
    }
  }
  opts.log(`Temporal dev server on ${address} (SQLite ${dbFile})`);
  return {
    address,
    uiUrl: `http://127.0.0.1:${opts.uiPort}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    },
  };
}
