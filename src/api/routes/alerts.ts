import { Router } from 'express';
import { z } from 'zod';
import { queryAlerts } from '../../db/signals';
import type { ApiContext } from '../context';
import { parseInput } from '../errors';
import { timeParam } from './signals';

export const alertsQuery = z.object({
  type: z.enum(['signal', 'volatility_spike']).optional(),
  asset: z.string().regex(/^[\w.-]+$/).optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
});

const HEARTBEAT_MS = 15_000;

export function alertsRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const q = parseInput(alertsQuery, req.query, 'query');
    const rows = await queryAlerts(ctx.db, q);
    res.json({
      alerts: rows.map((r) => ({
        id: r.id, alertType: r.alertType, asset: r.asset, timestamp: r.timestamp, alert: r.alertData,
        filePath: r.filePath, distributedChannels: r.distributedChannels, createdAt: r.createdAt.toISOString(),
      })),
    });
  });

  /**
   * Server-Sent Events: `event: alert`, `id: <alert id>`, `data: <seed-format alert JSON>`. A client
   * that reconnects with Last-Event-ID first gets the alerts stored after that id.
   */
  router.get('/stream', async (req, res) => {
    const lastId = Number(req.get('last-event-id'));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    const send = (id: number, type: string, alert: unknown) => res.write(`event: alert\nid: ${id}\ndata: ${JSON.stringify({ alert_type: type, alert })}\n\n`);
    // Deliveries run in parallel, so ids can arrive out of order: remember what was sent, not a high-water mark.
    const sent = new Set<number>();
    const forward = (id: number, type: string, alert: unknown) => {
      if (sent.has(id)) return;
      sent.add(id);
      send(id, type, alert);
    };
    const unsubscribe = await ctx.alertStream.subscribe((a) => forward(a.id, a.alert_type, a.alert));
    if (Number.isInteger(lastId) && lastId > 0) {
      for (const r of await queryAlerts(ctx.db, { afterId: lastId, limit: 1000 })) forward(r.id, r.alertType, r.alertData);
    }
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
  return router;
}
