import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../src/temporal/dev-server';

describe('startDevServer when its Temporal CLI cannot serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mts-dev-server-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const start = (cli: string) => startDevServer({ cli, dataDir: join(dir, 'data'), port: 1, uiPort: 2, namespace: 'default', log: () => {} });

  it('says which binary could not run, where the process would have died of an unhandled error', async () => {
    const notExecutable = join(dir, 'temporal');
    writeFileSync(notExecutable, 'not a program');
    chmodSync(notExecutable, 0o644);
    await expect(start(notExecutable)).rejects.toThrow(`could not run the Temporal CLI at ${notExecutable}: spawn ${notExecutable} EACCES`);
    await expect(start(join(dir, 'missing'))).rejects.toThrow(/could not run the Temporal CLI at .*missing: spawn .* ENOENT/);
  });

  it('says what to check when the binary runs and exits', async () => {
    const exits = join(dir, 'exits');
    writeFileSync(exits, '#!/bin/sh\nexit 3\n');
    chmodSync(exits, 0o755);
    await expect(start(exits)).rejects.toThrow('temporal server start-dev exited with code 3; is port 1 or 2 in use?');
  });
});
