import type { Env } from '../../config/env';
import type { StreamSourceName } from '../../domain/market-stream';
import { binanceStream } from './binance';
import { bybitStream } from './bybit';
import { simulatedStream } from './simulated';
import { type MarketStreamSource, SymbolMap } from './types';

/** The stream named by MARKET_STREAM, with its endpoints from the environment. */
export function streamSourceFromEnv(env: Env, opts: { name: StreamSourceName; symbols: Record<string, string>; staleAfterMs: number; simulatedTickMs: number }): MarketStreamSource {
  const { name } = opts;
  const symbols = new SymbolMap(opts.symbols);
  switch (name) {
    case 'binance':
      return binanceStream({ streamUrl: env.BINANCE_STREAM_URL, restUrl: env.BINANCE_REST_URL, symbols, staleAfterMs: opts.staleAfterMs });
    case 'bybit':
      return bybitStream({ streamUrl: env.BYBIT_STREAM_URL, restUrl: env.BYBIT_REST_URL, symbols, staleAfterMs: opts.staleAfterMs });
    case 'simulated':
      return simulatedStream({ seed: env.SIMULATED_SEED, tickMs: opts.simulatedTickMs });
  }
}
