/**
 * Every query of paper trading: the portfolio row, positions, orders, fills, snapshots and risk
 * assessments. Activities load the trading core's state here, call the core, and persist what it
 * changed through these functions; no trading SQL lives anywhere else.
 */
import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { escapeLiteral } from 'pg';
import type { FillEffect, Side } from '../domain/portfolio';
import { lookbackStart } from '../domain/market-conditions';
import type { RiskAssessment } from '../domain/risk';
import type { MarketData } from '../domain/signals';
import type { ProtectiveOrder, TradingState } from '../domain/trading/core';
import { DAY_MS, isoDate } from '../domain/types';
import { beginWith, type Database, type Queryable, type Tx } from './client';
import { type Bound, bound, boundEach, preparedOn, preparedSql } from './prepared';
import { candleReadsOf, type ClosedCandleRow, closedCandlesOf, storedIntervalsOf } from './market-data';
import { priceBarsOf } from './market-series';
import { cryptoOhlcv, fills, latestPrices, orders, portfolios, portfolioSnapshots, positions, riskAssessments } from './schema';

type Db = Queryable;
export type PortfolioRow = typeof portfolios.$inferSelect;
export type PositionRow = typeof positions.$inferSelect;
export type FillRow = typeof fills.$inferSelect;
export type OrderRow = typeof orders.$inferSelect;

const dayNumber = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);

/** A portfolio that was never created (`ensurePortfolio` creates one on first use). */
export class MissingPortfolioError extends Error {
  constructor(id: string) {
    super(`portfolio "${id}" does not exist`);
    this.name = 'MissingPortfolioError';
  }
}

/** Creates the portfolio with its starting cash the first time it is used. */
export async function ensurePortfolio(db: Db, id: string, initialCapital: number, day: number): Promise<void> {
  await db.insert(portfolios).values({
    id, initialCapital, cash: initialCapital, peakEquity: initialCapital, pnlDay: isoDate(day * DAY_MS), dayStartEquity: initialCapital,
  }).onConflictDoNothing();
}

/** The portfolio row and its positions, in one statement (a consistent read without a transaction of its own). */
async function loadPortfolio(db: Db, id: string) {
  const rows = await db.select().from(portfolios).leftJoin(positions, eq(positions.portfolioId, portfolios.id)).where(eq(portfolios.id, id));
  if (rows.length === 0) throw new MissingPortfolioError(id);
  return { portfolio: rows[0].portfolios, positions: heldIn(rows.map((r) => r.positions)) };
}

/** Each pool's last transaction on each portfolio (settled or not): where the next one queues. */
const lockQueues = new WeakMap<Database, Map<string, Promise<unknown>>>();

/**
 * Runs `work` in a transaction that begins holding the portfolio's row lock: BEGIN and the lock in one
 * round trip (`beginWith`), so `work`'s first read (a statement of its own, with its own snapshot) sees
 * what the transaction it waited for committed. `FOR NO KEY UPDATE`, the lock Postgres's own UPDATE of
 * a row's other columns takes: lockers still queue behind each other, but a row that only references
 * the portfolio (a fill, an order) is written without waiting; its foreign-key check's `FOR KEY SHARE`
 * waited for `FOR UPDATE`. A missing portfolio locks nothing; the first read finds no row.
 *
 * A pool's transactions on one portfolio queue in the process first, one after another whether the
 * one before committed or failed: one at a time waits for the row lock (behind other processes'), the
 * rest hold no connection, and Postgres does not wake a queue of waiters at every commit (twenty
 * sagas at once, one worker: ~0.5 ms less of Postgres's CPU a saga). So `work` must not begin
 * another such transaction on the same portfolio and pool: it would wait for itself.
 */
function portfolioTransaction<T>(db: Database, portfolioId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  let byPortfolio = lockQueues.get(db);
  if (!byPortfolio) lockQueues.set(db, (byPortfolio = new Map()));
  const locked = () => beginWith(db, `SELECT 1 FROM portfolios WHERE id = ${escapeLiteral(portfolioId)} FOR NO KEY UPDATE`, work);
  const result = (byPortfolio.get(portfolioId) ?? Promise.resolve()).then(locked);
  byPortfolio.set(portfolioId, result.catch(() => undefined));
  return result;
}

/**
 * The portfolio's columns the trading core's state is made of, and the reserved cash a reservation
 * weighs: what the saga's reads of the book select. Every column of every position row, read at each
 * of a saga's five steps, was most of what node-postgres and drizzle parsed (timestamps among them).
 */
const bookPortfolio = {
  cash: portfolios.cash, reservedCash: portfolios.reservedCash, realizedPnl: portfolios.realizedPnl, feesPaid: portfolios.feesPaid,
  peakEquity: portfolios.peakEquity, pnlDay: portfolios.pnlDay, dayStartEquity: portfolios.dayStartEquity,
};

