import pino from 'pino';
import { briefQueryError } from './db/errors';

/**
 * Every path a secret can take into a log line: request headers (bearer keys, cookies, API-key
 * headers), and any field named like a key, secret, token or password at the first two levels.
 * pino's `redact` replaces the value, never the line, so the event stays readable.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-mts-signature"]',
  'res.headers["set-cookie"]',
  ...['apiKey', 'apiKeys', 'key', 'secret', 'token', 'password', 'authorization', 'webhookSecret', 'webhookUrl', 'discordUrl']
    .flatMap((field) => [field, `*.${field}`]),
];

const SECRET_QUERY = /([?&](?:api_key|apikey|key|token|secret|x_cg_(?:pro|demo)_api_key)=)[^&#\s]*/gi;
const DISCORD_TOKEN = /(discord(?:app)?\.com\/api\/webhooks\/\d+\/)[\w-]+/gi;
const BEARER = /(bearer\s+)[\w.~+/=-]+/gi;

/** A URL or message with its query-string secrets, webhook tokens and bearer keys masked. */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_QUERY, '$1[Redacted]').replace(DISCORD_TOKEN, '$1[Redacted]').replace(BEARER, '$1[Redacted]');
}

export function createLogger(level: string, destination?: pino.DestinationStream) {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'mts' },
    redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    // Error messages can quote a provider URL with its key; masked before they are written.
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as Parameters<typeof method>);
      },
    },
    serializers: {
      err: (err: Error) => {
        const out = pino.stdSerializers.err(briefQueryError(err) as Error);
        if (out.message) out.message = redactSecrets(out.message);
        if (out.stack) out.stack = redactSecrets(out.stack);
        return out;
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * An expected failure as a log line's fields: its code (a Postgres SQLSTATE, ECONNREFUSED, …) and its
 * message, without the stack: an outage MTS recovers from is one readable line, not a trace.
 */
export function failureFields(err: unknown): { code?: string; reason: string } {
  const { code } = err as { code?: unknown };
  return { ...(typeof code === 'string' ? { code } : {}), reason: err instanceof Error ? err.message : String(err) };
}
