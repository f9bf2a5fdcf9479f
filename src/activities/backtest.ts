import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { SignalsConfig } from '../config/signals';
import { parseStrategyConfig } from '../config/strategies';
import {
  advance, type BacktestInput, checkpointOf, drainClosedTrades, dropFills, type EngineCheckpoint, type EngineState, type EventQueue, eventQueue, finish,
  initialState, latestEquity, restoreState,
} from '../domain/backtest/engine';
import type { MarketData } from '../domain/signals';
import type { RiskConfig } from '../domain/risk';
import { STRATEGY_DEFINITIONS } from '../domain/strategies';
import { createStrategy, type Strategy, type StrategyConfig } from '../domain/strategies/framework';
import type { TradeLog } from '../domain/backtest/logs';
import { BAR_MINUTES, type BarSize, DAY_MS, DEFAULT_BAR, isoDate } from '../domain/types';
import type { Database } from '../db/client';
import { scopedMarketDataBars } from '../db/market-series';
import {
  clearBacktest, dropAfterCheckpoint, dropPastSignals, insertTrades, saveResult, storeCurvePoints, storedCurve, storedPastSignals, storePastSignals,
} from '../db/backtests';
import { type BacktestProgress, type BacktestRequest, type BacktestSummary } from '../workflows/types';
import { replayPacing } from './replay-pacing';

export interface BacktestDeps {
  db: Database;
  risk: RiskConfig;
  signals: SignalsConfig;
  /** The strategy configs on disk: their risk settings and default parameters. */
  strategies: StrategyConfig[];
  reportProgress?: (workflowId: string, progress: BacktestProgress) => Promise<void>;
  /** The largest checkpoint (characters of JSON) a heartbeat carries; `CHECKPOINT_LIMIT` unless a test sets it. */
  checkpointLimit?: number;
  /**
   * Told once a run no longer needs the process's thread to itself: its replay ended or failed, or
   * it reported (a long run gives the thread up at every report). The worker's slots (`replaySlots`).
   */
  threadShared?: () => void;
}

/**
 * Heartbeat details past ~2 MB are refused (the server's blob limit, gRPC's 4 MiB message): the
 * heartbeat fails, and a replay longer than the heartbeat timeout is timed out and retried from the
 * start, again and again. The curve, the closed trades and the past signals are stored as the run
 * goes and left out of the checkpoint; one still over this size (a run of millions of trades keeps
 * each one's P&L for its statistics) is left out of the heartbeat, and a retry replays from the start.
 */
const CHECKPOINT_LIMIT = 1_000_000;

/** What a backtest heartbeats: its checkpoint (when it is small enough) and how much of it is stored. */
interface BacktestHeartbeat {
  state?: EngineCheckpoint;
  storedPoints: number;
  storedTrades: number;
}