/** A position's columns the trading core's state is made of. */
const bookPosition = {
  asset: positions.asset, quantity: positions.quantity, averagePrice: positions.averagePrice, realizedPnl: positions.realizedPnl,
  stopLoss: positions.stopLoss, takeProfit: positions.takeProfit, cooldownUntil: positions.cooldownUntil,
};

export type BookPortfolio = Pick<PortfolioRow, keyof typeof bookPortfolio>;
export type BookPosition = Pick<PositionRow, keyof typeof bookPosition>;

/** The position rows of a read that left-joined them (null where there was none). */
const heldIn = <P extends BookPosition>(rows: Array<P | null>): P[] => rows.filter((p): p is P => p !== null);

/** The book `loadBook` returns, from rows already read. */
const bookOf = <F extends BookPortfolio, P extends BookPosition>(portfolio: F, held: P[]) =>
  ({ portfolio, positions: held, state: tradingStateOf(portfolio, held) });

/** A saga read's book: its portfolio and positions (`bookPortfolio`, `bookPosition`) and the core's state from them. */
type BookRead = ReturnType<typeof bookOf<BookPortfolio, BookPosition>>;

/** A fill's columns booking it takes: what was bought or sold, at what, when, and whether it is booked yet. */
const bookedFill = {
  id: fills.id, orderId: fills.orderId, asset: fills.asset, side: fills.side, quantity: fills.quantity, price: fills.price, fee: fills.fee,
  timestamp: fills.timestamp, applied: fills.applied, realizedPnl: fills.realizedPnl,
};

export type BookedFill = Pick<FillRow, keyof typeof bookedFill>;

/** The trading core's state from the stored rows: the same book, stops and cooldowns a backtest keeps in memory. */
export function tradingStateOf(portfolio: BookPortfolio, rows: BookPosition[]): TradingState {
  const state: TradingState = {
    book: {
      cash: portfolio.cash,
      positions: Object.fromEntries(rows.map((p) => [p.asset, { asset: p.asset, quantity: p.quantity, averagePrice: p.averagePrice, realizedPnl: p.realizedPnl }])),
      realizedPnl: portfolio.realizedPnl,
      feesPaid: portfolio.feesPaid,
    },
    protection: {},
    cooldownUntil: {},
    peakEquity: portfolio.peakEquity,
    day: dayNumber(portfolio.pnlDay),
    dayStartEquity: portfolio.dayStartEquity,
  };
  for (const p of rows) {
    if (p.quantity !== 0 && (p.stopLoss !== null || p.takeProfit !== null)) state.protection[p.asset] = { stopLoss: p.stopLoss, takeProfit: p.takeProfit };
    if (p.cooldownUntil !== null) state.cooldownUntil[p.asset] = p.cooldownUntil;
  }
  return state;
}

/** The core's state from the stored rows (no prices: what a change to the book needs). */
export async function loadBook(db: Db, portfolioId: string) {
  const { portfolio, positions: rows } = await loadPortfolio(db, portfolioId);
  return bookOf(portfolio, rows);
}

/**
 * What a read of the book also takes for the market conditions at its `asOf`: the candles of the
 * lookback as bars of `barMinutes` (`lookbackStart`), of the assets it holds and of `asset` (a
 * signal's). A statement fewer for each saga step that weighs the market.
 */
export interface ConditionsRead {
  lookbackDays: number;
  barMinutes: number;
  asset?: string;
}

/** The values `conditionsCandlesOf` takes. */
const conditionsValues = (asOf: number, read: ConditionsRead) =>
  ({ conditionsFrom: lookbackStart(asOf, read.lookbackDays), conditionsBars: [read.barMinutes], conditionsAsset: read.asset ?? null });

/**
 * The candles of `assets` (a query of one text column) a `ConditionsRead` asks for, on the first of a
 * read's rows only (one per position: the value is made once, and sent once).
 */
const conditionsCandlesOf = (assets: SQL) => sql<ClosedCandleRow[] | null>`
  CASE WHEN row_number() OVER () = 1 THEN ${closedCandlesOf(assets, bound('conditionsBars'), bound('conditionsFrom'), bound('asOf'))} END`;

/** The prices (asset → series) in a read's `conditionsCandlesOf`. */
const conditionsPrices = (rows: Array<{ candles: ClosedCandleRow[] | null }>, read: ConditionsRead): MarketData['prices'] =>
  priceBarsOf(candleReadsOf(rows.find((r) => r.candles !== null)?.candles ?? []), [read.barMinutes]).get(read.barMinutes)!;

