import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as it is (to send malformed bodies). */
  body: unknown;
  /** Answer this much later (a slow provider). */
  delayMs?: number;
}

export type FakeHandler = (req: IncomingMessage, url: URL) => FakeResponse | undefined;

/**
 * A local HTTP server standing in for a provider: handlers answer in the provider's documented
 * format; every request is recorded so tests can count calls and check parameters.
 */
export class FakeHttpServer {
  readonly requests: Array<{ method: string; url: URL; headers: IncomingMessage['headers']; at: number; body: string }> = [];
  private handlers: FakeHandler[] = [];
  private server?: Server;

  /** Handlers are tried newest first; one that returns undefined passes the request on. */
  on(handler: FakeHandler): this {
    this.handlers.unshift(handler);
    return this;
  }

  /** Answers the next `times` requests whose path matches with `response`, then steps aside. */
  once(pathPattern: RegExp, response: FakeResponse, times = 1): this {
    let left = times;
    return this.on((_req, url) => {
      if (left <= 0 || !pathPattern.test(url.pathname)) return undefined;
      left -= 1;
      return response;
    });
  }

  reset(): void {
    this.handlers = [];
    this.requests.length = 0;
  }

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      this.requests.push({ method: req.method ?? 'GET', url, headers: req.headers, at: Date.now(), body: Buffer.concat(chunks).toString('utf8') });
      const answer = this.handlers.map((h) => h(req, url)).find((r) => r !== undefined)
        ?? { status: 404, body: { error: `no fake handler for ${url.pathname}` } };
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
      res.end(text);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}
