import { sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema';
import { createLogger, failureFields } from '../logger';
import { fromRoot } from '../paths';

export type Database = NodePgDatabase<typeof schema> & { $client: pg.Pool };
/**
 * A session inside a transaction: one begun with its first statement (`beginWith`), a session on the
 * transaction's connection, or drizzle's (`Database['transaction']`, the same shape). Repository reads
 * take it or the database, so they can run under a lock.
 */
export type Tx = NodePgDatabase<typeof schema>;
export type Queryable = Database | Tx;

/** A drizzle session on each pooled connection a transaction ran on, made once (the connection outlives it). */
const sessions = new WeakMap<pg.PoolClient, NodePgDatabase<typeof schema>>();

/**
 * Runs `work` in a transaction on one of `db`'s connections whose BEGIN reaches Postgres with its first
 * statement, `first`, as one simple query: one round trip where drizzle's `transaction` takes two
 * (node-postgres sends a connection's queries one at a time, each after the last one's answer). `first`
 * is plain SQL (no parameters: values in it are literals, `pg.escapeLiteral`); its rows are not read.
 * Each of `work`'s statements takes its own snapshot, so it sees what committed before `first` ended
 * (a lock `first` waited for included). `work` gets the connection's own session, the same object at
 * each transaction on that connection, so statements prepared on it (`preparedOn`) are built once.
 */
export async function beginWith<T>(db: Database, first: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await db.$client.connect();
  let session = sessions.get(client);
  if (!session) sessions.set(client, (session = drizzle(client, { schema })));
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN; ${first}`);
    const result = await work(session);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that cannot even roll back is closed rather than handed to the next caller.
    await client.query('ROLLBACK').catch((e: Error) => { broken = e; });
    throw err;
  } finally {
    client.release(broken);
  }
}

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface PoolOptions {
  /**
   * Prepare each parameterised statement once per connection and plan it once, with Postgres's
   * generic plan (`plan_cache_mode = force_generic_plan`; it applies to prepared statements only):
   * for the trading worker, whose saga runs the same short statements with new values all day.
   * Postgres's backends spent ~17–19 ms of CPU a saga parsing and planning them at every call, ~11–12
   * ms once they were prepared (left to choose, `auto`, the planner kept making custom plans: their
   * generic plans cost more on paper). Behind PgBouncer this needs session pooling, or 1.21+ with
   * `max_prepared_statements`.
   */
  planOnce?: boolean;
  /**
   * Keep idle connections open (and TCP keepalive on) instead of closing them after 10 s idle,
   * node-postgres's default: for the trading worker, whose signals come minutes or hours apart. A
   * closed connection takes its prepared statements and its backend's caches with it, so each such
   * signal opened a connection, set it up and prepared the saga's statements again: ~12 ms more from
   * the signal to its fill (the saga bench's signals after a quiet spell, p50 ~62 against ~50 ms).
   */
  keepIdle?: boolean;
  /**
   * Told when Postgres ends an idle connection (a restart, `pg_terminate_backend`, a proxy's
   * timeout); the pool has dropped it and opens another for the next statement. By default a
   * warning in the log.
   */
  onConnectionLost?: (err: Error) => void;
}

/** Distinct statements a pool prepares (each connection keeps their plans, so its memory is bounded); later ones are planned at each call. */
export const PREPARED_STATEMENTS_KEPT = 200;

/**
 * What `planOnce` does to each new connection of a pool: the connection's `query` names a
 * parameterised statement after its text (one name per text for the whole pool, the first
 * PREPARED_STATEMENTS_KEPT texts), so node-postgres parses it on a connection once and then only
 * binds it; Postgres keeps its generic plan.
 */
function statementPreparer(): (client: pg.ClientBase) => Promise<void> {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (name === undefined && names.size < PREPARED_STATEMENTS_KEPT) names.set(text, (name = `mts_${names.size + 1}`));
    return name;
  };
  return async (client) => {
    // A server before Postgres 12 has no such setting: its planner chooses, the statements are still parsed once.
    await client.query('SET plan_cache_mode = force_generic_plan').catch(() => undefined);
    type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown;
    const query = client.query.bind(client) as Query;
    const preparing: Query = (config, values, callback) => {
      // drizzle hands over a config object ({ text, rowMode, … }) and the values beside it.
      if (typeof config !== 'object' || config === null) return query(config, values, callback);
      const c = config as Partial<pg.QueryConfig>;
      const parameters = c.values ?? values;
      const parameterised = Array.isArray(parameters) && parameters.length > 0;
      const name = parameterised && c.name === undefined && typeof c.text === 'string' ? nameOf(c.text) : undefined;
      return query(name === undefined ? config : { ...c, name }, values, callback);
    };
    client.query = preparing as typeof client.query;
  };
}

let poolLogger: ReturnType<typeof createLogger> | undefined;

function warnConnectionLost(err: Error): void {
  poolLogger ??= createLogger(process.env.LOG_LEVEL ?? 'info');
  poolLogger.warn(failureFields(err), 'an idle database connection was closed by the server; the next statement opens another');
}

/**
 * MTS's sessions run with Postgres's JIT compiler off, set on each new connection (not as a startup
 * option, which a PgBouncer in front of Postgres may refuse), unless the URL sets session `options`.
 * Its statements are short or pack rows with a few function calls each; a plan the planner costs high
 * (the bars read's counts per interval) was compiled for ~300 ms before it ran for ~30: a sweep's read
 * of three coins' six years took ~0.8–0.97 s with JIT, ~0.32–0.36 s without, and two million minute
 * candles read as fast either way.
 */
export function connectDatabase(url: string, max = 10, options: PoolOptions = {}): DatabaseHandle {
  // pg-pool waits for `onConnect` before the connection runs the statement it was opened for. A
  // server without JIT (Postgres before 11) refuses the setting: there is nothing to turn off.
  const jitOff = new URL(url).searchParams.has('options')
    ? async () => undefined
    : async (client: pg.ClientBase) => {
      await client.query('SET jit = off').catch(() => undefined);
    };
  const prepare = options.planOnce ? statementPreparer() : undefined;
  const onConnect = async (client: pg.ClientBase) => {
    await jitOff(client);
    await prepare?.(client);
  };
  const keep = options.keepIdle ? { idleTimeoutMillis: 0, keepAlive: true } : {};
  const pool = new pg.Pool({ connectionString: url, max, onConnect, ...keep });
  // Without a listener, an idle connection's error (Postgres restarted) would end the process.
  pool.on('error', options.onConnectionLost ?? warnConnectionLost);
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

/** A round trip to Postgres: what readiness checks. */
export async function ping(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}

export const migrationsFolder = fromRoot('drizzle');

/** Creates the database named in `url` when it does not exist (Postgres has no CREATE DATABASE IF NOT EXISTS). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`DATABASE_URL: database name "${name}" must be letters, digits and _`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      // Another process may create it between the check and here (two commands starting together).
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Creates the database if needed and applies every committed migration; safe to run any number of times. */
export async function migrateDatabase(url: string): Promise<void> {
  await ensureDatabase(url);
  const handle = connectDatabase(url, 1);
  try {
    await migrate(handle.db, { migrationsFolder });
  } finally {
    await handle.close();
  }
}