/** The signal's asset, as a query for `heldAssets` (none when the read names none). */
const conditionsAsset = sql`SELECT ${bound('conditionsAsset')}::text`;

/**
 * The core's state with the marks of the open positions at `asOf` and the prices the market conditions
 * are made of (what a decision needs), in one statement.
 */
export async function loadTradingState(db: Db, portfolioId: string, asOf: number, conditions: ConditionsRead) {
  const rows = await preparedOn(db, 'mts_trading_state', (name) => db
    .select({
      portfolio: bookPortfolio, position: bookPosition, marks: newestClosesOf(heldAssets(bound('portfolioId')), bound('asOf')),
      candles: conditionsCandlesOf(heldAssets(bound('portfolioId'), conditionsAsset)),
    })
    .from(portfolios).leftJoin(positions, eq(positions.portfolioId, portfolios.id)).where(eq(portfolios.id, bound('portfolioId')))
    .prepare(name)).execute({ portfolioId, asOf, ...conditionsValues(asOf, conditions) });
  if (rows.length === 0) throw new MissingPortfolioError(portfolioId);
  return { ...bookOf(rows[0].portfolio, heldIn(rows.map((r) => r.position))), marks: rows[0].marks, prices: conditionsPrices(rows, conditions) };
}

/**
 * Runs `work` in one transaction that holds the portfolio's row lock, with the core's state loaded
 * under it: every change to the book goes through here, so concurrent sagas serialise.
 */
export function withLockedPortfolio<T>(db: Database, portfolioId: string, work: (tx: Tx, loaded: Awaited<ReturnType<typeof loadBook>>) => Promise<T>): Promise<T> {
  return portfolioTransaction(db, portfolioId, async (tx) => work(tx, await loadBook(tx, portfolioId)));
}

/**
 * `withLockedPortfolio` for booking a fill: after the lock, in one statement, the positions, the fill
 * (so `applied` is current) and the marks at `asOf` of the assets held and the fill's (what the book
 * is marked at once the fill is booked); `work` gets no book when the portfolio has no such fill.
 */
export function withLockedPortfolioAndFill<T>(
  db: Database, portfolioId: string, fillId: string, asOf: number,
  work: (tx: Tx, loaded?: BookRead & { fill: BookedFill; marks: Record<string, number> }) => Promise<T>,
): Promise<T> {
  return portfolioTransaction(db, portfolioId, async (tx) => {
    const rows = await preparedOn(tx, 'mts_fill_to_book', (name) => tx.select({
      fill: bookedFill, portfolio: bookPortfolio, position: bookPosition,
      marks: newestClosesOf(heldAssets(bound('portfolioId'), assetOfFill(bound('fillId'))), bound('asOf')),
    }).from(fills)
      .innerJoin(portfolios, eq(portfolios.id, fills.portfolioId))
      .leftJoin(positions, eq(positions.portfolioId, fills.portfolioId))
      .where(and(eq(fills.id, bound('fillId')), eq(fills.portfolioId, bound('portfolioId'))))
      .prepare(name)).execute({ portfolioId, fillId, asOf });
    if (rows.length === 0) return work(tx);
    return work(tx, { ...bookOf(rows[0].portfolio, heldIn(rows.map((r) => r.position))), fill: rows[0].fill, marks: rows[0].marks });
  });
}

/** An order as a reservation weighs it: while reserved, its side and notional count as exposure. */
export type OrderSummary = Pick<OrderRow, 'id' | 'asset' | 'side' | 'notional' | 'status'>;

/**
 * `withLockedPortfolio` for reserving `order`: after the lock, in one statement, the positions, their
 * marks at the order's `asOf`, the portfolio's reserved orders, the order whatever its status (none
 * when it does not exist), and the prices of the market conditions (`order.conditions`) of what is
 * held, what is reserved and the signal's asset.
 */
