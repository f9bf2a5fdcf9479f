/** What a failed statement or an unreachable Postgres says to a person reading a log line or a terminal. */
import { DrizzleQueryError } from 'drizzle-orm';

const STATEMENT_SHOWN = 120;

/**
 * drizzle's error for a failed statement quotes the statement whole and every parameter in its
 * message and stack (a batch of candles: thousands of values; a new key: its salt and hash). This is
 * the error with the statement's beginning instead, the same stack frames and the same cause (the
 * reason Postgres or the driver gave); any other error is returned as it is.
 */
export function briefQueryError(err: unknown): unknown {
  if (!(err instanceof DrizzleQueryError)) return err;
  const statement = err.query.replace(/\s+/g, ' ').trim();
  const brief = new Error(`failed statement: ${statement.length > STATEMENT_SHOWN ? `${statement.slice(0, STATEMENT_SHOWN)}…` : statement}`, { cause: err.cause });
  const frames = err.stack?.indexOf('\n    at ') ?? -1;
  brief.stack = `Error: ${brief.message}${frames >= 0 ? err.stack!.slice(frames) : ''}`;
  return brief;
}

interface SocketError { code?: string; syscall?: string; address?: string; port?: number; hostname?: string; cause?: unknown }

/** `err` and the errors along its causes (drizzle's error, node-postgres's under it, …). */
export function* causesOf(err: unknown): Generator<object> {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/**
 * Where a connection that could not be made was going, and why (ECONNREFUSED, ENOTFOUND, …), from
 * the error or its causes: node-postgres's socket error, under drizzle's; undefined for any other.
 */
export function unreachableAddress(err: unknown): { address: string; reason: string } | undefined {
  for (const e of causesOf(err) as Generator<SocketError>) {
    if (e.syscall === 'connect' && e.address) return { address: `${e.address}:${e.port}`, reason: e.code ?? 'refused' };
    if (e.syscall === 'getaddrinfo' && e.hostname) return { address: e.hostname, reason: e.code ?? 'not found' };
  }
  return undefined;
}

/**
 * Postgres's codes for a connection it ended or would not open: shut down by an administrator or a
 * crash, still starting, too many connections, the connection exceptions (class 08).
 */
const CONNECTION_ENDED = /^(57P0[123]|53300|08\d{3})$/;

/**
 * Why a failed statement found Postgres not there (refused, closed or ended the connection), or
 * undefined when it failed for any other reason.
 */
export function postgresUnavailable(err: unknown): string | undefined {
  const unreachable = unreachableAddress(err);
  if (unreachable) return `Postgres is not reachable (${unreachable.reason} at ${unreachable.address})`;
  for (const e of causesOf(err)) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && CONNECTION_ENDED.test(code)) return `Postgres ended or refused the connection (${code})`;
    if (message === 'Connection terminated unexpectedly') return 'Postgres closed the connection';
  }
  return undefined;
}