export function createBacktestActivities(deps: BacktestDeps) {
  const marketDataOf = scopedMarketDataBars(deps.db);
  // A scope's children share one read of the bars, and with it the order they replay them in: the
  // event queue is built once per assets and range (~4 ms a sweep child of three coins' six years).
  const queues = new WeakMap<MarketData, Map<string, EventQueue>>();
  const eventQueueOf = (input: BacktestInput): EventQueue => {
    let byRange = queues.get(input.data);
    if (!byRange) queues.set(input.data, (byRange = new Map()));
    const key = JSON.stringify([input.assets, input.from, input.to]);
    let queue = byRange.get(key);
    if (!queue) byRange.set(key, (queue = eventQueue(input)));
    return queue;
  };

  /**
   * The strategies a request replays: the named ones on the requested coins, or for the live system
   * every enabled strategy on its configured coins among them; each with its parameters from disk
   * and the request's `strategy.parameter` overrides.
   */
  function strategiesFor(req: BacktestRequest): { strategies: Strategy[]; bar: BarSize } {
    const names = req.live ? deps.strategies.filter((s) => s.enabled).map((s) => s.name) : req.strategies;
    const bases = names.map((name) => {
      const base = deps.strategies.find((s) => s.name === name);
      if (!base || !Object.hasOwn(STRATEGY_DEFINITIONS, name)) throw ApplicationFailure.nonRetryable(`unknown strategy "${name}"`, 'UnknownStrategy');
      return base;
    });
    // The live system: each strategy on its own bar, replayed on the shortest of them unless a bar is asked for.
    // Named strategies decide on the replayed bar.
    const finest = bases.map((b) => b.bar ?? DEFAULT_BAR).reduce<BarSize>((a, b) => (BAR_MINUTES[b] < BAR_MINUTES[a] ? b : a), DEFAULT_BAR);
    const bar: BarSize = req.conventions.bar ?? (req.live ? finest : DEFAULT_BAR);
    const built: Strategy[] = [];
    for (const base of bases) {
      const { name } = base;
      const assets = req.live ? base.assets.filter((a) => req.assets.includes(a)) : req.assets;
      if (assets.length === 0) continue;
      const own = req.live ? base.bar ?? DEFAULT_BAR : bar;
      if (BAR_MINUTES[own] < BAR_MINUTES[bar]) {
        throw ApplicationFailure.nonRetryable(`${name} decides on ${own} bars: replay ${own} bars or shorter (conventions.bar)`, 'BarTooLong');
      }
      const overrides = Object.fromEntries(Object.entries(req.params)
        .filter(([k]) => k.startsWith(`${name}.`)).map(([k, v]) => [k.slice(name.length + 1), v]));
      try {
        const config = parseStrategyConfig({ name, enabled: true, assets, bar: own, parameters: { ...base.parameters, ...overrides } }, 'backtest', deps.risk);
        built.push(createStrategy(STRATEGY_DEFINITIONS[name], config));
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidParameters');
      }
    }
    if (built.length === 0) {
      throw ApplicationFailure.nonRetryable(`no enabled strategy trades ${req.assets.join(', ')}: see config/strategies/*.json`, 'NoStrategy');
    }
    return { strategies: built, bar };
  }

  /** `runBacktest`'s run, which calls `shareThread` as it reports and once its replay has ended. */
  async function replayAndStore(req: BacktestRequest, shareThread: () => void): Promise<BacktestSummary> {
    const ctx = Context.current();
    const { strategies, bar } = strategiesFor(req);
    const conventions = { ...req.conventions, bar };
    const historyFrom = req.from - deps.signals.historyDays * DAY_MS;
    // Strategies on a longer bar than the replayed one look at history of their own bar size.
    const longer = strategies.map((x) => BAR_MINUTES[x.config.bar ?? bar]).filter((m) => m > BAR_MINUTES[bar]);
    const byBar = await marketDataOf(req.dataScope, req.assets, historyFrom, req.to, [BAR_MINUTES[bar], ...longer]);
    const data = byBar.get(BAR_MINUTES[bar])!;
    const missing = req.assets.filter((a) => !data.prices[a] || data.prices[a].time.length === 0);
    if (missing.length) throw ApplicationFailure.nonRetryable(`no stored history for ${missing.join(', ')}: import or backfill it first`, 'NoHistory');
    const dataByBar = Object.fromEntries(longer.map((m) => [m, byBar.get(m)!]));
    const input: BacktestInput = {
      data, barMinutes: BAR_MINUTES[bar], dataByBar, assets: req.assets, strategies, aggregation: deps.signals.aggregation,
      risk: deps.risk, initialCapital: req.initialCapital, historyDays: deps.signals.historyDays, from: req.from, to: req.to, conventions,
    };
    const bars = eventQueueOf(input);
    const { db } = deps;
    const heartbeat = ctx.info.heartbeatDetails as BacktestHeartbeat | undefined;
    // A heartbeat without a state (its checkpoint was too large to carry), or with one from a version
    // that carried its past signals (no `pastFirst`): the replay starts again.
    const beat = heartbeat?.state?.pastFirst !== undefined ? (heartbeat as Required<BacktestHeartbeat>) : undefined;
    // Its past signals are in backtest_past_signals, unless the run ended since (its completion was
    // lost, its working state dropped): then too the replay starts again.
    const earlierPast = beat && await storedPastSignals(db, req.id, beat.state.pastFirst, beat.state.pastTotal - beat.state.past.length);
    const checkpoint = beat && earlierPast ? { ...beat, earlierPast } : undefined;
    let state: EngineState;
    if (checkpoint) {
      // The curve up to the checkpoint is in backtest_curve; what was stored after it is replayed again.
      const stored = await storedCurve(db, req.id, checkpoint.storedPoints);
      await dropAfterCheckpoint(db, req.id, { points: stored.time.length, tradeSeq: checkpoint.storedTrades, pastTotal: checkpoint.state.pastTotal });
      state = restoreState(checkpoint.state, { curve: { time: stored.time, value: stored.equity }, past: checkpoint.earlierPast });
    } else {
      // A fresh attempt of this id starts from nothing, whatever an earlier run left.
      await clearBacktest(db, req.id);
      state = initialState(input);
    }
    let storedPoints = state.equity.value.length;
    let storedTrades = checkpoint?.storedTrades ?? 0;
    let storedPast = state.pastTotal;
    /** Stores the curve points since the last call (replacing a point that `finish` revalued), so checkpoints stay small. */
    const storeCurve = async () => {
      const { time, value } = state.equity;
      const { length } = value;
      await storeCurvePoints(db, req.id, storedPoints, { time: time.subarray(storedPoints, length), equity: value.slice(storedPoints, length) });
      storedPoints = length;
    };
    /** Stores the trades closed since the last call (all of them at the end); fills are not kept. */
    const storeTrades = async (trades: TradeLog) => {
      dropFills(state);
      await insertTrades(db, req.id, storedTrades, trades);
      storedTrades += trades.length;
    };
    /** Stores the past signals made since the last call that still count towards track records. */
    const storePast = async () => {
      const first = state.pastTotal - state.past.length;
      const from = Math.max(storedPast, first);
      await storePastSignals(db, req.id, from, state.past.slice(from - first));
      storedPast = state.pastTotal;
    };
    const pacing = replayPacing({
      totalBars: bars.length, doneBars: state.cursor, chunkBars: req.chunkBars, reported: checkpoint !== undefined,
    });
    const report = async () => {
      shareThread();
      await storeCurve();
      await storeTrades(drainClosedTrades(state));
      await storePast();
      const progress: BacktestProgress = {
        barsDone: state.cursor, barsTotal: bars.length, equity: latestEquity(state) ?? req.initialCapital, resumedFromCheckpoint: checkpoint !== undefined,
      };
      const details: BacktestHeartbeat = { state: checkpointOf(state, { curveFrom: storedPoints, pastFrom: storedPast }), storedPoints, storedTrades };
      ctx.heartbeat(JSON.stringify(details).length <= (deps.checkpointLimit ?? CHECKPOINT_LIMIT) ? details : { storedPoints, storedTrades });
      const workflowId = ctx.info.workflowExecution?.workflowId;
      if (workflowId) await deps.reportProgress?.(workflowId, progress);
    };
    // A resumed run says so at once; a fresh one reports as `replayPacing` says.
    if (checkpoint) await report();
    while (state.cursor < bars.length) {
      const due = pacing.chunk(() => {
        state = advance(input, bars, state, pacing.sliceBars);
        return state.cursor;
      });
      if (!due) continue;
      await report();
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    }
    const result = finish(input, state);
    shareThread();
    // Closing out at the end revalues the last point.
    storedPoints = Math.max(0, storedPoints - 1);
    await storeCurve();
    // What closed at the end, then what was left open.
    await storeTrades(drainClosedTrades(state));
    await storeTrades(state.trades);
    const m = result.metrics;
    await saveResult(db, {
        backtestId: req.id, strategyName: req.live ? 'live' : req.strategies.join('+'),
        startDate: isoDate(req.from), endDate: isoDate(req.to),
        initialCapital: req.initialCapital, finalValue: m.finalEquity ?? req.initialCapital, totalReturn: m.totalReturn ?? 0,
        sharpeRatio: m.sharpe, maxDrawdown: m.maxDrawdownPct, tradeCount: m.tradeCount, assets: req.assets,
        parameters: Object.fromEntries(strategies.map((x) => [x.name, x.config.parameters])),
        conventions, metrics: m, buyAndHoldReturn: result.buyAndHoldReturn, exposureTime: result.exposureTime,
        ruleCounts: { rejected: result.rejectionsByRule, shrunk: result.shrunkByRule },
    });
    // Working state of a run that reported (a fresh attempt's first statement cleared an earlier one's).
    if (pacing.reported) await dropPastSignals(db, req.id);
    return {
      id: req.id, bars: result.bars, finalEquity: m.finalEquity ?? req.initialCapital, totalReturn: m.totalReturn,
      sharpe: m.sharpe, maxDrawdownPct: m.maxDrawdownPct, tradeCount: m.tradeCount, periodsPerYear: result.periodsPerYear,
      buyAndHoldReturn: result.buyAndHoldReturn, exposureTime: result.exposureTime, rejectionsByRule: result.rejectionsByRule,
      shrunkByRule: result.shrunkByRule,
    };
  }

  return {
    /**
     * Replays the request on stored history in chunks; after each chunk the engine state is the
     * heartbeat checkpoint, so a retry on another worker continues where this one stopped. Stores the
     * result (replacing any earlier one for the same id) and returns its summary.
     */
    async runBacktest(req: BacktestRequest): Promise<BacktestSummary> {
      let shared = false;
      const shareThread = () => {
        if (!shared) deps.threadShared?.();
        shared = true;
      };
      try {
        return await replayAndStore(req, shareThread);
      } finally {
        shareThread();
      }
    },

    /** What a cancelled or failed run stored (its curve, trades and past signals so far): it has no result to go with them. */
    async discardBacktest(id: string): Promise<void> {
      await clearBacktest(deps.db, id);
    },
  };
}

export type BacktestActivities = ReturnType<typeof createBacktestActivities>;
