import { Router } from 'express';
import { z } from 'zod';
import { queryAlerts } from '../../db/signals';
import { failureFields } from '../../logger';
import type { ApiContext } from '../context';
import { parseInput } from '../errors';
import { openEventStream, StreamSlots } from '../sse';
import { assetName } from '../../services/limits';
import { timeParam } from './signals';

export const alertsQuery = z.object({
  type: z.enum(['signal', 'volatility_spike']).optional(),
  asset: assetName.optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
});

/** Last-Event-ID: the id of the last alert a client got; anything else is a 400 before the stream opens. */
const lastEventId = z.union([z.undefined(), z.string().regex(/^\d{1,15}$/, 'must be an alert id (a whole number)').transform(Number)]);

export function alertsRouter(ctx: ApiContext, streamsPerKey: number): Router {
  const router = Router();
  const slots = new StreamSlots(streamsPerKey, 'alert');
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
    let unsubscribe: (() => void) | undefined;
    const stream = openEventStream(req, res, slots, () => unsubscribe?.());
    // Deliveries run in parallel, so ids can arrive out of order: remember what was sent, not a high-water mark.
    const sent = new Set<number>();
    const forward = (id: number, type: string, alert: unknown) => {
      if (stream.closed || sent.has(id)) return;
      sent.add(id);
      stream.send('alert', { alert_type: type, alert }, id);
    };
    try {
      // Announcements lost with the stream's connection: ended, the client reconnects with its Last-Event-ID and catches up.
      const stop = await ctx.alertStream.subscribe((a) => forward(a.id, a.alert_type, a.alert), () => stream.end());
      if (stream.closed) { stop(); return; }
      unsubscribe = stop;
      if (lastId !== undefined && lastId > 0) {
        for (const r of await queryAlerts(ctx.db, { afterId: lastId, limit: 1000 })) forward(r.id, r.alertType, r.alertData);
      }
    } catch (err) {
      // Headers are sent: the stream ends, and what it held is released.
      stream.end();
      req.log?.warn(failureFields(err), 'alert stream ended by an error; its client reconnects');
    }
  });
  return router;
}
