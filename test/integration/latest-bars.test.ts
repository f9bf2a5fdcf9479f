import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { closedCandleColumnsFor, upsertCandles } from '../../src/db/market-data';
import { priceBarsOf } from '../../src/db/market-series';
import { lookbackStart } from '../../src/domain/market-conditions';
import { fills, latestPrices, orders, portfolios, positions } from '../../src/db/schema';
import { eq, sql } from 'drizzle-orm';
import {
  ensurePortfolio, insertFill, latestBars, latestCloses, loadFillAndBook, loadOrderAndBook, loadTradingState, MissingPortfolioError, withLockedPortfolio,
  withLockedPortfolioAndFill, withLockedPortfolioAndOrders,
} from '../../src/db/trading';
import { connectDatabase } from '../../src/db/client';
import { clearMarketData, testDatabase } from '../support/db';
import { waitFor } from '../support/wait';

const handle = testDatabase();

beforeEach(() => clearMarketData(handle));
afterAll(() => handle.close());

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const T0 = Date.UTC(2026, 0, 1);

/** `count` bars of `minutes` from `from`, each closing at its index + 1000 × its length in hours (so every bar is told apart by its close). */
function bars(from: number, minutes: number, count: number) {
  return Array.from({ length: count }, (_, k) => {
    const close = 1000 * (minutes / 60) + k;
    return { timestamp: from + k * minutes * MINUTE, open: close, high: close + 1, low: close - 1, close, volume: 1 };
  });
}

describe('the newest closed bar of each asset, in one statement', () => {
  it('takes the bar that ended last over every stored length, the longer one on a tie, never one still open', async () => {
    // Bitcoin: two days of daily bars, a day and a half of hourly bars, the last 90 minutes of 1-minute bars.
    await upsertCandles(handle.db, 'bitcoin', 1440, 'simulated', bars(T0, 1440, 2));
    await upsertCandles(handle.db, 'bitcoin', 60, 'simulated', bars(T0, 60, 36));
    await upsertCandles(handle.db, 'bitcoin', 1, 'simulated', bars(T0 + 36 * 60 * MINUTE - 90 * MINUTE, 1, 90));
    // An asset with a name that needs quoting in an array literal, and one with only daily bars.
    await upsertCandles(handle.db, 'we"ird, {asset}', 60, 'simulated', bars(T0, 60, 3));
    await upsertCandles(handle.db, 'ethereum', 1440, 'simulated', bars(T0, 1440, 1));

    // At midnight after the first day: the daily bar and the 24th hourly bar both end then; the longer wins.
    const midnight = await latestBars(handle.db, ['bitcoin', 'ethereum', 'we"ird, {asset}', 'nothing'], T0 + DAY);
    expect(midnight.get('bitcoin')).toMatchObject({ intervalMinutes: 1440, timestamp: T0, close: 24_000 });
    expect(midnight.get('ethereum')).toMatchObject({ intervalMinutes: 1440, close: 24_000 });
    expect(midnight.get('we"ird, {asset}')).toMatchObject({ intervalMinutes: 60, timestamp: T0 + 2 * 60 * MINUTE, close: 1002 });
    expect(midnight.has('nothing')).toBe(false);
    expect([...midnight.keys()].sort()).toEqual(['bitcoin', 'ethereum', 'we"ird, {asset}']);

    // Half a minute into a minute bar: the minute bar before it, which closed after the last hourly bar.
    const inMinutes = T0 + 36 * 60 * MINUTE - 30 * MINUTE + 30_000;
    expect((await latestBars(handle.db, ['bitcoin'], inMinutes)).get('bitcoin')).toMatchObject({ intervalMinutes: 1, timestamp: inMinutes - 30_000 - MINUTE, close: 1000 / 60 + 59 });
    // Before the first bar closed: nothing.
    expect((await latestBars(handle.db, ['bitcoin'], T0 + 59 * MINUTE)).size).toBe(0);
    expect(await latestCloses(handle.db, ['bitcoin', 'bitcoin', 'ethereum'], T0 + 2 * DAY)).toEqual({ bitcoin: 24_001, ethereum: 24_000 });
    expect(await latestCloses(handle.db, [], T0 + 2 * DAY)).toEqual({});
  });
});

