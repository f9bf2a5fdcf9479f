/**
 * A replay's fills and trades as typed columns, grown by doubling: a backtest with half a million
 * fills keeps no object per fill or per trade (nothing for the garbage collector to trace), and rows
 * are made only when someone reads them.
 */
import type { Side } from '../portfolio';
import type { SignalType } from '../signals';

export interface BacktestFill {
  time: number;
  asset: string;
  side: Side;
  quantity: number;
  price: number;
  fee: number;
  slippage: number;
  reason: 'signal' | 'stop_loss' | 'take_profit' | 'end';
  realized: number;
}

export interface BacktestTrade {
  asset: string;
  direction: SignalType;
  entryTime: number;
  entryPrice: number;
  exitTime: number | null;
  exitPrice: number | null;
  quantity: number;
  fees: number;
  /** Realised P&L before fees. */
  grossPnl: number;
  /** Realised P&L less every fee of the trade (entry, adds and exit). */
  pnl: number;
  returnPct: number;
}

const SIDES: readonly Side[] = ['BUY', 'SELL'];
const DIRECTIONS: readonly SignalType[] = ['LONG', 'SHORT'];
const REASONS: readonly BacktestFill['reason'][] = ['signal', 'stop_loss', 'take_profit', 'end'];

type Column = Float64Array | Uint8Array | Uint16Array;

/** Columns of one row type, all the same length, doubled together when full. */
abstract class Columns<C extends Record<string, Column>> {
  length = 0;
  /** Asset names by the index stored in the `asset` column. */
  protected readonly assets: string[] = [];
  private readonly assetIndex = new Map<string, number>();

  private capacity: number;

  protected constructor(protected columns: C) {
    this.capacity = Object.values(columns)[0].length;
  }

  protected assetOf(name: string): number {
    let k = this.assetIndex.get(name);
    if (k === undefined) {
      k = this.assets.push(name) - 1;
      this.assetIndex.set(name, k);
    }
    return k;
  }

  /** The index of a new row, making room for it. */
  protected nextRow(): number {
    if (this.length === this.capacity) this.reserve(this.length + 1);
    return this.length++;
  }

  /**
   * Room for `rows` rows: every column at least doubled when it grows (kept out of `nextRow`, so that
   * stays small enough to inline).
   */
  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = Math.max(rows, this.capacity * 2);
    const grown = {} as C;
    for (const key in this.columns) {
      const old = this.columns[key];
      const wider = new (old.constructor as new (n: number) => Column)(this.capacity);
      wider.set(old);
      grown[key] = wider as C[typeof key];
    }
    this.columns = grown;
  }

  /** The indices of the rows `keep` says yes to, in order. */
  private rowsKept(keep: (k: number) => boolean): Int32Array {
    const rows = new Int32Array(this.length);
    let n = 0;
    for (let k = 0; k < this.length; k++) if (keep(k)) rows[n++] = k;
    return rows.subarray(0, n);
  }

  /**
   * Appends the rows `keep` says yes to, in order, to `into`: an empty log of the same kind, given this
   * one's asset names. Column by column, room made once: row by row, each value went through a key
   * looked up by name, and the copy of 340,000 closed trades took ~180 ms with its doublings.
   */
  protected copyRowsTo(into: Columns<C>, keep: (k: number) => boolean): void {
    for (const name of this.assets) into.assetOf(name);
    const rows = this.rowsKept(keep);
    into.reserve(into.length + rows.length);
    for (const key in this.columns) gather(this.columns[key], rows, into.columns[key], into.length);
    into.length += rows.length;
  }

  /** Keeps only the rows `keep` says yes to, in order; returns the old index → new index (-1: dropped). */
  protected compact(keep: (k: number) => boolean): Int32Array {
    const rows = this.rowsKept(keep);
    const moved = new Int32Array(this.length).fill(-1);
    for (let n = 0; n < rows.length; n++) moved[rows[n]] = n;
    // In place: the row written at n comes from rows[n] ≥ n, which no earlier write has reached.
    for (const key in this.columns) gather(this.columns[key], rows, this.columns[key], 0);
    this.length = rows.length;
    return moved;
  }
}

/** `to[at + j] = from[rows[j]]` for each of `rows`. */
function gather(from: Column, rows: Int32Array, to: Column, at: number): void {
  for (let j = 0; j < rows.length; j++) to[at + j] = from[rows[j]];
}

const fillColumns = (n: number) => ({
  time: new Float64Array(n), asset: new Uint16Array(n), side: new Uint8Array(n), quantity: new Float64Array(n), price: new Float64Array(n),
  fee: new Float64Array(n), slippage: new Float64Array(n), reason: new Uint8Array(n), realized: new Float64Array(n),
});

export class FillLog extends Columns<ReturnType<typeof fillColumns>> {
  constructor(rows: readonly BacktestFill[] = []) {
    super(fillColumns(Math.max(64, rows.length)));
    for (const row of rows) this.push(row);
  }

  push(fill: BacktestFill): void {
    const k = this.nextRow();
    const c = this.columns;
    c.time[k] = fill.time;
    c.asset[k] = this.assetOf(fill.asset);
    c.side[k] = SIDES.indexOf(fill.side);
    c.quantity[k] = fill.quantity;
    c.price[k] = fill.price;
    c.fee[k] = fill.fee;
    c.slippage[k] = fill.slippage;
    c.reason[k] = REASONS.indexOf(fill.reason);
    c.realized[k] = fill.realized;
  }

