import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import { inject } from 'vitest';
import { createApp } from '../../src/api/app';
import { parseApiKeys } from '../../src/api/auth';
import { loadCollectionConfig } from '../../src/config/collection';
import { loadExecutionConfig } from '../../src/config/execution';
import { loadRiskConfig } from '../../src/config/risk';
import { loadStrategyConfigs } from '../../src/config/strategies';
import type { DatabaseHandle } from '../../src/db/client';
import { AlertStream } from '../../src/services/alert-stream';

/** The real Express app on an ephemeral port, wired to the test database and Temporal. */
export async function startTestApi(client: Client, handle: DatabaseHandle, apiKeys: string) {
  const alertStream = new AlertStream(inject('databaseUrl'));
  const app = createApp(
    { db: handle.db, temporal: client, collection: loadCollectionConfig(), strategies: loadStrategyConfigs(), alertStream, risk: loadRiskConfig(), execution: { ...loadExecutionConfig(), portfolioId: 'test' } },
    { apiKeys: parseApiKeys(apiKeys), logger: pino({ level: 'silent' }) },
  );
  const server: Server = await new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await alertStream.close();
    },
  };
}