describe("a saga step's read: the book and the bars it needs, in one statement", () => {
  it('marks what is held, quotes the order and the fill from the newest bars, as the separate reads would', async () => {
    await upsertCandles(handle.db, 'bitcoin', 60, 'simulated', bars(T0, 60, 30));
    await upsertCandles(handle.db, 'ethereum', 1440, 'simulated', bars(T0, 1440, 2));
    await upsertCandles(handle.db, 'ethereum', 1, 'simulated', bars(T0 + DAY - 10 * MINUTE, 1, 20));
    const asOf = T0 + DAY + 5 * MINUTE + 30_000;
    await ensurePortfolio(handle.db, 'p', 1000, 0);
    // Bitcoin held, ethereum flat (not marked), solana never traded and without bars.
    await handle.db.insert(positions).values([
      { portfolioId: 'p', asset: 'bitcoin', quantity: 2, averagePrice: 900 },
      { portfolioId: 'p', asset: 'ethereum', quantity: 0, averagePrice: 0 },
    ]);
    await handle.db.insert(latestPrices).values({ asset: 'ethereum', price: 123.5, time: asOf - 1000, source: 'binance' });
    await handle.db.insert(orders).values([
      { id: 'o-eth', portfolioId: 'p', asset: 'ethereum', side: 'BUY', notional: 100, status: 'reserved' },
      { id: 'o-sol', portfolioId: 'p', asset: 'solana', side: 'BUY', notional: 100, status: 'reserved' },
    ]);
    await handle.db.insert(fills).values({
      id: 'f-eth', orderId: 'o-eth', portfolioId: 'p', asset: 'ethereum', side: 'BUY', quantity: 1, price: 101, referencePrice: 100, slippage: 1, fee: 0.1, timestamp: asOf,
    });
    const separately = await latestBars(handle.db, ['bitcoin', 'ethereum'], asOf);
    // The minute bar that closed 5 minutes after midnight, past both the daily bar and the hourly ones.
    expect(separately.get('ethereum')).toMatchObject({ intervalMinutes: 1, timestamp: T0 + DAY + 4 * MINUTE, close: 1000 / 60 + 14 });
    expect(separately.get('bitcoin')).toMatchObject({ intervalMinutes: 60, close: 1000 + 23 });

    // The market conditions' candles: hourly bars of what is held and of the signal's asset, over the lookback.
    const conditions = { lookbackDays: 1, barMinutes: 60 };
    const decision = await loadTradingState(handle.db, 'p', asOf, { ...conditions, asset: 'solana' });
    expect(decision.marks).toEqual({ bitcoin: 1023 });
    expect(decision.state.book.positions.bitcoin.quantity).toBe(2);
    // The 24 hourly bars that had closed (the lookback reaches back before the first), each ending an hour after it opened.
    expect(Object.keys(decision.prices)).toEqual(['bitcoin']);
    expect(decision.prices.bitcoin.close).toEqual(Array.from({ length: 24 }, (_, k) => 1000 + k));
    expect(decision.prices.bitcoin.time).toEqual(Array.from({ length: 24 }, (_, k) => T0 + (k + 1) * 60 * MINUTE));
    const readAlone = async (assets: string[], from: number) =>
      priceBarsOf(await closedCandleColumnsFor(handle.db, assets, [60], from, asOf), [60]).get(60);
    expect(decision.prices).toEqual(await readAlone(['bitcoin', 'solana'], lookbackStart(asOf, 1)));
    // A signal on ethereum (flat here) reads its bars too; a shorter lookback fewer of them; none without a portfolio.
    const onEthereum = await loadTradingState(handle.db, 'p', asOf, { lookbackDays: 0, barMinutes: 60, asset: 'ethereum' });
    expect(onEthereum.prices).toEqual(await readAlone(['bitcoin', 'ethereum'], asOf - 2 * DAY));
    expect(onEthereum.prices.bitcoin.close).toHaveLength(24);
    expect(Object.keys(onEthereum.prices).sort()).toEqual(['bitcoin', 'ethereum']);
    // No lookback (two days back) from three days and half an hour in: the five bars that opened from 24.5 hours on.
    const shorter = await loadTradingState(handle.db, 'p', T0 + 3 * DAY + 30 * MINUTE, { lookbackDays: 0, barMinutes: 60 });
    expect(shorter.prices.bitcoin.close).toEqual([1025, 1026, 1027, 1028, 1029]);
    await expect(loadTradingState(handle.db, 'other', asOf, conditions)).rejects.toThrow(MissingPortfolioError);

    const order = await loadOrderAndBook(handle.db, 'p', 'o-eth', asOf);
    expect(order?.bar).toEqual(separately.get('ethereum'));
    expect(order?.streamed).toEqual({ price: 123.5, time: asOf - 1000 });
    expect(order?.fill?.id).toBe('f-eth');
    // The book as far as the order's asset goes (sizing its fill takes no other position): that position, and the cash.
    expect(order?.book.positions.map((p) => p.asset)).toEqual(['ethereum']);
    expect(order?.book.state.book.cash).toBe(1000);
    const unquoted = await loadOrderAndBook(handle.db, 'p', 'o-sol', asOf);
    expect(unquoted?.bar).toBeUndefined();
    expect(unquoted?.streamed).toBeUndefined();
    expect(await loadOrderAndBook(handle.db, 'other', 'o-eth', asOf)).toBeUndefined();

    const filled = await loadFillAndBook(handle.db, 'p', 'f-eth', asOf);
    expect(filled?.bar).toEqual(separately.get('ethereum'));
    expect(filled?.book.positions.map((p) => p.asset)).toEqual(['ethereum']);
    // Booking the fill marks the book with the fill's asset as well as what is held.
    const booking = await withLockedPortfolioAndFill(handle.db, 'p', 'f-eth', asOf, async (_tx, loaded) => loaded?.marks);
    expect(booking).toEqual({ bitcoin: 1023, ethereum: 1000 / 60 + 14 });
    const reserving = await withLockedPortfolioAndOrders(handle.db, 'p', { id: 'o-new', asOf, conditions: { ...conditions, asset: 'cardano' } },
      async (_tx, loaded) => loaded);
    expect(reserving.marks).toEqual({ bitcoin: 1023 });
    expect(reserving.reserved.map((o) => o.id).sort()).toEqual(['o-eth', 'o-sol']);
    // What is held, what is reserved (ethereum, solana) and the signal's asset.
    expect(Object.keys(reserving.prices).sort()).toEqual(['bitcoin', 'ethereum']);
    expect(reserving.prices).toEqual(await readAlone(['bitcoin', 'ethereum', 'solana', 'cardano'], lookbackStart(asOf, 1)));
  });
});

