/**
 * Portfolio accounting on the average-cost method. Quantities are signed (long > 0, short < 0);
 * cash moves by −signed quantity × price − fee on every fill, so a short sale credits cash.
 * Realised P&L is booked on every reducing fill as closed quantity × (fill price − average price)
 * × side, gross of fees (fees are kept separately). Equity = cash + Σ quantity × mark, always.
 */

export type Side = 'BUY' | 'SELL';

export interface Fill {
  /** Unique per fill: applying the same id twice is refused. */
  id: string;
  asset: string;
  side: Side;
  /** Units of the asset, > 0. */
  quantity: number;
  price: number;
  fee: number;
  timestamp: number;
}

export interface Position {
  asset: string;
  quantity: number;
  averagePrice: number;
  realizedPnl: number;
}

export interface Book {
  cash: number;
  positions: Record<string, Position>;
  realizedPnl: number;
  feesPaid: number;
}

export class InvalidFillError extends Error {}

export function newBook(initialCash: number): Book {
  return { cash: initialCash, positions: {}, realizedPnl: 0, feesPaid: 0 };
}

export interface FillEffect {
  book: Book;
  /** Realised P&L of this fill (0 when it only opens or adds). */
  realized: number;
  /** Quantity that closed existing exposure. */
  closedQuantity: number;
  /** The position before and after. */
  before: Position;
  after: Position;
}

/**
 * Applies one fill to `book` in place (the trading core's own state, where a backtest books hundreds
 * of thousands of fills). That a fill is booked once is the driver's business: paper trading marks
 * each stored fill applied under the portfolio lock, a backtest numbers its own.
 */
export function applyFill(book: Book, fill: Fill): FillEffect {
  if (!(fill.quantity > 0) || !Number.isFinite(fill.quantity)) throw new InvalidFillError(`fill ${fill.id}: quantity must be positive, got ${fill.quantity}`);
  if (!(fill.price > 0) || !Number.isFinite(fill.price)) throw new InvalidFillError(`fill ${fill.id}: price must be positive, got ${fill.price}`);
  if (!(fill.fee >= 0)) throw new InvalidFillError(`fill ${fill.id}: fee must not be negative, got ${fill.fee}`);

  const before = book.positions[fill.asset] ?? { asset: fill.asset, quantity: 0, averagePrice: 0, realizedPnl: 0 };
  const signed = fill.side === 'BUY' ? fill.quantity : -fill.quantity;
  let { quantity, averagePrice } = before;
  let realized = 0;
  let closedQuantity = 0;

  if (quantity === 0 || Math.sign(quantity) === Math.sign(signed)) {
    const total = Math.abs(quantity) + fill.quantity;
    averagePrice = (Math.abs(quantity) * averagePrice + fill.quantity * fill.price) / total;
    quantity += signed;
  } else {
    closedQuantity = Math.min(fill.quantity, Math.abs(quantity));
    realized = closedQuantity * (fill.price - averagePrice) * Math.sign(quantity);
    const remaining = quantity + signed;
    if (remaining === 0 || Math.abs(remaining) < 1e-12 * fill.quantity) {
      quantity = 0;
      averagePrice = 0;
    } else if (Math.sign(remaining) !== Math.sign(quantity)) {
      // Flipped through zero: what is left opens a new position at the fill price.
      quantity = remaining;
      averagePrice = fill.price;
    } else {
      quantity = remaining;
    }
  }

  const after: Position = { asset: fill.asset, quantity, averagePrice, realizedPnl: before.realizedPnl + realized };
  book.cash = book.cash - signed * fill.price - fill.fee;
  book.positions[fill.asset] = after;
  book.realizedPnl += realized;
  book.feesPaid += fill.fee;
  return { book, realized, closedQuantity, before, after };
}

/** Marked value of the open positions at the given prices; a position without a mark is valued at its average price. */
export function marketValue(book: Book, marks: Record<string, number>): number {
  // A plain loop: backtests mark the book at every bar, and this allocates nothing.
  let value = 0;
  for (const asset in book.positions) {
    const p = book.positions[asset];
    value += p.quantity * (marks[asset] ?? p.averagePrice);
  }
  return value;
}

export function hasOpenPosition(book: Book): boolean {
  for (const asset in book.positions) if (book.positions[asset].quantity !== 0) return true;
  return false;
}

export function equity(book: Book, marks: Record<string, number>): number {
  return book.cash + marketValue(book, marks);
}

export function unrealizedPnl(position: Position, mark: number): number {
  return position.quantity * (mark - position.averagePrice);
}

/** Gross exposure (Σ |quantity| × mark) as a fraction of equity: the portfolio heat. */
export function portfolioHeat(book: Book, marks: Record<string, number>): number {
  const eq = equity(book, marks);
  const gross = Object.values(book.positions).reduce((s, p) => s + Math.abs(p.quantity) * (marks[p.asset] ?? p.averagePrice), 0);
  return eq > 0 ? gross / eq : Number.POSITIVE_INFINITY;
}
