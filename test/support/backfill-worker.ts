/**
 * A market-data worker in its own process, so a test can kill it with SIGKILL mid-backfill.
 * Env: TEMPORAL_ADDRESS, DATABASE_URL, SIM_SEED, SIM_LATENCY_MS; with PROVIDER_NAME the simulated
 * source stands in for that provider, capped at CALL_LIMIT calls per CALL_WINDOW_MS, and prints
 * "call <epoch ms>" for each call it makes (a counting fake provider across processes).
 */
// First: the same quiet Temporal logger as the test process (expected activity failures are not printed).
import './quiet-temporal';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { connectDatabase } from '../../src/db/client';
import { simulatedSources } from '../../src/providers/simulated';
import type { CryptoDataSource } from '../../src/providers/types';
import { createMarketDataWorkers } from '../../src/workers/market-data';
import { backfillProgressSignal } from '../../src/workflows/collection';

const address = process.env.TEMPORAL_ADDRESS!;
const db = connectDatabase(process.env.DATABASE_URL!, 2);
const client = new Client({ connection: await Connection.connect({ address }) });
const sources = simulatedSources(Number(process.env.SIM_SEED), Number(process.env.SIM_LATENCY_MS));
const provider = process.env.PROVIDER_NAME as CryptoDataSource['name'] | undefined;
const crypto: CryptoDataSource = provider
  ? { ...sources.crypto, name: provider, fetchCandles: (...args) => { console.log(`call ${Date.now()}`); return sources.crypto.fetchCandles(...args); } }
  : sources.crypto;
const workers = await createMarketDataWorkers({
  connection: await NativeConnection.connect({ address }),
  namespace: 'default',
  deps: {
    db: db.db,
    crypto,
    macro: sources.macro,
    reportBackfillProgress: (workflowId, progress) => client.workflow.getHandle(workflowId).signal(backfillProgressSignal, progress),
    ...(provider ? { callLimits: { [provider]: { calls: Number(process.env.CALL_LIMIT), windowMs: Number(process.env.CALL_WINDOW_MS) } } } : {}),
  },
});
console.log('worker ready');
await Promise.all(workers.map((w) => w.run()));
