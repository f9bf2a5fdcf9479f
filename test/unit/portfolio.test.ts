import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { marketFill, protectiveTrigger, trailStop } from '../../src/domain/fills';
import { type Book, applyFill, equity, type Fill, newBook, unrealizedPnl } from '../../src/domain/portfolio';

let n = 0;
const fill = (side: 'BUY' | 'SELL', quantity: number, price: number, fee = 0, asset = 'bitcoin'): Fill => ({ id: `f${++n}`, asset, side, quantity, price, fee, timestamp: n });
const run = (book: Book, ...fills: Fill[]) => fills.reduce((b, f) => applyFill(b, f).book, book);

describe('hand-worked ledgers', () => {
  it('a long with slippage and fees, opened and closed', () => {
    const model = { fixedSlippageBps: 10, volatilitySlippageFactor: 0.5, takerFeeBps: 10 };
    // Slippage 10 bps + 0.5 × 0.002 = 0.2%: 50,000 → 50,100; fee 0.1 × 50,100 × 0.1% = 5.01.
    const buy = marketFill('BUY', 0.1, 50_000, 0.002, model);
    expect(buy.price).toBeCloseTo(50_100, 9);
    expect(buy.slippageCost).toBeCloseTo(10, 9);
    expect(buy.fee).toBeCloseTo(5.01, 9);
    let book = run(newBook(10_000), fill('BUY', 0.1, buy.price, buy.fee));
    expect(book.cash).toBeCloseTo(4984.99, 9);
    expect(equity(book, { bitcoin: 51_000 })).toBeCloseTo(10_084.99, 9);
    expect(unrealizedPnl(book.positions.bitcoin, 51_000)).toBeCloseTo(90, 9);

    const sell = marketFill('SELL', 0.1, 51_000, 0, model);
    expect(sell.price).toBeCloseTo(50_949, 9);
    const effect = applyFill(book, fill('SELL', 0.1, sell.price, sell.fee));
    book = effect.book;
    expect(effect.realized).toBeCloseTo(84.9, 9);
    expect(book.positions.bitcoin.quantity).toBe(0);
    expect(book.feesPaid).toBeCloseTo(10.1049, 9);
    expect(book.cash).toBeCloseTo(10_074.7951, 9);
    expect(book.cash - 10_000).toBeCloseTo(book.realizedPnl - book.feesPaid, 9);
  });

  it('adds, a partial close, then a flip from long to short', () => {
    let book = run(newBook(1000), fill('BUY', 2, 100), fill('BUY', 2, 110));
    expect(book.positions.bitcoin).toMatchObject({ quantity: 4, averagePrice: 105 });
    const partial = applyFill(book, fill('SELL', 1, 120));
    expect(partial.realized).toBe(15);
    book = partial.book;
    expect(book.positions.bitcoin).toMatchObject({ quantity: 3, averagePrice: 105 });
    expect(book.cash).toBe(700);
    expect(equity(book, { bitcoin: 120 })).toBe(1060);

    const flip = applyFill(book, fill('SELL', 5, 100));
    expect(flip.realized).toBe(-15);
    expect(flip.closedQuantity).toBe(3);
    book = flip.book;
    expect(book.positions.bitcoin).toMatchObject({ quantity: -2, averagePrice: 100 });
    expect(book.cash).toBe(1200);
    expect(equity(book, { bitcoin: 100 })).toBe(1000);
    expect(equity(book, { bitcoin: 90 })).toBe(1020);
  });

  it('a short stopped out inside a bar that closes back below the stop', () => {
    let book = run(newBook(1000), fill('SELL', 1, 100));
    const bar = { open: 100.5, high: 103, low: 99, close: 100 };
    const trigger = protectiveTrigger('SHORT', 102, 96, bar);
    expect(trigger).toEqual({ kind: 'stop_loss', price: 102 });
    const exit = applyFill(book, fill('BUY', 1, trigger!.price));
    book = exit.book;
    expect(exit.realized).toBe(-2);
    expect(book.cash).toBe(998);
    expect(book.positions.bitcoin.quantity).toBe(0);
  });

  it('protective orders: stop first when both are inside a bar, gaps fill at the open, trailing stops ratchet', () => {
    expect(protectiveTrigger('LONG', 98, 104, { open: 100, high: 105, low: 97, close: 101 })).toEqual({ kind: 'stop_loss', price: 98 });
    expect(protectiveTrigger('LONG', 98, 104, { open: 96, high: 97, low: 95, close: 96 })).toEqual({ kind: 'stop_loss', price: 96 });
    expect(protectiveTrigger('LONG', 98, 104, { open: 101, high: 104.5, low: 99, close: 102 })).toEqual({ kind: 'take_profit', price: 104 });
    expect(protectiveTrigger('SHORT', 102, 96, { open: 95, high: 97, low: 94, close: 95 })).toEqual({ kind: 'take_profit', price: 95 });
    expect(protectiveTrigger('LONG', 98, 104, { open: 100, high: 101, low: 99, close: 100 })).toBeUndefined();
    expect(trailStop('LONG', 98, { open: 100, high: 110, low: 100, close: 109 }, 0.05)).toBeCloseTo(104.5, 12);
    expect(trailStop('LONG', 104.5, { open: 100, high: 101, low: 99, close: 100 }, 0.05)).toBe(104.5);
  });

  it('refuses bad fills', () => {
    const book = applyFill(newBook(1000), fill('BUY', 1, 100)).book;
    expect(() => applyFill(book, { ...fill('BUY', 1, 100), quantity: 0 })).toThrow(/quantity must be positive/);
    expect(() => applyFill(book, { ...fill('BUY', 1, 100), price: Number.NaN })).toThrow(/price must be positive/);
    expect(() => applyFill(book, { ...fill('BUY', 1, 100), fee: -1 })).toThrow(/fee must not be negative/);
    expect(book.cash).toBe(900);
  });
});

