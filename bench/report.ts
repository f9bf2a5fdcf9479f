import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Node flags of a backtest worker as deployed (NODE_OPTIONS in docker-compose.yml and
 * deploy/k8s/workers.yaml): V8's young generation in 4 MiB semi-spaces instead of 16.
 */
export const BACKTEST_NODE_FLAGS = ['--max-semi-space-size=4'];

export function machineDescription(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
}

/** Puts a section (its first line is the `## title (date)` heading) first in BENCHMARKS.md, replacing the older one of that title. */
export function writeBenchmarkSection(title: string, lines: string[]): void {
  const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nResults of `npm run bench`, newest first.\n\n';
  const [head, ...rest] = previous.split(/\n(?=## )/);
  const kept = rest.filter((section) => !section.startsWith(`## ${title}`));
  const section = [`## ${title} (${new Date().toISOString().slice(0, 10)})`, '', ...lines, ''];
  writeFileSync(file, [head.trimEnd(), '', section.join('\n'), ...kept].join('\n'));
  console.log(section.join('\n'));
}
