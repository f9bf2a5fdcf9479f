/**
 * A market-stream worker in its own process, so a test can SIGKILL it while it holds the stream.
 * Env: TEMPORAL_ADDRESS, DATABASE_URL, BINANCE_STREAM_URL, BINANCE_REST_URL.
 */
import './quiet-temporal';
import { NativeConnection } from '@temporalio/worker';
import { connectDatabase } from '../../src/db/client';
import { binanceStream } from '../../src/providers/streams/binance';
import { SymbolMap } from '../../src/providers/streams/types';
import { createMarketStreamWorker } from '../../src/workers/market-stream';

const db = connectDatabase(process.env.DATABASE_URL!, 2);
const worker = await createMarketStreamWorker({
  connection: await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
  namespace: 'default',
  deps: {
    db: db.db,
    source: binanceStream({
      streamUrl: process.env.BINANCE_STREAM_URL!, restUrl: process.env.BINANCE_REST_URL!, symbols: new SymbolMap({ bitcoin: 'BTCUSDT' }), staleAfterMs: 2000,
    }),
    settings: { priceWriteIntervalMs: 200, reconnect: { baseMs: 50, maxMs: 500 }, backfillMaxMinutes: 30 },
    heartbeatEveryMs: 200,
  },
});
console.log('worker ready');
await worker.run();