export function withLockedPortfolioAndOrders<T>(
  db: Database, portfolioId: string, order: { id: string; asOf: number; conditions: ConditionsRead },
  work: (tx: Tx, loaded: BookRead & {
    marks: Record<string, number>; order?: OrderSummary; reserved: OrderSummary[]; prices: MarketData['prices'];
  }) => Promise<T>,
): Promise<T> {
  const { id: orderId, asOf } = order;
  return portfolioTransaction(db, portfolioId, async (tx) => {
    const rows = await preparedOn(tx, 'mts_book_and_orders', (name) => tx.select({
      portfolio: bookPortfolio,
      position: bookPosition,
      orders: sql<OrderSummary[]>`(
        SELECT coalesce(json_agg(json_build_object('id', o.id, 'asset', o.asset, 'side', o.side, 'notional', o.notional, 'status', o.status)), '[]'::json)
        FROM ${orders} o WHERE o.portfolio_id = ${bound('portfolioId')} AND (o.status = 'reserved' OR o.id = ${bound('orderId')}))`,
      marks: newestClosesOf(heldAssets(bound('portfolioId')), bound('asOf')),
      candles: conditionsCandlesOf(heldAssets(bound('portfolioId'), sql`
        SELECT o.asset FROM ${orders} o WHERE o.portfolio_id = ${bound('portfolioId')} AND o.status = 'reserved' UNION ${conditionsAsset}`)),
    }).from(portfolios).leftJoin(positions, eq(positions.portfolioId, portfolios.id)).where(eq(portfolios.id, bound('portfolioId')))
      .prepare(name)).execute({ portfolioId, orderId, asOf, ...conditionsValues(asOf, order.conditions) });
    if (rows.length === 0) throw new MissingPortfolioError(portfolioId);
    const listed = rows[0].orders;
    return work(tx, {
      ...bookOf(rows[0].portfolio, heldIn(rows.map((r) => r.position))), marks: rows[0].marks,
      order: listed.find((o) => o.id === orderId), reserved: listed.filter((o) => o.status === 'reserved'),
      prices: conditionsPrices(rows, order.conditions),
    });
  });
}

/** A stored bar as marks and paper fills read it. */
export interface LatestBar {
  asset: string;
  intervalMinutes: number;
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/**
 * The newest bar of each asset that had closed by `asOf`, whatever its length: the next available
 * price for a paper fill and the marks of open positions. Time-aware, so a replay at a past clock
 * sees the market as it was. `assets` is a query of one text column (the assets, each once). Each
 * asset's stored intervals are found through the unique index (`storedIntervalsOf`) and each
 * interval's newest closed bar by an index seek, so the cost grows with neither the history nor the
 * number of assets' round trips; of bars ending together, the longer one. A fragment, so the reads
 * of a saga's steps take the bars they need in the statement that reads the book.
 */
const newestBarsOf = (assets: SQL, asOf: Bound<number>) => sql`
  SELECT DISTINCT ON (b.asset) b.asset, b.interval_minutes, b.timestamp::float8 AS timestamp, b.open, b.high, b.low, b.close
  FROM (
    SELECT n.* FROM (${storedIntervalsOf(assets)}) i CROSS JOIN LATERAL (
      SELECT c.asset, c.interval_minutes, c.timestamp, c.open, c.high, c.low, c.close FROM ${cryptoOhlcv} c
      WHERE c.asset = i.asset AND c.interval_minutes = i.interval_minutes AND c.timestamp <= ${asOf}::bigint - i.interval_minutes * 60000::bigint
      ORDER BY c.timestamp DESC LIMIT 1
    ) n
  ) b
  ORDER BY b.asset, b.timestamp + b.interval_minutes * 60000::bigint DESC, b.interval_minutes DESC`;

/** `newestBarsOf` as one JSON value: the closes by asset (`latestCloses`), an empty object when none. */
const newestClosesOf = (assets: SQL, asOf: Bound<number>) =>
  sql<Record<string, number>>`(SELECT coalesce(json_object_agg(n.asset, n.close), '{}'::json) FROM (${newestBarsOf(assets, asOf)}) n)`;

/** `newestBarsOf` one asset as one JSON value (`LatestBar`, null when it has none). */
const newestBarOf = (asset: SQL, asOf: Bound<number>) => sql<LatestBarRow | null>`(SELECT row_to_json(n) FROM (${newestBarsOf(asset, asOf)}) n)`;

/** A bar as `newestBarsOf` returns it. */
type LatestBarRow = Omit<LatestBar, 'intervalMinutes'> & { interval_minutes: number };

const latestBarOf = ({ interval_minutes: intervalMinutes, ...rest }: LatestBarRow): LatestBar => ({ ...rest, intervalMinutes });

/** `newestBarOf`'s value as a `LatestBar`, undefined when the asset has none. */
const barOrNone = (row: LatestBarRow | null) => (row ? latestBarOf(row) : undefined);

/** The asset of fill `fillId`, as a query for `newestBarsOf`. */
const assetOfFill = (fillId: Bound<string>) => sql`SELECT f.asset FROM ${fills} f WHERE f.id = ${fillId}`;

/** The assets a portfolio holds a position in, as a query for `newestBarsOf` (the open ones and, optionally, one more). */
const heldAssets = (portfolioId: Bound<string>, also?: SQL) => sql`
  SELECT p.asset FROM ${positions} p WHERE p.portfolio_id = ${portfolioId} AND p.quantity <> 0
  ${also ? sql`UNION ${also}` : sql``}`;

/** The newest closed bar of each asset at `asOf` (see `newestBarsOf`), in one statement for any number of assets. */
export async function latestBars(db: Db, assets: string[], asOf: number): Promise<Map<string, LatestBar>> {
  if (assets.length === 0) return new Map();
  const { rows } = await db.execute<LatestBarRow>(newestBarsOf(sql`SELECT DISTINCT unnest(${sql.param([...assets])}::text[])`, asOf));
  return new Map(rows.map((r) => [r.asset, latestBarOf(r)]));
}

/** Latest close of each asset at `asOf`, for marking positions (the close of `latestBars`). */
export async function latestCloses(db: Db, assets: string[], asOf: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [asset, bar] of await latestBars(db, assets, asOf)) out[asset] = bar.close;
  return out;
}

