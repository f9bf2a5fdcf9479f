import { Router } from 'express';
import { z } from 'zod';
import { type LatestPrice, readLatestPrices } from '../../db/market-prices';
import { assetName } from '../../services/limits';
import type { ApiContext } from '../context';
import { failureFields } from '../../logger';
import { parseInput } from '../errors';
import { openEventStream, StreamSlots } from '../sse';

export const pricesQuery = z.object({
  /** Comma-separated assets; all streamed assets when absent. */
  assets: z.string().max(2000).transform((s) => s.split(',').map((a) => a.trim())).pipe(z.array(assetName).min(1).max(100)).optional(),
});

const withAge = (p: LatestPrice, now: number) => ({ ...p, ageMs: Math.max(0, now - p.time) });

/** The latest streamed prices (MARKET_STREAM), and the same live as Server-Sent Events. */
export function pricesRouter(ctx: ApiContext, streamsPerKey: number): Router {
  const router = Router();
  const slots = new StreamSlots(streamsPerKey, 'price');

  router.get('/', async (req, res) => {
    const q = parseInput(pricesQuery, req.query, 'query');
    const now = Date.now();
    res.json({ prices: (await readLatestPrices(ctx.db, q.assets)).map((p) => withAge(p, now)) });
  });

  /** `event: price`, `data: {asset, price, time, source, ageMs}`: the stored prices first, then each one written. */
  router.get('/stream', async (req, res) => {
    const q = parseInput(pricesQuery, req.query, 'query');
    const wanted = q.assets ? new Set(q.assets) : undefined;
    let unsubscribe: (() => void) | undefined;
    const stream = openEventStream(req, res, slots, () => unsubscribe?.());
    const forward = (p: LatestPrice) => {
      if (!wanted || wanted.has(p.asset)) stream.send('price', withAge(p, Date.now()));
    };
    try {
      // Prices lost with the stream's connection: ended, the client reconnects and starts from the latest.
      const stop = await ctx.priceStream.subscribe((batch) => batch.forEach(forward), () => stream.end());
      if (stream.closed) { stop(); return; }
      unsubscribe = stop;
      for (const p of await readLatestPrices(ctx.db, q.assets)) forward(p);
    } catch (err) {
      stream.end();
      req.log?.warn(failureFields(err), 'price stream ended by an error; its client reconnects');
    }
  });
  return router;
}
