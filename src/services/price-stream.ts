import type { LatestPrice } from '../db/market-prices';
import { NOTIFY_CHANNELS } from '../db/notify';
import { NotifyStream, type NotifyStreamOptions } from './notify-stream';

/** Streamed prices as the consumer writes them (a batch per write), to every SSE client of this API process. */
export class PriceStream extends NotifyStream<LatestPrice[]> {
  constructor(databaseUrl: string, onError?: NotifyStreamOptions['onError']) {
    super(databaseUrl, NOTIFY_CHANNELS.prices, { onError });
  }
}
