import type { StreamEvent } from '../../domain/market-stream';
import { SimulatedMarket } from '../../domain/simulated-market';
import { MINUTE_MS } from '../../domain/types';
import type { MarketStreamSource, StreamClosed } from './types';

/**
 * The simulated market played as ticks at wall-clock time: a price per asset every `tickMs`, and
 * each minute's bar once it has closed. The same seeded market the simulated REST source serves,
 * so streamed bars equal collected ones and `mts dev` moves in real time with no network.
 */
export function simulatedStream(opts: { seed: number; tickMs: number; clock?: () => number }): MarketStreamSource {
  const market = new SimulatedMarket(opts.seed);
  const now = opts.clock ?? Date.now;
  return {
    name: 'simulated',
    open(assets, handlers) {
      let settle!: (c: StreamClosed) => void;
      const closed = new Promise<StreamClosed>((r) => { settle = r; });
      let minute = Math.floor(now() / MINUTE_MS);
      const tick = () => {
        const t = now();
        const events: StreamEvent[] = [];
        const current = Math.floor(t / MINUTE_MS);
        // Every minute that closed since the last tick, in order.
        for (let m = minute; m < current; m++) {
          for (const asset of assets) events.push({ kind: 'bar', asset, closed: true, bar: market.candle(asset, m * MINUTE_MS, MINUTE_MS) });
        }
        minute = current;
        for (const asset of assets) events.push({ kind: 'price', asset, price: market.price(asset, t), time: t });
        handlers.onFrame({ kind: 'events', events });
      };
      const timer = setInterval(tick, opts.tickMs);
      setImmediate(() => {
        handlers.onOpen();
        tick();
      });
      return {
        closed,
        close() {
          clearInterval(timer);
          settle({ reason: 'stopped', detail: 'closed by the consumer' });
        },
      };
    },
    async fetchMinuteBars(asset, from, to) {
      return market.candles(asset, from, Math.min(to, Math.floor(now() / MINUTE_MS) * MINUTE_MS), MINUTE_MS);
    },
  };
}