/** The decision stored for a signal: what a repeated `insertAssessment` returns. */
async function storedAssessment(db: Db, signalId: string, portfolioId: string): Promise<RiskAssessment> {
  const [row] = await db.select({ assessment: riskAssessments.assessment }).from(riskAssessments)
    .where(and(eq(riskAssessments.signalId, signalId), eq(riskAssessments.portfolioId, portfolioId)));
  return row.assessment;
}

/** The portfolio's stored assessments, newest first, optionally of one asset or outcome. */
export async function recentAssessments(db: Db, portfolioId: string, opts: { limit: number; asset?: string; approved?: boolean }) {
  const where = [eq(riskAssessments.portfolioId, portfolioId)];
  if (opts.asset !== undefined) where.push(eq(riskAssessments.asset, opts.asset));
  if (opts.approved !== undefined) where.push(eq(riskAssessments.approved, opts.approved));
  return db.select().from(riskAssessments).where(and(...where)).orderBy(desc(riskAssessments.id)).limit(opts.limit);
}

/**
 * Records a decision once per signal; a repeated call keeps the first. Returns the stored decision:
 * this one when it was recorded (not sent back: the whole assessment is a few kilobytes of JSON).
 */
export async function insertAssessment(db: Db, row: Omit<typeof riskAssessments.$inferInsert, 'id' | 'createdAt'>): Promise<RiskAssessment> {
  const { signalId, portfolioId, asset, approved, riskLevel, assessment } = row;
  const inserted = await preparedOn(db, 'mts_insert_assessment', (name) => db.insert(riskAssessments)
    .values(boundEach('signalId', 'portfolioId', 'asset', 'approved', 'riskLevel', 'assessment')).onConflictDoNothing()
    .returning({ id: riskAssessments.id }).prepare(name)).execute({ signalId, portfolioId, asset, approved, riskLevel, assessment });
  return inserted.length > 0 ? assessment : storedAssessment(db, signalId, portfolioId);
}

async function findOrder(db: Db, id: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id));
  return row;
}

/** A new order with its notional set aside from free cash, in one statement. */
export async function reserveOrderRow(tx: Tx, order: { id: string; portfolioId: string; signalId: string; asset: string; side: Side; notional: number }) {
  const { id, portfolioId, signalId, asset, side, notional } = order;
  await preparedSql(tx, 'mts_reserve_order', () => sql`
    WITH placed AS (
      INSERT INTO ${orders} (id, portfolio_id, signal_id, asset, side, notional, status)
      VALUES (${bound('id')}, ${bound('portfolioId')}, ${bound('signalId')}, ${bound('asset')}, ${bound('side')}, ${bound('notional')}::float8, 'reserved')
    )
    UPDATE ${portfolios} SET reserved_cash = reserved_cash + ${bound('notional')}::float8 WHERE id = ${bound('portfolioId')}`)
    .execute({ id, portfolioId, signalId, asset, side, notional });
}

/** Cancels a reserved order and releases its cash, under the portfolio lock; anything else is left as it is. */
export async function cancelReservedOrder(db: Database, portfolioId: string, orderId: string, reason: string, at: number): Promise<void> {
  await portfolioTransaction(db, portfolioId, async (tx) => {
    const order = await findOrder(tx, orderId);
    if (!order || order.status !== 'reserved') return;
    await tx.update(orders).set({ status: 'cancelled', reason, updatedAt: new Date(at) }).where(eq(orders.id, order.id));
    await tx.update(portfolios).set({ reservedCash: sql`greatest(${portfolios.reservedCash} - ${order.notional}, 0)` }).where(eq(portfolios.id, portfolioId));
  });
}

/**
 * An order of the portfolio, its fill (none until it is filled), the book as far as the order's asset
 * goes (the portfolio and that asset's position, what sizing its fill takes), and where the order would
 * meet the market at `asOf` (the asset's newest closed bar and its streamed price), in one read;
 * undefined when the portfolio has no such order.
 */
