import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/**
 * Starts a test/support worker script in its own process and resolves once it says "worker ready".
 * It runs as node with the tsx loader, not the tsx wrapper, so SIGKILL reaches the worker itself.
 */
export function spawnWorkerProcess(script: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${script}`, import.meta.url))], {
    env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl'), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('worker ready')) resolve(child); });
    child.once('exit', (code) => reject(new Error(`${script} exited early (${code})`)));
  });
}
