import type { ParsedFrame, StreamSourceName } from '../../domain/market-stream';
import type { Candle } from '../../domain/types';

/** Why a connection ended: the peer closed it, it went silent, it failed, or we closed it. */
export interface StreamClosed {
  reason: 'closed' | 'stale' | 'error' | 'stopped';
  detail: string;
}

export interface StreamHandlers {
  /** The connection is up and subscribed: the moment to fill the gap since the last bar. */
  onOpen(): void;
  /** Every frame, parsed (events, a control frame, or what was wrong with it). */
  onFrame(frame: ParsedFrame): void;
}

export interface StreamConnection {
  /** Resolves once, when the connection has ended for whatever reason. */
  readonly closed: Promise<StreamClosed>;
  close(): void;
}

/**
 * A real-time market stream, like the REST sources behind one interface: a connection that delivers
 * 1-minute bars and prices for the assets asked for, and the exchange's REST klines to fill a gap.
 */
export interface MarketStreamSource {
  readonly name: StreamSourceName;
  open(assets: string[], handlers: StreamHandlers): StreamConnection;
  /** Closed 1-minute bars with open time in [from, to), oldest first; throws a ProviderError. */
  fetchMinuteBars(asset: string, from: number, to: number): Promise<Candle[]>;
}

/** Asset ↔ exchange symbol (bitcoin ↔ BTCUSDT), from config/execution.json's `symbols`. */
export class SymbolMap {
  private readonly byAsset: Map<string, string>;
  private readonly bySymbol: Map<string, string>;

  constructor(symbols: Record<string, string>) {
    this.byAsset = new Map(Object.entries(symbols));
    this.bySymbol = new Map(Object.entries(symbols).map(([asset, symbol]) => [symbol.toUpperCase(), asset]));
  }

  symbolOf(asset: string): string {
    const symbol = this.byAsset.get(asset);
    if (!symbol) throw new Error(`${asset}: no exchange symbol in config/execution.json "symbols"`);
    return symbol;
  }

  assetOf(symbol: string): string | undefined {
    return this.bySymbol.get(symbol.toUpperCase());
  }
}
