import { Router } from 'express';
import { z } from 'zod';
import { queryAlerts } from '../../db/signals';
import type { ApiContext } from '../context';
import { HttpError, parseInput } from '../errors';
import { assetName } from '../../services/limits';
import { timeParam } from './signals';

export const alertsQuery = z.object({
  type: z.enum(['signal', 'volatility_spike']).optional(),
  asset: assetName.optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
});

const HEARTBEAT_MS = 15_000;

/** Last-Event-ID: the id of the last alert a client got; anything else is a 400 before the stream opens. */
const lastEventId = z.union([z.undefined(), z.string().regex(/^\d{1,15}$/, 'must be an alert id (a whole number)').transform(Number)]);

export function alertsRouter(ctx: ApiContext, streamsPerKey: number): Router {
  const router = Router();
  /** Open streams per key name: a cap, so one key cannot hold the server's connections. */
  const open = new Map<string, number>();
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
    const lastId = parseInput(z.object({ 'last-event-id': lastEventId }), { 'last-event-id': req.get('last-event-id') }, 'headers')['last-event-id'];
    const key = req.identity!.name;
    if ((open.get(key) ?? 0) >= streamsPerKey) {
      throw new HttpError(429, 'too_many_streams', `this key has ${streamsPerKey} alert streams open already; close one first`);
    }
    open.set(key, (open.get(key) ?? 0) + 1);
    // Everything the stream holds is released once, whenever the client goes: during the replay too.
    let closed = false;
    let unsubscribe: (() => void) | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    const release = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe?.();
      const n = (open.get(key) ?? 1) - 1;
      if (n > 0) open.set(key, n);
      else open.delete(key);
    };
    req.on('close', release);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    const send = (id: number, type: string, alert: unknown) => res.write(`event: alert\nid: ${id}\ndata: ${JSON.stringify({ alert_type: type, alert })}\n\n`);
    // Deliveries run in parallel, so ids can arrive out of order: remember what was sent, not a high-water mark.
    const sent = new Set<number>();
    const forward = (id: number, type: string, alert: unknown) => {
      if (closed || sent.has(id)) return;
      sent.add(id);
      send(id, type, alert);
    };
    try {
      const stop = await ctx.alertStream.subscribe((a) => forward(a.id, a.alert_type, a.alert));
      if (closed) { stop(); return; }
      unsubscribe = stop;
      if (lastId !== undefined && lastId > 0) {
        for (const r of await queryAlerts(ctx.db, { afterId: lastId, limit: 1000 })) forward(r.id, r.alertType, r.alertData);
      }
      if (!closed) heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    } catch (err) {
      // Headers are sent: the stream ends, and what it held is released.
      release();
      res.end();
      req.log?.warn({ err }, 'alert stream ended by an error');
    }
  });
  return router;
}
