import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { describeIssues } from '../config/files';
import { externalSignalSchema, isVolatilityAlert, toExecutionSignal, VOLATILITY_ALERT_REFUSAL } from './external-signals';
import { startSignalExecution } from './trading';

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
 */
export class AlertInbox {
  private timer?: NodeJS.Timeout;
  private scanning?: Promise<InboxResult[]>;

  constructor(private readonly client: Client, private readonly dir: string, private readonly settleMs = 2000, private readonly now = Date.now) {}

  async scanOnce(): Promise<InboxResult[]> {
    await Promise.all(['processed', 'rejected'].map((d) => mkdir(join(this.dir, d), { recursive: true })));
    const results: InboxResult[] = [];
    for (const name of (await readdir(this.dir)).filter((n) => n.endsWith('.json')).sort()) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile() || this.now() - info.mtimeMs < this.settleMs) continue;
      results.push(await this.take(name, await readFile(path, 'utf8')));
    }
    return results;
  }

  private async take(name: string, text: string): Promise<InboxResult> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return this.reject(name, `not valid JSON (half-written or corrupt): ${(err as Error).message}`);
    }
    if (isVolatilityAlert(body)) return this.reject(name, VOLATILITY_ALERT_REFUSAL);
    const parsed = externalSignalSchema.safeParse(body);
    if (!parsed.success) return this.reject(name, describeIssues(parsed.error));
    const started = await startSignalExecution(this.client, toExecutionSignal(parsed.data));
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
      this.scanning ??= this.scanOnce().catch((err: Error) => { onError(err); return []; }).finally(() => { this.scanning = undefined; });
    };
    this.timer = setInterval(tick, intervalMs);
    tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.scanning;
  }
}
