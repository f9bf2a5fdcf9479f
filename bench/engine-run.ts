/**
 * One engine benchmark run in a process of its own (so its peak memory is its own), started by
 * bench/backtest.ts from the bundle it builds as `npm run build` builds the workers
 * (`node dist/bench/engine-run.mjs <scenario>`; `tsx bench/engine-run.ts <scenario>` works too).
 * Prints one JSON line with the figures, including the bare-loop floor measured over the same price
 * columns right after the run.
 */
import { readFileSync } from 'node:fs';
import { loadExecutionConfig } from '../src/config/execution';
import { loadRiskConfig } from '../src/config/risk';
import { loadSignalsConfig } from '../src/config/signals';
import { loadStrategyConfigs } from '../src/config/strategies';
import { advance, type BacktestConventions, type BacktestInput, drainClosedTrades, dropFills, eventQueue, finish, initialState } from '../src/domain/backtest/engine';
import { CHUNK } from '../src/domain/chunks';
import type { CurveValues } from '../src/domain/curve-values';
import type { MacroSeries } from '../src/domain/signals';
import { BAR_MINUTES, DAY_MS, HOUR_MS, isoDate } from '../src/domain/types';
import { STRATEGY_DEFINITIONS } from '../src/domain/strategies';
import { createStrategy } from '../src/domain/strategies/framework';
import { ENSEMBLE_COINS, HOURLY_FILES, MARKET, readHourly, tile, tiledSeries } from './tiled-history';