  row(k: number): BacktestFill {
    const c = this.columns;
    return {
      time: c.time[k], asset: this.assets[c.asset[k]], side: SIDES[c.side[k]], quantity: c.quantity[k], price: c.price[k], fee: c.fee[k],
      slippage: c.slippage[k], reason: REASONS[c.reason[k]], realized: c.realized[k],
    };
  }

  rows(): BacktestFill[] {
    return Array.from({ length: this.length }, (_, k) => this.row(k));
  }

  clear(): void {
    this.length = 0;
  }
}

const tradeColumns = (n: number) => ({
  asset: new Uint16Array(n), direction: new Uint8Array(n), entryTime: new Float64Array(n), entryPrice: new Float64Array(n),
  exitTime: new Float64Array(n), exitPrice: new Float64Array(n), quantity: new Float64Array(n), fees: new Float64Array(n),
  grossPnl: new Float64Array(n), pnl: new Float64Array(n), returnPct: new Float64Array(n),
});

/** Trades, open and closed; an open trade's exit columns hold NaN, and the replay updates its row in place. */
export class TradeLog extends Columns<ReturnType<typeof tradeColumns>> {
  constructor(rows: readonly BacktestTrade[] = []) {
    super(tradeColumns(Math.max(64, rows.length)));
    for (const row of rows) {
      const k = this.open(row);
      this.columns.exitTime[k] = row.exitTime ?? Number.NaN;
      this.columns.exitPrice[k] = row.exitPrice ?? Number.NaN;
      this.columns.grossPnl[k] = row.grossPnl;
      this.columns.pnl[k] = row.pnl;
      this.columns.returnPct[k] = row.returnPct;
    }
  }

  /** A new open trade; returns its row. */
  open(trade: Pick<BacktestTrade, 'asset' | 'direction' | 'entryTime' | 'entryPrice' | 'quantity' | 'fees'>): number {
    const k = this.nextRow();
    const c = this.columns;
    c.asset[k] = this.assetOf(trade.asset);
    c.direction[k] = DIRECTIONS.indexOf(trade.direction);
    c.entryTime[k] = trade.entryTime;
    c.entryPrice[k] = trade.entryPrice;
    c.exitTime[k] = Number.NaN;
    c.exitPrice[k] = Number.NaN;
    c.quantity[k] = trade.quantity;
    c.fees[k] = trade.fees;
    c.grossPnl[k] = 0;
    c.pnl[k] = 0;
    c.returnPct[k] = 0;
    return k;
  }

  /** A fill's share of fees and its realised P&L, added to trade `k`. */
  addFill(k: number, fee: number, realized: number): void {
    this.columns.fees[k] += fee;
    this.columns.grossPnl[k] += realized;
  }

  /** The open trade grew: its new size and average entry. */
  resize(k: number, quantity: number, entryPrice: number): void {
    this.columns.quantity[k] = quantity;
    this.columns.entryPrice[k] = entryPrice;
  }

  /** Closes trade `k`; returns its net P&L (gross less every fee). */
  close(k: number, exitTime: number, exitPrice: number): number {
    const c = this.columns;
    c.exitTime[k] = exitTime;
    c.exitPrice[k] = exitPrice;
    c.pnl[k] = c.grossPnl[k] - c.fees[k];
    c.returnPct[k] = c.pnl[k] / (c.entryPrice[k] * c.quantity[k]);
    return c.pnl[k];
  }

  quantityOf(k: number): number {
    return this.columns.quantity[k];
  }

  isOpen(k: number): boolean {
    return Number.isNaN(this.columns.exitTime[k]);
  }

  row(k: number): BacktestTrade {
    const c = this.columns;
    const open = this.isOpen(k);
    return {
      asset: this.assets[c.asset[k]], direction: DIRECTIONS[c.direction[k]], entryTime: c.entryTime[k], entryPrice: c.entryPrice[k],
      exitTime: open ? null : c.exitTime[k], exitPrice: open ? null : c.exitPrice[k], quantity: c.quantity[k], fees: c.fees[k],
      grossPnl: c.grossPnl[k], pnl: c.pnl[k], returnPct: c.returnPct[k],
    };
  }

  rows(): BacktestTrade[] {
    return Array.from({ length: this.length }, (_, k) => this.row(k));
  }

  /**
   * Takes the closed trades out, in order, as a log of their own (no object per trade: tens of thousands
   * of rows made at once outlive the young generation and swell the old one); returns it and each kept
   * trade's old row → new row.
   */
  drainClosed(): { closed: TradeLog; moved: Int32Array } {
    const closed = new TradeLog();
    this.copyRowsTo(closed, (k) => !this.isOpen(k));
    return { closed, moved: this.compact((k) => this.isOpen(k)) };
  }

  /** The trades as columns to store: asset and direction by name, the numbers as they are (an open trade's exit NaN). */
  storageColumns() {
    const n = this.length;
    const c = this.columns;
    return {
      asset: Array.from(c.asset.subarray(0, n), (a) => this.assets[a]), direction: Array.from(c.direction.subarray(0, n), (d) => DIRECTIONS[d]),
      entryTime: c.entryTime.subarray(0, n), entryPrice: c.entryPrice.subarray(0, n), exitTime: c.exitTime.subarray(0, n),
      exitPrice: c.exitPrice.subarray(0, n), quantity: c.quantity.subarray(0, n), fees: c.fees.subarray(0, n),
      grossPnl: c.grossPnl.subarray(0, n), pnl: c.pnl.subarray(0, n), returnPct: c.returnPct.subarray(0, n),
    };
  }
}
