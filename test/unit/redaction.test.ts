import { Writable } from 'node:stream';
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
});
