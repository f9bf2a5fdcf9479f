import { connectDatabase, type DatabaseHandle, dropDatabase, migrateDatabase } from '../src/db/client';
import { findTemporalCli } from '../src/temporal/cli-binary';
import { startTemporalServer } from '../test/support/temporal-server';

/** A bench's database (its URL and a pool) and Temporal dev server. */
export interface BenchStack {
  url: string;
  db: DatabaseHandle;
  temporal: Awaited<ReturnType<typeof startTemporalServer>>;
}

/**
 * What a bench that needs the stack runs against: a database of its own (migrated, dropped after)
 * and a Temporal CLI dev server. `run` gets both and cleans up however it ends.
 */
export async function withBenchStack<T>(
  name: string,
  poolSize: number,
  run: (stack: BenchStack) => Promise<T>,
): Promise<T> {
  const cli = findTemporalCli();
  if (!cli) throw new Error('No Temporal CLI: run `npm run setup` first');
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mts');
  base.pathname = `/mts_bench_${name}_${process.pid}`;
  const url = base.toString();
  await migrateDatabase(url);
  const temporal = await startTemporalServer(cli);
  const db = connectDatabase(url, poolSize);
  try {
    return await run({ url, db, temporal });
  } finally {
    await db.close();
    await temporal.teardown();
    await dropDatabase(url);
  }
}
