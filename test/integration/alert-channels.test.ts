import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discordMessage, sendAlert, type StoredAlert } from '../../src/activities/alert-channels';
import { webhookSignature } from '../../src/domain/alerts';
import { ProviderError } from '../../src/providers/errors';
import { testDatabase } from '../support/db';
import { FakeHttpServer } from '../support/fake-http';

const server = new FakeHttpServer();
const handle = testDatabase();
let base = '';
beforeAll(async () => { base = await server.start(); });
afterAll(async () => { await Promise.all([server.stop(), handle.close()]); });
beforeEach(() => server.reset());

const alert: StoredAlert = {
  id: 7, type: 'signal', asset: 'bitcoin', timestamp: Date.UTC(2025, 2, 4, 5, 6, 7),
  body: { timestamp: Date.UTC(2025, 2, 4, 5, 6, 7), asset: 'bitcoin', signal_type: 'SHORT', confidence: 0.87, strategies: ['vix_correlation'], price: 64000, position_size: 0.0174, risk_metrics: { stop_loss: 65280, take_profit: 61440 } },
};
const settings = (extra = {}) => ({ directory: mkdtempSync(join(tmpdir(), 'mts-ch-')), pool: handle.pool, ...extra });

describe('alert channels', () => {
  it('file: writes the seed file name atomically, leaving no temporary file', async () => {
    const s = settings();
    const path = await sendAlert('file', alert, s);
    expect(path).toBe(join(s.directory, 'signal_bitcoin_20250304_050607.json'));
    expect(JSON.parse(readFileSync(path!, 'utf8'))).toEqual(alert.body);
    expect(readdirSync(s.directory)).toEqual(['signal_bitcoin_20250304_050607.json']);
  });

  it('webhook: POSTs the alert JSON signed with HMAC-SHA256 and a timestamp', async () => {
    server.on(() => ({ status: 200, body: { ok: true } }));
    await sendAlert('webhook', alert, settings({ webhook: { url: `${base}/hook`, secret: 'sixteen-char-secret' } }));
    const [req] = server.requests;
    expect(req.method).toBe('POST');
    expect(JSON.parse(req.body)).toEqual(alert.body);
    const t = Number(req.headers['x-mts-timestamp']);
    expect(req.headers['x-mts-signature']).toBe(webhookSignature('sixteen-char-secret', req.body, t));
    // The timestamp is inside the signature: the same body at another time signs differently.
    expect(req.headers['x-mts-signature']).toBe(`t=${t},v1=${createHmac('sha256', 'sixteen-char-secret').update(`${t}.${req.body}`).digest('hex')}`);
    expect(webhookSignature('sixteen-char-secret', req.body, t + 1)).not.toBe(req.headers['x-mts-signature']);
    expect(req.headers['x-mts-alert-id']).toBe('7');
  });

  it('discord: sends an embed in Discord\'s webhook format and honours its 429 retry_after', async () => {
    server.once(/discord/, { status: 429, body: { message: 'You are being rate limited.', retry_after: 2.5, global: false } });
    const s = settings({ discord: { url: `${base}/discord/webhook` } });
    const err = await sendAlert('discord', alert, s).then(() => undefined, (e: unknown) => e as ProviderError);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000 });
    server.on(() => ({ status: 204, body: '' }));
    await sendAlert('discord', alert, s);
    const body = JSON.parse(server.requests[1].body);
    expect(body).toEqual(discordMessage(alert));
    expect(body.embeds[0]).toMatchObject({ title: 'Signal: SHORT bitcoin', color: 0xe74c3c, timestamp: '2025-03-04T05:06:07.000Z' });
    expect(body.embeds[0].fields.map((f: { name: string }) => f.name)).toEqual(['Confidence', 'Price', 'Position size', 'Stop loss', 'Take profit', 'Strategies']);
  });

  it('webhook: a 4xx is final, a 5xx is retryable', async () => {
    server.once(/hook/, { status: 404, body: 'no such hook' });
    const s = settings({ webhook: { url: `${base}/hook`, secret: 'sixteen-char-secret' } });
    expect(await sendAlert('webhook', alert, s).catch((e: ProviderError) => [e.kind, e.retryable])).toEqual(['rejected', false]);
    server.once(/hook/, { status: 503, body: 'busy' });
    expect(await sendAlert('webhook', alert, s).catch((e: ProviderError) => [e.kind, e.retryable])).toEqual(['unavailable', true]);
  });
});
