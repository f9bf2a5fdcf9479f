/**
 * `npm run bench` (first part): bars per second through the backtest engine's full decision path —
 * the SMA crossover strategy, aggregation, regime, risk sizing, paper fills with slippage and fees,
 * stops and targets, equity at every bar — on ≥ 10 million hourly bars built from the real Binance
 * BTC and ETH hourly history, with the process's peak memory. Writes BENCHMARKS.md.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadExecutionConfig } from '../src/config/execution';
import { loadRiskConfig } from '../src/config/risk';
import { loadSignalsConfig } from '../src/config/signals';
import { loadStrategyConfigs } from '../src/config/strategies';
import { advance, type BacktestInput, eventQueue, finish, initialState } from '../src/domain/backtest/engine';
import type { PriceSeries } from '../src/domain/signals';
import { STRATEGY_DEFINITIONS } from '../src/domain/strategies';
import { createStrategy } from '../src/domain/strategies/framework';
import { machineDescription, writeBenchmarkSection } from './report';

const TOTAL_BARS = Number(process.env.BENCH_BARS ?? 10_000_000);
const HOUR_MS = 3_600_000;
const SOURCES = { bitcoin: 'Binance_BTCUSDT_1h.normalized.csv', ethereum: 'Binance_ETHUSDT_1h.normalized.csv' };
const DATA_DIR = fileURLToPath(new URL('../../shared/data/market/crypto_intraday/cryptodatadownload_binance_1h/', import.meta.url));

interface Rows { open: number[]; high: number[]; low: number[]; close: number[]; volume: number[] }

function readHourly(file: string): Rows {
  const rows: Rows = { open: [], high: [], low: [], close: [], volume: [] };
  for (const line of readFileSync(DATA_DIR + file, 'utf8').trim().split('\n').slice(1)) {
    const [, open, high, low, close, volume] = line.split(',').map(Number);
    rows.open.push(open); rows.high.push(high); rows.low.push(low); rows.close.push(close); rows.volume.push(volume);
  }
  return rows;
}

/**
 * `length` hourly bars from the real history played forwards, then backwards, and so on: every
 * bar is a real hour (a reversed bar swaps open and close), prices join up and stay in range.
 */
function tiledSeries(rows: Rows, length: number, start: number): PriceSeries {
  const s = { time: new Float64Array(length), open: new Float64Array(length), high: new Float64Array(length), low: new Float64Array(length), close: new Float64Array(length), volume: new Float64Array(length) };
  const n = rows.close.length;
  for (let k = 0; k < length; k++) {
    const pass = Math.floor(k / n);
    const forward = pass % 2 === 0;
    const i = forward ? k % n : n - 1 - (k % n);
    s.time[k] = start + (k + 1) * HOUR_MS;
    s.open[k] = forward ? rows.open[i] : rows.close[i];
    s.close[k] = forward ? rows.close[i] : rows.open[i];
    s.high[k] = rows.high[i];
    s.low[k] = rows.low[i];
    s.volume[k] = rows.volume[i];
  }
  return s;
}

function main() {
  const assets = Object.keys(SOURCES) as Array<keyof typeof SOURCES>;
  const perAsset = Math.ceil(TOTAL_BARS / assets.length);
  const start = Date.UTC(2017, 7, 17);
  const prices = Object.fromEntries(assets.map((a) => [a, tiledSeries(readHourly(SOURCES[a]), perAsset, start)]));
  const signals = loadSignalsConfig();
  const base = loadStrategyConfigs().find((s) => s.name === 'sma_crossover');
  if (!base) throw new Error('config/strategies/sma_crossover.json is missing');
  const config = { ...base, assets, parameters: { ...base.parameters, ...JSON.parse(process.env.BENCH_PARAMS ?? "{}") } };
  const input: BacktestInput = {
    data: { prices, macro: {} }, assets, strategies: [createStrategy(STRATEGY_DEFINITIONS.sma_crossover, config)],
    aggregation: signals.aggregation, risk: loadRiskConfig(), initialCapital: 100_000, historyDays: signals.historyDays,
    from: start, to: start + (perAsset + 1) * HOUR_MS,
    conventions: { fillAt: 'next_open', fillModel: loadExecutionConfig().fillModel, sizing: { kind: 'risk' }, units: 'fractional', allowShort: true, protective: true, closeAtEnd: true },
  };

  const began = process.hrtime.bigint();
  const queue = eventQueue(input);
  const queued = process.hrtime.bigint();
  const state = initialState(input);
  let lastReport = Date.now();
  while (state.cursor < queue.length) {
    advance(input, queue, state, 1_000_000);
    if (Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      console.log(`[bench] ${state.cursor.toLocaleString('en')} / ${queue.length.toLocaleString('en')} bars`);
    }
  }
  const result = finish(input, state);
  const done = process.hrtime.bigint();

  const seconds = (to: bigint, from: bigint) => Number(to - from) / 1e9;
  const total = seconds(done, began);
  const replay = seconds(done, queued);
  const peakRss = process.resourceUsage().maxRSS / 1024;
  const m = result.metrics;
  const rate = (x: number) => `${(x / 1e6).toFixed(2)} M`;
  writeBenchmarkSection('Backtest engine throughput', [
    `Command: \`npm run bench\` (BENCH_BARS=${TOTAL_BARS}). Machine: ${machineDescription()}; one core (the engine is single-threaded).`,
    `Data: ${queue.length.toLocaleString('en')} hourly bars, ${perAsset.toLocaleString('en')} each of bitcoin and ethereum, built from the real Binance hourly history in \`../shared/data/market/crypto_intraday/cryptodatadownload_binance_1h/\` (33,413 bars each) played forwards and backwards in turn.`,
    `Decision path: sma_crossover (${JSON.stringify(config.parameters)}) → aggregation with regime → risk sizing (config/risk.json) → paper fills at the next open with slippage and fees (config/execution.json) → stops and targets → equity at every close.`,
    '',
    '| stage | seconds | bars per second |',
    '|---|---|---|',
    `| event queue (merge by close time) | ${seconds(queued, began).toFixed(2)} | ${rate(queue.length / seconds(queued, began))} |`,
    `| replay (decisions, orders, fills, equity) | ${replay.toFixed(2)} | ${rate(queue.length / replay)} |`,
    `| total | ${total.toFixed(2)} | ${rate(queue.length / total)} |`,
    '',
    `Peak memory (max RSS of the process, data included): ${peakRss.toFixed(0)} MiB. Trades: ${result.trades.length.toLocaleString('en')}, fills: ${result.fills.length.toLocaleString('en')}, risk rejections: ${result.rejections.toLocaleString('en')}, final equity ${m.finalEquity?.toFixed(2)}.`,
    `Target: 5 M bars/s on one core — ${queue.length / total >= 5e6 ? 'met' : `not met: ${(queue.length / total / 5e6 * 100).toFixed(0)}% of it`}.`,
  ]);
}

main();
