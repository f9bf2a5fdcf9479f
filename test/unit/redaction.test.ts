import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets } from '../../src/logger';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { logger: createLogger('debug', sink), text: () => lines.join('') };
}

describe('secret redaction', () => {
  it('masks keys in query strings, Discord webhook tokens and bearer headers, keeping the rest', () => {
    expect(redactSecrets('GET https://api.stlouisfed.org/fred/series/observations?series_id=DFF&api_key=abc123&file_type=json'))
      .toBe('GET https://api.stlouisfed.org/fred/series/observations?series_id=DFF&api_key=[Redacted]&file_type=json');
    expect(redactSecrets('POST https://discord.com/api/webhooks/123456/tok-en_XYZ failed'))
      .toBe('POST https://discord.com/api/webhooks/123456/[Redacted] failed');
    expect(redactSecrets('Authorization: Bearer s3cr3t.key')).toBe('Authorization: Bearer [Redacted]');
  });

  it('keeps secrets out of every field a log line can carry', () => {
    const { logger, text } = capture();
    logger.info({ req: { headers: { authorization: 'Bearer k-1', cookie: 'session=k-2', 'x-api-key': 'k-3' } } }, 'request');
    logger.info({ webhook: { url: 'https://example.test/hook', secret: 'k-4' }, apiKey: 'k-5' }, 'config');
    logger.error({ err: new Error('fetch https://pro-api.coingecko.com/api/v3/ping?x_cg_pro_api_key=k-6 failed') }, 'provider');
    logger.warn('retrying https://x.test/?token=k-7');
    const out = text();
    for (const secret of ['k-1', 'k-2', 'k-3', 'k-4', 'k-5', 'k-6', 'k-7']) expect(out).not.toContain(secret);
    expect(out.match(/\[Redacted\]/g)?.length).toBeGreaterThanOrEqual(7);
    expect(out).toContain('https://example.test/hook');
  });

  it('logs a failed statement by its beginning and its reason, never its parameters', () => {
    const { logger, text } = capture();
    const statement = 'insert into "api_keys" ("id", "name", "role", "salt", "hash") values ($1, $2, $3, $4, $5)';
    const reason = new Error('duplicate key value violates unique constraint "api_keys_name_unique"');
    logger.error({ err: new DrizzleQueryError(statement, ['a1', 'ops-bot', 'read', 'salt-k-8', 'hash-k-9'], reason) }, 'key not stored');
    // A batch of candles: thousands of parameters.
    const batch = new DrizzleQueryError(`insert into "crypto_ohlcv" values ${'($1, $2), '.repeat(2000)}`, Array.from({ length: 14_000 }, (_, i) => i * 1.5), reason);
    logger.error({ err: batch }, 'candles not stored');
    const [keyLine, batchLine] = text().trim().split('\n').map((l) => JSON.parse(l) as { err: { message: string; stack: string; params?: unknown } });
    for (const line of [keyLine, batchLine]) {
      expect(line.err.params).toBeUndefined();
      expect(line.err.message).toMatch(/^failed statement: insert into "\w+".*: duplicate key value violates unique constraint/);
      expect(JSON.stringify(line).length).toBeLessThan(4000);
    }
    expect(keyLine.err.message).toContain(statement);
    expect(JSON.stringify(keyLine)).not.toMatch(/k-8|k-9/);
    expect(keyLine.err.stack).toMatch(/^Error: failed statement: insert into "api_keys"[^\n]*\n\s+at /);
  });
});
