import { isGrpcServiceError } from '@temporalio/client';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { causesOf, postgresUnavailable } from '../db/errors';

/** An error with its HTTP meaning; rendered as { error: { code, message, details } }. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

/** Validates one part of a request; a failure is a 400 whose message names each bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, part: 'body' | 'query' | 'params' | 'headers'): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ field: [part, ...i.path].join('.'), message: i.message }));
  throw new HttpError(400, 'validation_error', details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`);
};

const BODY_ERROR_CODES: Record<number, string> = { 413: 'payload_too_large', 415: 'unsupported_media_type', 400: 'invalid_body' };

/** gRPC's UNAVAILABLE: the Temporal frontend not answering. */
const GRPC_UNAVAILABLE = 14;

/**
 * Which of the API's dependencies a failure says is not there (Postgres refused, closed or ended
 * the connection; Temporal's frontend unavailable): a 503 for the caller to retry, not a bug.
 */
function unavailableDependency(err: unknown): { code: string; message: string } | undefined {
  const database = postgresUnavailable(err);
  if (database) return { code: 'database_unavailable', message: `${database}: retry once it is back` };
  for (const e of causesOf(err)) {
    if (isGrpcServiceError(e) && e.code === GRPC_UNAVAILABLE) {
      return { code: 'temporal_unavailable', message: `Temporal is not reachable (${e.details}): retry once it is back` };
    }
  }
  return undefined;
}

export function errorHandler(log: Record<'error' | 'warn', (obj: object, msg: string) => void>): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details ?? null } });
      return;
    }
    // A path parameter that is not valid percent-encoding (`%E0%A4%A`): Express's router fails to decode it.
    if (err instanceof URIError && (err as { status?: number }).status === 400) {
      res.status(400).json({ error: { code: 'invalid_path', message: 'path: a parameter is not valid percent-encoding', details: null } });
      return;
    }
    // Malformed JSON bodies come from express.json() as a 400 with type entity.parse.failed.
    if ((err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_json', message: `body: ${(err as Error).message}`, details: null } });
      return;
    }
    // body-parser's own refusals (too large, bad charset or encoding, a corrupt gzip body) carry a 4xx.
    const parserError = err as { type?: string; status?: number; expose?: boolean; message?: string };
    if (parserError.expose && parserError.status && parserError.status >= 400 && parserError.status < 500) {
      const code = BODY_ERROR_CODES[parserError.status] ?? 'invalid_body';
      res.status(parserError.status).json({ error: { code, message: `body: ${parserError.message}`, details: parserError.type ? { type: parserError.type } : null } });
      return;
    }
    const unavailable = unavailableDependency(err);
    if (unavailable) {
      log.warn({ code: unavailable.code, reason: unavailable.message }, 'a dependency of the API is unavailable');
      res.status(503).set('retry-after', '5').json({ error: { ...unavailable, details: null } });
      return;
    }
    log.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal_error', message: 'internal error', details: null } });
  };
}
