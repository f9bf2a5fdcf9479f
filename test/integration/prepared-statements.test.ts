import { eq, sql } from 'drizzle-orm';
import { escapeLiteral } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { beginWith, type DatabaseHandle, PREPARED_STATEMENTS_KEPT, type Queryable } from '../../src/db/client';
import { bound, preparedSql } from '../../src/db/prepared';
import { orders } from '../../src/db/schema';
import { ensurePortfolio, findPortfolio } from '../../src/db/trading';
import { testDatabase } from '../support/db';
import { waitFor } from '../support/wait';

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

describe('statements built once (preparedSql) and transactions begun with their first statement (beginWith)', () => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => { await handle?.close(); });
  const lockSql = (id: string) => `SELECT 1 FROM portfolios WHERE id = ${escapeLiteral(id)} FOR NO KEY UPDATE`;

  it('builds a statement once for the pool and once for each connection a transaction runs on', async () => {
    handle = testDatabase();
    let builds = 0;
    const timesTen = (q: Queryable, n: number) => preparedSql<{ v: number }>(q, 'test_times_ten', () => {
      builds += 1;
      return sql`select ${bound('n')}::int * 10 as v`;
    }).execute({ n });
    expect([(await timesTen(handle.db, 1)).rows[0].v, (await timesTen(handle.db, 2)).rows[0].v]).toEqual([10, 20]);
    expect(builds).toBe(1);
    // One transaction after the other: the pool's one idle connection, and the same session on it.
    for (const n of [3, 4]) expect(await beginWith(handle.db, 'SELECT 1', async (tx) => (await timesTen(tx, n)).rows[0].v)).toBe(n * 10);
    expect(builds).toBe(2);
    // Named: the connection parsed it once for both sessions.
    expect((await prepared(handle)).filter((s) => s.statement === 'select $1::int * 10 as v')).toHaveLength(1);
  });

  it('rolls back what a failed transaction wrote and hands back a connection that works', async () => {
    handle = testDatabase();
    const { db } = handle;
    const attempt = beginWith(db, 'SELECT 1', async (tx) => {
      await ensurePortfolio(tx, 'begin-with-rolled-back', 1000, 0);
      throw new Error('refused after the write');
    });
    await expect(attempt).rejects.toThrow('refused after the write');
    expect(await findPortfolio(db, 'begin-with-rolled-back')).toBeUndefined();
    await beginWith(db, 'SELECT 1', (tx) => ensurePortfolio(tx, 'begin-with-committed', 1000, 0));
    expect((await findPortfolio(db, 'begin-with-committed'))?.cash).toBe(1000);
  });

  it('a transaction that waited for the lock in its first statement reads what the holder committed', async () => {
    handle = testDatabase();
    const { db } = handle;
    const id = 'begin-with-lock';
    await ensurePortfolio(db, id, 1000, 0);
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let holding!: () => void;
    const held = new Promise<void>((resolve) => { holding = resolve; });
    // The holder writes a row that only references the portfolio: nothing but the lock keeps the waiter waiting.
    const holder = beginWith(db, lockSql(id), async (tx) => {
      await tx.insert(orders).values({ id: 'begin-with-order', portfolioId: id, asset: 'bitcoin', side: 'BUY', notional: 10, status: 'reserved' });
      holding();
      await released;
    });
    await held;
    const waiter = beginWith(db, lockSql(id), async (tx) => (await tx.select().from(orders).where(eq(orders.portfolioId, id))).map((o) => o.id));
    // Only once the waiter is queued on the row lock does the holder commit (and it commits however the wait ends).
    try {
      await waitFor('the second transaction to wait for the lock', async () => {
        const { rows } = await handle!.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        return rows[0].n === 1;
      }, 5_000);
    } finally {
      release();
    }
    await holder;
    expect(await waiter).toEqual(['begin-with-order']);
  });
});

describe("a pool's idle connections", () => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => { await handle?.close(); });
  const backendPid = async (h: DatabaseHandle) => (await h.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

  it('a connection Postgres ends while idle is reported and replaced; the process goes on', async () => {
    const lost: Error[] = [];
    handle = testDatabase({ onConnectionLost: (err) => lost.push(err) });
    const pid = await backendPid(handle);
    const admin = testDatabase();
    try {
      await admin.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.close();
    }
    await waitFor('the pool to hear of its lost connection', async () => lost.length === 1, 5_000);
    expect((lost[0] as Error & { code?: string }).code).toBe('57P01');
    const next = await backendPid(handle);
    expect(next).not.toBe(pid);
    expect(handle.pool.totalCount).toBe(1);
  });

  it('keepIdle: idle connections are never closed for idleness (node-postgres closes them after 10 s), with TCP keepalive', async () => {
    handle = testDatabase({ keepIdle: true });
    const { options } = handle.pool as typeof handle.pool & { options: { idleTimeoutMillis?: number; keepAlive?: boolean } };
    expect(options).toMatchObject({ idleTimeoutMillis: 0, keepAlive: true });
  });
});