/** FRED's daily VIXCLS tiled the same way over the days of the run, each known at the midnight after its day. */
function tiledVix(start: number, days: number): MacroSeries {
  const real = readFileSync(`${MARKET}macro/fred/VIXCLS.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1])
    .filter((v) => v !== '' && v !== '.').map(Number);
  const series: MacroSeries = { time: [], date: [], value: [] };
  for (let d = 0; d < days; d++) {
    const day = start + d * DAY_MS;
    series.time.push(day + DAY_MS);
    series.date.push(isoDate(day));
    series.value.push(real[tile(d, real.length).i]);
  }
  return series;
}

/**
 * The floor of the cost, measured in the same run: a bare SMA crossover over the same Float64Array
 * closes (running sums, no objects), so each engine figure can be read as a share of what the machine
 * does right now rather than against a number from another day.
 */
function bareCrossoverLoop(closes: Float64Array[], fast: number, slow: number) {
  const began = process.hrtime.bigint();
  let crossings = 0;
  let bars = 0;
  for (const c of closes) {
    let sumFast = 0;
    let sumSlow = 0;
    let above = 0;
    for (let i = 0; i < c.length; i++) {
      sumFast += c[i] - (i >= fast ? c[i - fast] : 0);
      sumSlow += c[i] - (i >= slow ? c[i - slow] : 0);
      if (i + 1 < slow) continue;
      const now = sumFast / fast > sumSlow / slow ? 1 : -1;
      if (above !== 0 && now !== above) crossings += 1;
      above = now;
    }
    bars += c.length;
  }
  return { seconds: Number(process.hrtime.bigint() - began) / 1e9, bars, crossings };
}

/** The curve's full blocks of CHUNK points and how many of them it keeps as their one value. */
function curveBlocks(values: CurveValues) {
  const blocks = Math.floor(values.length / CHUNK);
  let flat = 0;
  for (let b = 0; b < blocks; b++) if (values.flatAt(b * CHUNK) !== undefined) flat += 1;
  return { blocks, flat };
}

/**
 * What writing memory the process has just been given costs here, against writing it again: a column
 * of `points` doubles (the size of the run's equity curve) filled twice. The first pass takes each
 * 4 KiB page's fault; a run's curve is such a column, written once.
 */
function freshColumnWrites(points: number) {
  const column = new Float64Array(points);
  const timed = (value: number) => {
    const began = process.hrtime.bigint();
    column.fill(value);
    return Number(process.hrtime.bigint() - began) / 1e6;
  };
  return { points, firstMs: timed(1), againMs: timed(2) };
}

export interface EngineRun {
  scenario: string;
  bars: number;
  assets: number;
  seconds: number;
  trades: number;
  fills: number;
  rejections: number;
  finalEquity: number;
  signals: number;
  peakRssMiB: number;
  /** The process's RSS when it started, before any data: Node itself. */
  startRssMiB: number;
  columnsMiB: number;
  /** When the backtest ran (µs on the monotonic clock V8's profiler stamps its samples with): a profile's samples outside it are the bench's own. */
  window: { fromMicros: number; toMicros: number };
  floor: { seconds: number; bars: number; crossings: number };
  /** Filling a fresh column the size of the equity curve, then filling it again (ms), after the run. */
  freshMemory: { points: number; firstMs: number; againMs: number };
  /** The curve's full blocks, and how many of them it keeps as their one value. */
  curveBlocks: { blocks: number; flat: number };
  strategies: string[];
}

/** The SMA runs decide at every hourly close (the heaviest load of signals) unless `shippedBar`: on the bar it is configured on. */
const SCENARIOS: Record<string, { sizing: BacktestConventions['sizing']; ensemble: boolean; shippedBar?: boolean }> = {
  'sma-risk': { sizing: { kind: 'risk' }, ensemble: false },
  'sma-fixed': { sizing: { kind: 'fixed_fraction', fraction: 0.2 }, ensemble: false },
  'sma-shipped': { sizing: { kind: 'risk' }, ensemble: false, shippedBar: true },
  ensemble: { sizing: { kind: 'risk' }, ensemble: true },
};

function main() {
  const startRssMiB = process.memoryUsage().rss / 2 ** 20;
  const name = process.argv[2];
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`scenario: one of ${Object.keys(SCENARIOS).join(', ')}`);
  const totalBars = Number(process.env.BENCH_BARS ?? (scenario.ensemble ? 5_000_000 : 10_000_000));
  const assets = scenario.ensemble ? ENSEMBLE_COINS : ['bitcoin', 'ethereum'];
  const perAsset = Math.ceil(totalBars / assets.length);
  const start = Date.UTC(2017, 7, 17);
  const sources = HOURLY_FILES.map(readHourly);
  // Each coin its own stretch of the real history (a different phase), so they do not move as one.
  const prices = Object.fromEntries(assets.map((a, k) => [a, tiledSeries(sources[k % sources.length], perAsset, start, k * 3001)]));
  const macro: Record<string, MacroSeries> = scenario.ensemble ? { VIXCLS: tiledVix(start, Math.ceil(perAsset / 24) + 1) } : {};
  const signals = loadSignalsConfig();
  const configs = loadStrategyConfigs().filter((c) => (scenario.ensemble ? c.enabled : c.name === 'sma_crossover'));
  const hourly = !scenario.ensemble && !scenario.shippedBar;
  const strategies = configs.map((c) => createStrategy(STRATEGY_DEFINITIONS[c.name], { ...c, assets, ...(hourly ? { bar: '1h' as const } : {}) }));
  const input: BacktestInput = {
    data: { prices, macro }, barMinutes: 60, assets, strategies,
    aggregation: signals.aggregation, risk: { ...loadRiskConfig(), ...(scenario.ensemble ? { trailingStopPct: 0.05 } : {}) },
    initialCapital: 100_000, historyDays: signals.historyDays, from: start, to: start + (perAsset + 1) * HOUR_MS,
    conventions: { fillAt: 'next_open', fillModel: loadExecutionConfig().fillModel, sizing: scenario.sizing, units: 'fractional', allowShort: true, protective: true, closeAtEnd: true },
  };
  const began = process.hrtime.bigint();
  const queue = eventQueue(input);
  const state = initialState(input);
  let lastReport = Date.now();
  // As the backtest activity does between reports: closed trades leave the state (it stores them),
  // fills are dropped (it keeps only trades); here they are counted.
  let fills = 0;
  let trades = 0;
  while (state.cursor < queue.length) {
    advance(input, queue, state, 1_000_000);
    fills += dropFills(state);
    trades += drainClosedTrades(state).length;
    if (Date.now() - lastReport > 5000) {
      lastReport = Date.now();
      console.error(`[bench] ${name}: ${state.cursor.toLocaleString('en')} / ${queue.length.toLocaleString('en')} bars`);
    }
  }
  const result = finish(input, state);
  fills += result.fills.length;
  trades += result.trades.length;
  const ended = process.hrtime.bigint();
  const seconds = Number(ended - began) / 1e9;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  // How often the strategies speak on this data: counted after the run, apart from its time and peak memory.
  let spoken = 0;
  for (const s of strategies) {
    for (const a of assets) {
      const stream = s.openStream!(macro);
      const every = s.config.bar ? BAR_MINUTES[s.config.bar] * 60_000 : 0;
      const { close, time } = prices[a];
      for (let i = 0; i < close.length; i++) if ((every <= HOUR_MS || time[i] % every === 0) && stream.push(close[i], time[i])) spoken += 1;
    }
  }

  const sma = loadStrategyConfigs().find((c) => c.name === 'sma_crossover')!.parameters as { fast: number; slow: number };
  const floor = bareCrossoverLoop(assets.map((a) => prices[a].close as Float64Array), sma.fast, sma.slow);
  const run: EngineRun = {
    scenario: name, bars: queue.length, assets: assets.length, seconds, trades, fills,
    rejections: result.rejections, finalEquity: result.metrics.finalEquity ?? 0, signals: spoken,
    peakRssMiB, startRssMiB, columnsMiB: (perAsset * assets.length * 6 * 8) / 2 ** 20, floor, freshMemory: freshColumnWrites(queue.steps),
    curveBlocks: curveBlocks(result.equity.value),
    window: { fromMicros: Number(began / 1000n), toMicros: Number(ended / 1000n) },
    strategies: configs.map((c) => `${c.name} ${JSON.stringify(c.parameters)} on ${c.bar ?? 'every'} bar`),
  };
  console.log(JSON.stringify(run));
}

main();
