import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { notify, NOTIFY_CHANNELS } from '../../src/db/notify';
import { NotifyStream } from '../../src/services/notify-stream';
import { testDatabase } from '../support/db';
import { waitFor } from '../support/wait';

const handle = testDatabase();
afterAll(() => handle.close());

/**
 * A TCP proxy in front of Postgres, as a restart looks from a client: `cut` drops its connections and
 * refuses new ones (Postgres down), `restore` listens again on the same port (Postgres back).
 */
async function postgresProxy(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const restore = () => new Promise<void>((resolve) => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket)).on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as AddressInfo).port;
      resolve();
    });
  });
  const cut = () => new Promise<void>((resolve) => {
    server!.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
  await restore();
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return { url: url.toString(), cut, restore };
}

describe('a NOTIFY stream (alerts, prices and key revocations to every API process)', () => {
  it('listens again after Postgres was gone for a while, backing off, tells its listeners of the loss, and says what it does about each failure', async () => {
    const proxy = await postgresProxy(new URL(inject('databaseUrl')));
    const failures: Array<{ code?: string; consequence: string }> = [];
    const stream = new NotifyStream<{ n: number }>(proxy.url, NOTIFY_CHANNELS.alerts, {
      onError: (err, consequence) => failures.push({ code: (err as Error & { code?: string }).code, consequence }),
      retryMs: { first: 50, max: 200 },
    });
    const received: number[] = [];
    let lost = 0;
    let sent = 0;
    const announce = () => notify(handle.pool, NOTIFY_CHANNELS.alerts, { n: ++sent });
    try {
      await stream.subscribe((payload) => received.push(payload.n), () => { lost += 1; });
      await announce();
      await waitFor('the first announcement', () => received.length === 1);
      await proxy.cut();
      // Down long enough for several attempts to be refused: a stream that tried once would stay deaf.
      await waitFor('three refused attempts', () => failures.filter((f) => f.code === 'ECONNREFUSED').length >= 3);
      await proxy.restore();
      await waitFor('an announcement after the outage', async () => {
        await announce();
        return received.length > 1;
      });
    } finally {
      await stream.close();
      await proxy.cut();
    }
    expect(received[0]).toBe(1);
    // Told once, when the connection went (what was announced until it was back is missed), and still listening after.
    expect(lost).toBe(1);
    // The lost connection, then each refusal, with the wait before the next attempt (doubled, at most 200 ms).
    expect(failures[0].consequence).toBe('listening on mts_alerts again in 50 ms');
    expect(failures.slice(1, 4)).toEqual([
      { code: 'ECONNREFUSED', consequence: 'listening on mts_alerts again in 100 ms' },
      { code: 'ECONNREFUSED', consequence: 'listening on mts_alerts again in 200 ms' },
      { code: 'ECONNREFUSED', consequence: 'listening on mts_alerts again in 200 ms' },
    ]);
  });
});
