import { lstat, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { describeIssues } from '../config/files';
import { externalSignalSchema, isVolatilityAlert, toExecutionSignal, VOLATILITY_ALERT_REFUSAL } from './external-signals';
import { SignalConflictError, startSignalExecution } from './trading';

/** An alert is a few hundred bytes; anything past this is not one. */
const MAX_FILE_BYTES = 64 * 1024;

export interface InboxResult {
  file: string;
  outcome: 'started' | 'duplicate' | 'rejected';
  workflowId?: string;
  reason?: string;
}

/**
 * Watches a directory for alert files (`*.json` in the seed's formats) and sends each to the saga.
 * A file is taken once it has not changed for `settleMs` (so one still being written waits); it is
 * then moved to `processed/`, or to `rejected/` beside a `<name>.reason.txt` when it does not parse
 * or validate. Moving is what makes each file count once, across restarts too; a crash between
 * starting the saga and the move re-sends the same signal id, which the saga refuses as a duplicate.
 * A bad file never holds up the others: links, non-regular and oversized files are refused without
 * being read (nothing outside the inbox is followed or quoted), and a file Temporal cannot take now
 * stays for the next scan while the scan goes on.
 */
export class AlertInbox {
  private timer?: NodeJS.Timeout;
  private scanning?: Promise<InboxResult[]>;

  constructor(private readonly client: Client, private readonly dir: string, private readonly settleMs = 2000, private readonly now = Date.now) {}

  async scanOnce(onError: (err: Error) => void = () => undefined): Promise<InboxResult[]> {
    await Promise.all(['processed', 'rejected'].map((d) => mkdir(join(this.dir, d), { recursive: true })));
    const results: InboxResult[] = [];
    for (const name of (await readdir(this.dir)).filter((n) => n.endsWith('.json')).sort()) {
      const path = join(this.dir, name);
      const info = await lstat(path).catch(() => undefined);
      if (!info) continue;
      if (info.isSymbolicLink()) { results.push(await this.reject(name, 'a symbolic link: the inbox takes regular files only')); continue; }
      if (!info.isFile()) continue;
      if (this.now() - info.mtimeMs < this.settleMs) continue;
      if (info.size > MAX_FILE_BYTES) { results.push(await this.reject(name, `${info.size} bytes: an alert file is at most ${MAX_FILE_BYTES}`)); continue; }
      try {
        results.push(await this.take(name, await readFile(path, 'utf8')));
      } catch (err) {
        // Temporal unreachable or the like: the file stays for the next scan, the others go on.
        onError(err as Error);
      }
    }
    return results;
  }

  private async take(name: string, text: string): Promise<InboxResult> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // The parser's message quotes the text; the reason names the problem only.
      return this.reject(name, 'not valid JSON (half-written or corrupt)');
    }
    if (isVolatilityAlert(body)) return this.reject(name, VOLATILITY_ALERT_REFUSAL);
    const parsed = externalSignalSchema.safeParse(body);
    if (!parsed.success) return this.reject(name, describeIssues(parsed.error));
    let started;
    try {
      started = await startSignalExecution(this.client, toExecutionSignal(parsed.data));
    } catch (err) {
      if (err instanceof SignalConflictError) return this.reject(name, err.message);
      throw err;
    }
    await rename(join(this.dir, name), join(this.dir, 'processed', name));
    return { file: name, outcome: started.duplicate ? 'duplicate' : 'started', workflowId: started.workflowId };
  }

  private async reject(name: string, reason: string): Promise<InboxResult> {
    await writeFile(join(this.dir, 'rejected', `${name}.reason.txt`), `${reason}\n`);
    await rename(join(this.dir, name), join(this.dir, 'rejected', name));
    return { file: name, outcome: 'rejected', reason };
  }

  /** Scans every `intervalMs`; a failing scan is reported and the next one tries again. */
  start(intervalMs: number, onError: (err: Error) => void): void {
    const tick = () => {
      this.scanning ??= this.scanOnce(onError).catch((err: Error) => { onError(err); return []; }).finally(() => { this.scanning = undefined; });
    };
    this.timer = setInterval(tick, intervalMs);
    tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.scanning;
  }
}
