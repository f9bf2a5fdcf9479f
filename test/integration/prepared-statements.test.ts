import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, PREPARED_STATEMENTS_KEPT } from '../../src/db/client';
import { testDatabase } from '../support/db';

/** The statements this pool's one connection has prepared, with how often each was planned which way. */
async function prepared(handle: DatabaseHandle) {
  const { rows } = await handle.pool.query<{ statement: string; generic_plans: string; custom_plans: string }>(
    'SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY prepare_time',
  );
  return rows.map((r) => ({ statement: r.statement, generic: Number(r.generic_plans), custom: Number(r.custom_plans) }));
}

describe('a pool that plans its statements once (planOnce)', () => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => { await handle?.close(); });

  it('parses a parameterised statement once per connection and runs every call on its generic plan', async () => {
    handle = testDatabase({ planOnce: true });
    const { db } = handle;
    // One call at a time: the pool's one connection, kept idle between them, runs them all.
    const values = [];
    for (const n of [1, 2]) values.push((await db.execute(sql`select ${n}::int * 10 as v`)).rows[0].v);
    values.push((await db.transaction((tx) => tx.execute(sql`select ${3}::int * 10 as v`))).rows[0].v);
    values.push((await db.execute(sql`select ${'x'}::text || 'y' as v`)).rows[0].v);
    expect(values).toEqual([10, 20, 30, 'xy']);
    // Statements without parameters (the transaction's begin and commit, this read) are not prepared.
    expect(await prepared(handle)).toEqual([
      { statement: 'select $1::int * 10 as v', generic: 3, custom: 0 },
      { statement: "select $1::text || 'y' as v", generic: 1, custom: 0 },
    ]);
  });

  it(`prepares the first ${PREPARED_STATEMENTS_KEPT} distinct statements of a pool, and runs the later ones unprepared`, async () => {
    handle = testDatabase({ planOnce: true });
    const extra = 5;
    for (let k = 0; k < PREPARED_STATEMENTS_KEPT + extra; k++) {
      const { rows } = await handle.db.execute(sql`select ${k}::int + ${sql.raw(String(k))} as v`);
      expect(rows[0].v).toBe(2 * k);
    }
    const statements = await prepared(handle);
    expect(statements).toHaveLength(PREPARED_STATEMENTS_KEPT);
    expect(statements.at(-1)!.statement).toBe(`select $1::int + ${PREPARED_STATEMENTS_KEPT - 1} as v`);
  });

  it('a pool without it plans every call as it comes (nothing prepared)', async () => {
    handle = testDatabase();
    for (const n of [1, 2, 3]) await handle.db.execute(sql`select ${n}::int * 10 as v`);
    expect(await prepared(handle)).toEqual([]);
  });
});