describe("the portfolio's lock", () => {
  // Another worker process's pool.
  const otherProcess = testDatabase();
  afterAll(() => otherProcess.close());
  const lockWaiters = async () => (await handle.db.execute<{ waiting: number }>(sql`
    SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].waiting;

  it('queues the sagas that change the book, not the writes that only reference the portfolio', async () => {
    await ensurePortfolio(handle.db, 'p', 1000, 0);
    await handle.db.insert(orders).values({ id: 'o-1', portfolioId: 'p', asset: 'bitcoin', side: 'BUY', notional: 100, status: 'reserved' });
    const events: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => { locked = resolve; });
    const first = withLockedPortfolio(handle.db, 'p', async (tx) => {
      events.push('first took the lock');
      await tx.update(portfolios).set({ cash: 900 }).where(eq(portfolios.id, 'p'));
      locked();
      await released;
      events.push('first done');
    });
    let second: Promise<void> | undefined;
    let third: Promise<void> | undefined;
    await lockTaken;
    // Released however the test ends: a failed expectation must not leave the first transaction open.
    try {
      // A fill (its foreign key checks the portfolio row) is written while the lock is held: with a
      // lock that blocked it, this statement would fail on its lock timeout instead.
      const fill = await handle.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL lock_timeout = '2s'`);
        return insertFill(tx, {
          id: 'o-1-fill', orderId: 'o-1', portfolioId: 'p', asset: 'bitcoin', side: 'BUY', quantity: 0.001, price: 100_000,
          referencePrice: 100_000, slippage: 0, fee: 0.1, timestamp: T0,
        });
      });
      expect(fill.id).toBe('o-1-fill');

      // Another process's change to the book waits on the row for the first to commit, and then sees its work.
      second = withLockedPortfolio(otherProcess.db, 'p', async (_tx, { portfolio }) => { events.push(`second took the lock, cash ${portfolio.cash}`); });
      await waitFor('the second locker to wait on the portfolio row', async () => (await lockWaiters()) === 1);
      // This process's next one queues in the process, behind the first: it does not wait in Postgres too.
      third = withLockedPortfolio(handle.db, 'p', async (_tx, { portfolio }) => { events.push(`third took the lock, cash ${portfolio.cash}`); });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await lockWaiters()).toBe(1);
      expect(events).toEqual(['first took the lock']);
    } finally {
      release();
    }
    await Promise.all([first, second, third]);
    expect(events).toEqual(['first took the lock', 'first done', 'second took the lock, cash 900', 'third took the lock, cash 900']);
  });

  it("queues a pool's transactions on a portfolio one after another, a failed one as well as the others", async () => {
    await ensurePortfolio(handle.db, 'p', 1000, 0);
    const events: string[] = [];
    const failing = withLockedPortfolio(handle.db, 'p', async (tx) => {
      await tx.update(portfolios).set({ cash: 1 }).where(eq(portfolios.id, 'p'));
      events.push('failing');
      throw new Error('the work failed');
    });
    const next = withLockedPortfolio(handle.db, 'p', async (_tx, { portfolio }) => { events.push(`next, cash ${portfolio.cash}`); });
    await expect(failing).rejects.toThrow('the work failed');
    await next;
    // The failed one rolled back; the next ran after it.
    expect(events).toEqual(['failing', 'next, cash 1000']);
  });
});