describe('accounting invariants over random fill sequences', () => {
  const fillArb = fc.record({
    asset: fc.constantFrom('bitcoin', 'ethereum'),
    side: fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL'),
    quantity: fc.double({ min: 0.001, max: 10, noNaN: true }),
    price: fc.double({ min: 1, max: 1000, noNaN: true }),
    fee: fc.double({ min: 0, max: 2, noNaN: true }),
  });
  const marksArb = fc.record({ bitcoin: fc.double({ min: 1, max: 1000, noNaN: true }), ethereum: fc.double({ min: 1, max: 1000, noNaN: true }) });

  it('equity = initial + realised + unrealised − fees, after every fill', () => {
    fc.assert(fc.property(fc.array(fillArb, { maxLength: 40 }), marksArb, (fills, marks) => {
      let book = newBook(10_000);
      fills.forEach((f, i) => {
        book = applyFill(book, { ...f, id: `p${i}`, timestamp: i }).book;
        const unrealized = Object.values(book.positions).reduce((s, p) => s + unrealizedPnl(p, marks[p.asset as 'bitcoin']), 0);
        const expected = 10_000 + book.realizedPnl + unrealized - book.feesPaid;
        expect(equity(book, marks)).toBeCloseTo(expected, 6);
      });
    }));
  });

  it('once flat, realised P&L minus fees is exactly the cash change', () => {
    fc.assert(fc.property(fc.array(fillArb, { maxLength: 30 }), (fills) => {
      let book = newBook(10_000);
      fills.forEach((f, i) => { book = applyFill(book, { ...f, id: `q${i}`, timestamp: i }).book; });
      // Close whatever is open.
      Object.values(book.positions).filter((p) => p.quantity !== 0).forEach((p, i) => {
        book = applyFill(book, { id: `close${i}`, asset: p.asset, side: p.quantity > 0 ? 'SELL' : 'BUY', quantity: Math.abs(p.quantity), price: 500, fee: 0, timestamp: 999 }).book;
      });
      expect(Object.values(book.positions).every((p) => p.quantity === 0)).toBe(true);
      expect(book.cash - 10_000).toBeCloseTo(book.realizedPnl - book.feesPaid, 6);
    }));
  });
});
