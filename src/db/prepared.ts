/**
 * Statements the trading saga runs all day, built once. drizzle builds a statement's SQL text from its
 * query builder or `sql` template at every call; for the saga's fourteen statements that was ~1.9 ms
 * of the worker's ~4.6 ms of CPU a saga (one saga after another on one connection, no Temporal). A
 * prepared query keeps the text and fills in its placeholders at each call. Each is also named, so
 * node-postgres parses it once per connection (behind PgBouncer: session pooling, or 1.21+ with
 * `max_prepared_statements`).
 */
import { is, Placeholder, type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { QueryResult } from 'pg';
import type { Queryable } from './client';

/** A value a statement takes: the value itself where it is built for one call, a placeholder where it is prepared. */
export type Bound<T> = T | Placeholder;

/** The placeholder a prepared statement fills from its `execute` argument's `name`. */
export const bound = (name: string): Placeholder => sql.placeholder(name);

/** A value as one parameter: an array whole (a `sql` template spreads a bare array into a list), a placeholder as it is. */
export const asParam = <T>(value: Bound<T>) => (is(value, Placeholder) ? value : sql.param(value));

/** A placeholder for each of `names`, under its own name: the values of a prepared insert. */
export const boundEach = <Name extends string>(...names: Name[]) =>
  Object.fromEntries(names.map((name) => [name, bound(name)])) as Record<Name, Placeholder>;

/** Each session's prepared statements by name: a pool's for the process, a connection's (`beginWith`) for its life. */
const preparedBySession = new WeakMap<Queryable, Map<string, unknown>>();

/**
 * The statement `name` prepared on `db`, built by `build` (which names it) the first time. A prepared
 * query runs on the session it was made on, so each pool and each pooled connection keeps its own.
 * `name` is also the statement's name in Postgres: one name, one text.
 */
export function preparedOn<Q>(db: Queryable, name: string, build: (name: string) => Q): Q {
  let statements = preparedBySession.get(db);
  if (!statements) preparedBySession.set(db, (statements = new Map()));
  let statement = statements.get(name) as Q | undefined;
  if (!statement) statements.set(name, (statement = build(name)));
  return statement;
}

const dialect = new PgDialect();

/**
 * A raw statement (`sql` with `bound` placeholders) prepared on `db`: `execute` returns node-postgres's
 * result. `named: false` keeps its text built but leaves it unnamed, so Postgres plans it at each call
 * for its values (a read of a few days of candles or of years), unless its pool prepares every
 * statement (`planOnce`).
 */
export function preparedSql<Row extends Record<string, unknown>>(db: Queryable, name: string, build: () => SQL, opts: { named?: boolean } = {}) {
  return preparedOn(db, name, () => db._.session.prepareQuery<{ execute: QueryResult<Row>; all: unknown; values: unknown }>(
    dialect.sqlToQuery(build()), undefined, opts.named === false ? undefined : name, false,
  ));
}