export async function loadOrderAndBook(db: Db, portfolioId: string, orderId: string, asOf: number) {
  const rows = await preparedOn(db, 'mts_order_and_book', (name) => db.select({
    order: { id: orders.id, asset: orders.asset, side: orders.side, notional: orders.notional, status: orders.status },
    fill: { id: fills.id, price: fills.price, quantity: fills.quantity, fee: fills.fee, slippage: fills.slippage },
    portfolio: bookPortfolio, position: bookPosition, streamed: { price: latestPrices.price, time: latestPrices.time },
    bar: newestBarOf(sql`SELECT o.asset FROM ${orders} o WHERE o.id = ${bound('orderId')}`, bound('asOf')),
  }).from(orders)
    .leftJoin(fills, eq(fills.orderId, orders.id))
    .innerJoin(portfolios, eq(portfolios.id, orders.portfolioId))
    .leftJoin(positions, and(eq(positions.portfolioId, portfolios.id), eq(positions.asset, orders.asset)))
    .leftJoin(latestPrices, eq(latestPrices.asset, orders.asset))
    .where(and(eq(orders.id, bound('orderId')), eq(orders.portfolioId, bound('portfolioId'))))
    .prepare(name)).execute({ portfolioId, orderId, asOf });
  const [first] = rows;
  if (!first) return undefined;
  return {
    order: first.order, fill: first.fill ?? undefined, book: bookOf(first.portfolio, heldIn([first.position])),
    bar: barOrNone(first.bar), streamed: first.streamed ?? undefined,
  };
}

/**
 * A fill of the portfolio, the book as far as the fill's asset goes (the portfolio and that asset's
 * position, from which the stop and target are placed) and the newest bar of the asset closed by
 * `asOf` (from which they are checked), in one read; undefined when the portfolio has no such fill.
 */
export async function loadFillAndBook(db: Db, portfolioId: string, fillId: string, asOf: number) {
  const rows = await preparedOn(db, 'mts_fill_and_book', (name) => db.select({
    fill: { asset: fills.asset, price: fills.price }, portfolio: bookPortfolio, position: bookPosition,
    bar: newestBarOf(assetOfFill(bound('fillId')), bound('asOf')),
  }).from(fills)
    .innerJoin(portfolios, eq(portfolios.id, fills.portfolioId))
    .leftJoin(positions, and(eq(positions.portfolioId, portfolios.id), eq(positions.asset, fills.asset)))
    .where(and(eq(fills.id, bound('fillId')), eq(fills.portfolioId, bound('portfolioId'))))
    .prepare(name)).execute({ portfolioId, fillId, asOf });
  const [first] = rows;
  if (!first) return undefined;
  return { fill: first.fill, book: bookOf(first.portfolio, heldIn([first.position])), bar: barOrNone(first.bar) };
}

/** The fill stored under an id: what a repeated `insertFill` returns. */
async function storedFill(db: Db, id: string): Promise<FillRow | undefined> {
  const [row] = await db.select().from(fills).where(eq(fills.id, id));
  return row;
}

/** A fill as it is first stored: not yet applied to the book, so no realised P&L. */
export type NewFill = Omit<typeof fills.$inferInsert, 'realizedPnl' | 'applied' | 'createdAt'>;

/** Stores a fill once (its id carries the order's); returns the stored row. */
export async function insertFill(db: Db, fill: NewFill): Promise<FillRow> {
  const [inserted] = await preparedOn(db, 'mts_insert_fill', (name) => db.insert(fills).values(boundEach(
    'id', 'orderId', 'portfolioId', 'asset', 'side', 'quantity', 'price', 'referencePrice', 'slippage', 'fee', 'timestamp', 'priceSource', 'priceTime',
  )).onConflictDoNothing().returning().prepare(name)).execute({ ...fill, priceSource: fill.priceSource ?? null, priceTime: fill.priceTime ?? null });
  return inserted ?? (await storedFill(db, fill.id))!;
}

/** An exit order (stop or target) with its fill, once per triggering bar. */
export async function insertExit(tx: Tx, order: { id: string; portfolioId: string; asset: string; side: Side; notional: number; reason: string },
  fill: Omit<NewFill, 'orderId' | 'portfolioId' | 'asset' | 'side'>): Promise<FillRow> {
  await tx.insert(orders).values({ ...order, status: 'submitted' }).onConflictDoNothing();
  return insertFill(tx, { ...fill, orderId: order.id, portfolioId: order.portfolioId, asset: order.asset, side: order.side });
}

/** The book marked at a moment: what a snapshot row records beside the portfolio's cash. */
export interface Mark {
  at: number;
  positionsValue: number;
  equity: number;
  reason: string;
}

