import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

/** Per-user cache outside the checkout, so fresh clones and CI on the same machine share one build. */
export function temporalCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'mts', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** TEMPORAL_CLI_PATH, then `temporal` on PATH, then the cached build; undefined when none exists. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!executable(env.TEMPORAL_CLI_PATH)) throw new Error(`TEMPORAL_CLI_PATH: ${env.TEMPORAL_CLI_PATH} is not an executable file`);
    return env.TEMPORAL_CLI_PATH;
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (executable(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  const cached = join(temporalCacheDir(), 'temporal');
  return executable(cached) ? cached : undefined;
}

const HOW_TO_PROVIDE =
  'Provide a Temporal CLI binary instead: put `temporal` on PATH or set TEMPORAL_CLI_PATH=/path/to/temporal ' +
  '(any v1.x release of github.com/temporalio/cli), then run `npm run setup` again.';

/** Finds the Temporal CLI or builds it with the Go toolchain (minutes on first run). */
export function ensureTemporalCli(log: (line: string) => void = console.log): string {
  const found = findTemporalCli();
  if (found) return found;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) throw new Error(`No Temporal CLI found and no Go toolchain to build one. ${HOW_TO_PROVIDE}`);
  const dir = temporalCacheDir();
  mkdirSync(dir, { recursive: true });
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with ${go.stdout.trim()} into ${dir} (takes a few minutes, once per machine)…`);
  const build = spawnSync('go', ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: dir },
    stdio: 'inherit',
  });
  const built = join(dir, 'temporal');
  if (build.status !== 0 || !executable(built)) throw new Error(`Building the Temporal CLI failed (go install exited ${build.status}). ${HOW_TO_PROVIDE}`);
  log(`Temporal CLI ready: ${built}`);
  return built;
}