describe("a reservation's read of the portfolio's orders", () => {
  it('finds the reserved orders through their index, not by reading every order the portfolio ever placed', async () => {
    await ensurePortfolio(handle.db, 'p', 1000, 0);
    // A year of trading: thousands of orders long filled or cancelled, and the two reserved now.
    await handle.db.execute(sql`
      INSERT INTO orders (id, portfolio_id, asset, side, notional, status)
      SELECT 'old-' || k, 'p', 'bitcoin', 'BUY', 10, CASE WHEN k % 10 = 0 THEN 'cancelled' ELSE 'filled' END FROM generate_series(1, 5000) k`);
    await handle.db.insert(orders).values([
      { id: 'o-eth', portfolioId: 'p', asset: 'ethereum', side: 'BUY', notional: 100, status: 'reserved' },
      { id: 'o-sol', portfolioId: 'p', asset: 'solana', side: 'SELL', notional: 50, status: 'reserved' },
    ]);
    await handle.db.execute(sql`ANALYZE orders`);
    // The trading pool's planning (each statement's generic plan), on one connection that reports its plans.
    const explained = connectDatabase(inject('databaseUrl'), 1, { planOnce: true });
    const plans: string[] = [];
    try {
      const client = await explained.pool.connect();
      client.on('notice', (notice) => plans.push(notice.message ?? ''));
      await client.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_level = notice`);
      client.release();
      const order = { id: 'o-new', asOf: T0, conditions: { lookbackDays: 1, barMinutes: 60, asset: 'cardano' } };
      const reserving = await withLockedPortfolioAndOrders(explained.db, 'p', order, async (_tx, loaded) => loaded);
      expect(reserving.reserved.map((o) => `${o.id} ${o.side} ${o.notional}`).sort()).toEqual(['o-eth BUY 100', 'o-sol SELL 50']);
      expect(reserving.order).toBeUndefined();
    } finally {
      await explained.close();
    }
    const read = plans.find((plan) => plan.includes("o.status = 'reserved'"));
    expect(read).toContain('orders_reserved_idx');
    expect(read).not.toMatch(/Seq Scan on orders/);
  });
});
