import { sql } from 'drizzle-orm';
import { inject } from 'vitest';
import { connectDatabase, type DatabaseHandle, type PoolOptions } from '../../src/db/client';

export function testDatabase(options: PoolOptions = {}): DatabaseHandle {
  return connectDatabase(inject('databaseUrl'), 5, options);
}

/** Empties the data tables between tests that count rows. */
export async function clearMarketData(handle: DatabaseHandle): Promise<void> {
  await handle.db.execute(sql`TRUNCATE crypto_ohlcv, macro_indicators, collection_runs, signal_history, alert_history,
    portfolio_snapshots, fills, orders, positions, portfolios, risk_assessments, latest_prices RESTART IDENTITY`);
}
