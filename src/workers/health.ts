import type { Server } from 'node:http';
import { createServer } from 'node:net';
import type { Worker } from '@temporalio/worker';
import express from 'express';
import { processMetrics } from '../metrics';

/** A port free on loopback now, for the Temporal runtime's own Prometheus exporter. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A worker process's own HTTP port: `/health` (200 while every worker runs, 503 otherwise: what
 * compose and Kubernetes probe) and `/metrics` (the process's metrics, then the Temporal runtime's
 * worker metrics: task slots, poll latencies, activity and workflow outcomes).
 */
export function workerHealthApp(opts: { roles: string[]; workers: Worker[]; temporalMetricsUrl?: string }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    const workers = opts.workers.map((w) => ({ taskQueue: w.options.taskQueue, state: w.getState() }));
    const ok = workers.every((w) => w.state === 'RUNNING');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', roles: opts.roles, workers });
  });
  app.get('/metrics', async (_req, res) => {
    let temporal = '';
    if (opts.temporalMetricsUrl) {
      // The runtime's exporter answers on loopback; a scrape that cannot reach it still gets ours.
      temporal = await fetch(opts.temporalMetricsUrl, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
    }
    res.type(processMetrics.contentType).send(`${await processMetrics.metrics()}\n${temporal}`);
  });
  return app;
}

export function serveWorkerHealth(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server)).once('error', reject);
  });
}