/** A snapshot row for the equity curve, as a data-modifying CTE of the statement that updates the portfolio (values: `markValues`). */
const snapshotInsert = sql`
  INSERT INTO ${portfolioSnapshots} (portfolio_id, timestamp, cash, positions_value, equity, drawdown, reason)
  VALUES (${bound('portfolioId')}, ${bound('at')}, ${bound('cash')}, ${bound('positionsValue')}, ${bound('equity')}, ${bound('drawdown')}, ${bound('reason')})`;

/** The peak and day-start equity the core marked, as SET assignments of the portfolio row (values: `markValues`). */
const markAssignments = sql`peak_equity = ${bound('peakEquity')}, pnl_day = ${bound('pnlDay')}, day_start_equity = ${bound('dayStartEquity')},
  updated_at = ${bound('markedAt')}`;

/** The values of `snapshotInsert` and `markAssignments`. */
const markValues = (portfolioId: string, state: TradingState, mark: Mark) => ({
  portfolioId, at: mark.at, cash: state.book.cash, positionsValue: mark.positionsValue, equity: mark.equity,
  drawdown: state.peakEquity > 0 ? 1 - mark.equity / state.peakEquity : 0, reason: mark.reason,
  peakEquity: state.peakEquity, pnlDay: isoDate(state.day * DAY_MS), dayStartEquity: state.dayStartEquity, markedAt: new Date(mark.at),
});

/**
 * The statement `persistBooking` runs: the position as the core now holds it (its protection and
 * cooldown included; a flat or flipped one starts over, `restarted`; an exit records how far bars were
 * checked, `checked`), then every other change.
 */
const bookingStatement = (restarted: boolean, checked: boolean) => {
  const position = sql`
    INSERT INTO ${positions} (portfolio_id, asset, quantity, average_price, realized_pnl, stop_loss, take_profit, cooldown_until, protection_checked_until, opened_at)
    VALUES (${bound('portfolioId')}, ${bound('asset')}, ${bound('quantity')}, ${bound('averagePrice')}, ${bound('positionPnl')}, ${bound('stopLoss')}::float8,
      ${bound('takeProfit')}::float8, ${bound('cooldownUntil')}::bigint, ${bound('checkedUntil')}::bigint, ${bound('bookedAt')})
    ON CONFLICT (portfolio_id, asset) DO UPDATE SET quantity = excluded.quantity, average_price = excluded.average_price,
      realized_pnl = excluded.realized_pnl, stop_loss = excluded.stop_loss, take_profit = excluded.take_profit, cooldown_until = excluded.cooldown_until,
      ${checked ? sql`protection_checked_until = excluded.protection_checked_until,` : sql``}
      ${restarted ? sql`opened_at = excluded.opened_at,` : sql``} updated_at = ${bound('bookedAt')}`;
  // Every statement of one query sees the rows as they were before it: `prior` is the order before it is filled.
  return sql`
    WITH position AS (${position}),
      prior AS (SELECT status, notional FROM ${orders} WHERE id = ${bound('orderId')}),
      filled AS (UPDATE ${orders} SET status = 'filled', updated_at = ${bound('bookedAt')} WHERE id = ${bound('orderId')}),
      applied AS (UPDATE ${fills} SET applied = true, realized_pnl = ${bound('realized')} WHERE id = ${bound('fillId')}),
      snapshot AS (${snapshotInsert})
    UPDATE ${portfolios} SET cash = ${bound('cash')}, realized_pnl = ${bound('realizedPnl')}, fees_paid = ${bound('feesPaid')},
      reserved_cash = greatest(reserved_cash - coalesce((SELECT notional FROM prior WHERE status = 'reserved'), 0), 0),
      ${markAssignments}
    WHERE id = ${bound('portfolioId')}`;
};

/**
 * Persists what the core did with a fill, marked, in one statement: the position (its protection and
 * cooldown as the core now holds them), the portfolio's cash, totals, peak and day start, the
 * reservation released, the fill applied, its order filled and a snapshot for the equity curve.
 */
export async function persistBooking(tx: Tx, input: {
  portfolioId: string; fill: BookedFill; effect: FillEffect; state: TradingState; mark: Mark; checkedUntil?: number;
}): Promise<void> {
  const { portfolioId, fill, effect, state, mark } = input;
  const levels: ProtectiveOrder | undefined = state.protection[fill.asset];
  const restarted = Math.sign(effect.after.quantity) !== Math.sign(effect.before.quantity);
  const checked = input.checkedUntil !== undefined;
  await preparedSql(tx, `mts_book_fill_${Number(restarted)}${Number(checked)}`, () => bookingStatement(restarted, checked)).execute({
    ...markValues(portfolioId, state, mark),
    asset: fill.asset, quantity: effect.after.quantity, averagePrice: effect.after.averagePrice, positionPnl: effect.after.realizedPnl,
    stopLoss: levels?.stopLoss ?? null, takeProfit: levels?.takeProfit ?? null, cooldownUntil: state.cooldownUntil[fill.asset] ?? null,
    checkedUntil: input.checkedUntil ?? null, bookedAt: new Date(mark.at), orderId: fill.orderId, fillId: fill.id, realized: effect.realized,
    realizedPnl: state.book.realizedPnl, feesPaid: state.book.feesPaid,
  });
}

