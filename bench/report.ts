import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isoDate } from '../src/domain/types';

/**
 * Node flags of a backtest worker as deployed (NODE_OPTIONS in docker-compose.yml and
 * deploy/k8s/workers.yaml): V8's young generation in 8 MiB semi-spaces instead of 16.
 */
export const BACKTEST_NODE_FLAGS = ['--max-semi-space-size=8'];

export function machineDescription(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
}

/** CPU seconds a process has used (user + system, all its threads), from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the whole machine has been busy (every core, idle and I/O wait left out), from /proc/stat. */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - ticks[3] - ticks[4]) / 100;
}

/** The Temporal dev server serving `address` (host:port): the `temporal server start-dev` process given that port, from /proc. */
export function temporalServerPid(address: string): number {
  const port = address.split(':').pop();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // Gone since the listing.
    }
    if (args.includes('start-dev') && args[args.indexOf('--port') + 1] === port) return Number(entry);
  }
  throw new Error(`no Temporal dev server with --port ${port} in /proc`);
}

/** Puts a section (its first line is the `## title (date)` heading) first in BENCHMARKS.md, replacing the older one of that title. */
export function writeBenchmarkSection(title: string, lines: string[]): void {
  const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nResults of `npm run bench`, newest first.\n\n';
  const [head, ...rest] = previous.split(/\n(?=## )/);
  const kept = rest.filter((section) => !section.startsWith(`## ${title}`));
  const section = [`## ${title} (${isoDate(Date.now())})`, '', ...lines, ''];
  writeFileSync(file, [head.trimEnd(), '', section.join('\n'), ...kept].join('\n'));
  console.log(section.join('\n'));
}
