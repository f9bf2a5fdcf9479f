import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { type AppOptions, createApp } from '../../src/api/app';
import { KeyRevocations, parseApiKeys } from '../../src/services/api-keys';
import { loadCollectionConfig } from '../../src/config/collection';
import { loadExecutionConfig } from '../../src/config/execution';
import { loadRiskConfig } from '../../src/config/risk';
import { loadStrategyConfigs } from '../../src/config/strategies';
import type { DatabaseHandle } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { AlertStream } from '../../src/services/alert-stream';
import { PriceStream } from '../../src/services/price-stream';

/** The real Express app on an ephemeral port, wired to the test database and Temporal. */
export async function startTestApi(client: Client, handle: DatabaseHandle, apiKeys: string, options: Partial<Pick<AppOptions, 'rateLimits' | 'metricsKey'>> = {}) {
  const alertStream = new AlertStream(inject('databaseUrl'));
  const priceStream = new PriceStream(inject('databaseUrl'));
  const keyRevocations = new KeyRevocations(inject('databaseUrl'));
  // The production logger at info, written to memory: tests read what an operator's log would hold.
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const app = createApp(
    { db: handle.db, temporal: client, collection: loadCollectionConfig(), strategies: loadStrategyConfigs(), alertStream, priceStream, keyRevocations, risk: loadRiskConfig(), execution: { ...loadExecutionConfig(), portfolioId: 'test' }, initialCapital: 10_000, temporalUiUrl: 'http://temporal-ui.test:8233' },
    { apiKeys: parseApiKeys(apiKeys), logger: createLogger('info', sink), ...options },
  );
  const server: Server = await new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Every log line the app has written so far. */
    logs: () => lines.join(''),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await Promise.all([alertStream.close(), priceStream.close(), keyRevocations.close()]);
    },
  };
}
