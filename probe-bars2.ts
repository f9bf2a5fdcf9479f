import { sql } from 'drizzle-orm';
import { connectDatabase, dropDatabase, migrateDatabase } from './src/db/client';
import { closedCandleColumnsFor, upsertCandles } from './src/db/market-data';
const url = 'postgres://postgres@127.0.0.1:5432/mts_probe_bars2';
await migrateDatabase(url);
const { db, close } = connectDatabase(url, 2);
const n = 2_000_000; const from = Date.UTC(2020, 0, 1);
let t = performance.now();
for (let s = 0; s < n; s += 200_000) {
  await upsertCandles(db, 'bitcoin', 1, 'csv', Array.from({ length: 200_000 }, (_, i) => { const p = 100 + Math.sin(s + i); return { timestamp: from + (s + i) * 60_000, open: p, high: p + 1, low: p - 1, close: p, volume: 1 }; }));
}
console.log('stored in', (performance.now() - t).toFixed(0), 'ms');
await db.execute(sql`VACUUM ANALYZE crypto_ohlcv`);
for (let r = 0; r < 3; r++) {
  t = performance.now(); const reads = await closedCandleColumnsFor(db, ['bitcoin'], [1], from, from + n * 60_000);
  console.log('read', (performance.now() - t).toFixed(0), 'ms', reads[0].candles.close.length, process.memoryUsage().rss >> 20, 'MB rss');
}
await close(); await dropDatabase(url);
