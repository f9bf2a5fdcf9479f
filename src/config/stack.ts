/**
 * Where a running `mts dev` is: written to `<MTS_DATA_DIR>/stack.json` when it starts and removed
 * when it stops, so every other CLI command talks to that stack without being told its ports again.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StackRecord {
  pid: number;
  startedAt: string;
  apiUrl: string;
  temporalAddress: string;
  namespace: string;
  temporalUiUrl: string | null;
  databaseUrl: string;
  host: string;
  port: number;
}

const fileOf = (dataDir: string) => join(dataDir, 'stack.json');

export function writeStack(dataDir: string, record: StackRecord): void {
  mkdirSync(dataDir, { recursive: true });
  // The database URL may hold a password: readable by its owner only.
  writeFileSync(fileOf(dataDir), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export function removeStack(dataDir: string, pid: number): void {
  if (readStack(dataDir)?.pid === pid) rmSync(fileOf(dataDir), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readStack(dataDir: string): StackRecord | undefined {
  if (!existsSync(fileOf(dataDir))) return undefined;
  try {
    return JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as StackRecord;
  } catch {
    return undefined;
  }
}

/** The stack a live `mts dev` recorded in this data directory; a record left by a dead process is ignored. */
export function readLiveStack(dataDir: string): StackRecord | undefined {
  const stack = readStack(dataDir);
  return stack && alive(stack.pid) ? stack : undefined;
}

/** The environment with what it leaves unset taken from the stack: variables set explicitly always win. */
export function withStack(source: NodeJS.ProcessEnv, stack: StackRecord): NodeJS.ProcessEnv {
  const fromStack: Record<string, string> = {
    TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.namespace, DATABASE_URL: stack.databaseUrl, HOST: stack.host, PORT: String(stack.port),
  };
  const set = (k: string) => source[k] !== undefined && source[k] !== '';
  // The stack's Temporal is one endpoint: a TEMPORAL_PORT given explicitly means another one.
  if (set('TEMPORAL_PORT')) delete fromStack.TEMPORAL_ADDRESS;
  return { ...Object.fromEntries(Object.entries(fromStack).filter(([k]) => !set(k))), ...source };
}

/** A URL with its password masked, for printing. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
