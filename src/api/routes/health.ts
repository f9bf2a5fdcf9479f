import { Router } from 'express';
import { ping } from '../../db/client';
import { collectionHealthNow } from '../../services/collections';
import type { ApiContext } from '../context';

async function check(run: () => Promise<unknown>) {
  const started = Date.now();
  try {
    await run();
    return { ok: true, latencyMs: Date.now() - started };
  } catch {
    // States only: a raw driver message can name hosts, users and databases.
    return { ok: false, latencyMs: Date.now() - started, error: 'unreachable' };
  }
}

export function healthRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([
      check(() => ping(ctx.db)),
      check(() => ctx.temporal.workflowService.getSystemInfo({})),
    ]);
    const ready = postgres.ok && temporal.ok;
    // Data health is detail, not readiness: stale data does not take the API out of service.
    const unhealthy = postgres.ok
      ? (await collectionHealthNow(ctx.db, ctx.collection)).filter((h) => h.reasons.length).map((h) => ({ tier: h.run.tier, asset: h.run.asset, reasons: h.reasons }))
      : undefined;
    const data = unhealthy && { ok: unhealthy.length === 0, unhealthy };
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { postgres, temporal, ...(data ? { data } : {}) } });
  });
  return router;
}