/**
 * The stop and target of a position as of `at` (ms: when they were placed or moved, its `updated_at`)
 * and, after a check of bars, how far bars have been checked against them.
 */
export async function saveProtection(db: Db, input: {
  portfolioId: string; asset: string; levels: ProtectiveOrder; at: number; checkedUntil?: number;
}): Promise<void> {
  const { portfolioId, asset, levels, at, checkedUntil } = input;
  const checked = checkedUntil !== undefined;
  await preparedSql(db, `mts_save_protection_${Number(checked)}`, () => sql`
    UPDATE ${positions} SET stop_loss = ${bound('stopLoss')}::float8, take_profit = ${bound('takeProfit')}::float8,
      updated_at = ${bound('updatedAt')} ${checked ? sql`, protection_checked_until = ${bound('checkedUntil')}::bigint` : sql``}
    WHERE portfolio_id = ${bound('portfolioId')} AND asset = ${bound('asset')}`)
    .execute({
      portfolioId, asset, stopLoss: levels.stopLoss, takeProfit: levels.takeProfit, updatedAt: new Date(at), ...(checked ? { checkedUntil } : {}),
    });
}

/** The peak and day-start equity the core marked, and a snapshot row for the equity curve, in one statement. */
export async function saveMark(tx: Tx, portfolioId: string, state: TradingState, mark: Mark): Promise<void> {
  await preparedSql(tx, 'mts_save_mark', () => sql`
    WITH snapshot AS (${snapshotInsert})
    UPDATE ${portfolios} SET ${markAssignments} WHERE id = ${bound('portfolioId')}`).execute(markValues(portfolioId, state, mark));
}

/** Read-side: the portfolio row, or undefined before its first use. */
export async function findPortfolio(db: Db, id: string): Promise<PortfolioRow | undefined> {
  const [row] = await db.select().from(portfolios).where(eq(portfolios.id, id));
  return row;
}

export async function openPositions(db: Db, portfolioId: string): Promise<PositionRow[]> {
  return (await db.select().from(positions).where(eq(positions.portfolioId, portfolioId))).filter((p) => p.quantity !== 0);
}

/** Fills with their orders, newest first. */
export async function fillsWithOrders(db: Db, portfolioId: string, limit: number) {
  return db.select({ fill: fills, order: orders }).from(fills).innerJoin(orders, eq(fills.orderId, orders.id))
    .where(eq(fills.portfolioId, portfolioId)).orderBy(desc(fills.timestamp), desc(fills.createdAt)).limit(limit);
}

/** The stored equity curve, oldest first. */
export async function snapshots(db: Db, portfolioId: string) {
  return db.select().from(portfolioSnapshots).where(eq(portfolioSnapshots.portfolioId, portfolioId))
    .orderBy(asc(portfolioSnapshots.timestamp), asc(portfolioSnapshots.id));
}

export interface SignalOutcomeRow {
  approved: boolean;
  rejection: string | null;
  orderStatus: OrderRow['status'] | null;
  orderReason: string | null;
}

/** What became of each signal in the portfolio: its risk decision and its order (filled, cancelled by compensation, reserved). */
export async function signalOutcomes(db: Db, portfolioId: string, signalIds: string[]): Promise<Map<string, SignalOutcomeRow>> {
  if (signalIds.length === 0) return new Map();
  const [decided, ordered] = await Promise.all([
    db.select({ signalId: riskAssessments.signalId, approved: riskAssessments.approved, assessment: riskAssessments.assessment }).from(riskAssessments)
      .where(and(eq(riskAssessments.portfolioId, portfolioId), inArray(riskAssessments.signalId, signalIds))),
    db.select({ signalId: orders.signalId, status: orders.status, reason: orders.reason }).from(orders)
      .where(and(eq(orders.portfolioId, portfolioId), inArray(orders.signalId, signalIds))),
  ]);
  const orderOf = new Map(ordered.map((o) => [o.signalId, o]));
  return new Map(decided.map((d) => [d.signalId, {
    approved: d.approved, rejection: d.assessment.rejectionReason ?? null, orderStatus: orderOf.get(d.signalId)?.status ?? null, orderReason: orderOf.get(d.signalId)?.reason ?? null,
  }]));
}
