import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTradingActivities } from '../../src/activities/trading';
import { upsertCandles } from '../../src/db/market-data';
import { writeLatestPrices } from '../../src/db/market-prices';
import { NOTIFY_CHANNELS, notify } from '../../src/db/notify';
import { insertAlert, insertSignals } from '../../src/db/signals';
import type { SignalAlert } from '../../src/domain/alerts';
import { SimulatedMarket } from '../../src/domain/simulated-market';
import type { Candle } from '../../src/domain/types';
import { startTestApi } from '../support/api';
import { heldReturn } from '../support/market-files';
import { backtestDeps, backtestWorker, tradingDeps, withWorkers, workflowTestContext } from '../support/temporal';
import { recordCollectionOutcome } from '../../src/db/collection-runs';

/** Debian's Chromium (setup installs it); playwright-core downloads no browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ctx = workflowTestContext();
const keys = { read: 'ui-read-key-0001', admin: 'ui-admin-key-0001' };
const shots = join(tmpdir(), 'mts-dashboard-screenshots');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let api: Awaited<ReturnType<typeof startTestApi>>;
let browser: Browser;
let seeded: { backtest: string; sweep: string; failed: string; walkForward: string };
/** The first and last stored bar (open times) of each seeded asset. */
let storedSpan: Record<'bitcoin' | 'ethereum', { first: number; last: number }>;
/** The seeded candles (bitcoin hourly, ethereum daily) and the backtests' and sweep's range. */
let seededCandles: Record<'bitcoin' | 'ethereum', Candle[]>;
let backtestRange: { from: number; to: number };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: npm run setup installs Debian's chromium (or set CHROMIUM_PATH)`);
  mkdirSync(shots, { recursive: true });
  // A seeded run: 300 hourly bitcoin bars, signals on them, a streamed price, and a filled trade with its stop and target.
  const now = Math.floor(Date.now() / HOUR) * HOUR;
  const bars = new SimulatedMarket(3).candles('bitcoin', now - 300 * HOUR, now, HOUR);
  await upsertCandles(ctx.handle.db, 'bitcoin', 60, 'simulated', bars.map((b) => ({ ...b, volume: 1e5 })));
  await insertSignals(ctx.handle.db, [100, 200].map((i) => ({
    asset: 'bitcoin', signalType: i === 100 ? 'LONG' as const : 'SHORT' as const, timestamp: bars[i].timestamp + HOUR, price: bars[i].close, strategyName: 'sma_crossover',
    confidence: 0.8, positionSize: 0.02, stopLoss: bars[i].close * 0.98, takeProfit: bars[i].close * 1.04, analysis: { fast: 1, slow: 2 },
  })));
  await writeLatestPrices(ctx.handle.db, [{ asset: 'bitcoin', price: bars.at(-1)!.close, time: Date.now(), source: 'simulated' }]);
  const trading = createTradingActivities(tradingDeps(ctx.handle, { streamPriceMaxAgeMs: 60_000 }));
  // An aggregated signal, traded under its row id as the pipeline does: the Signals view shows it filled.
  const last = bars.at(-1)!;
  const [aggregate] = await insertSignals(ctx.handle.db, [{
    asset: 'bitcoin', signalType: 'LONG', timestamp: last.timestamp + HOUR, price: last.close, strategyName: 'aggregate', confidence: 0.9, positionSize: 0.02,
    stopLoss: last.close * 0.98, takeProfit: last.close * 1.04, analysis: { method: 'consensus' }, strategies: ['sma_crossover', 'mean_reversion'], method: 'consensus',
  }]);
  const signal = { signalId: String(aggregate.id), asset: 'bitcoin', signalType: 'LONG' as const, price: last.close, confidence: 0.9, timestamp: Date.now() };
  const assessment = await trading.assessSignalRisk(signal);
  expect(assessment.isApproved, assessment.rejectionReason ?? '').toBe(true);
  await trading.reserveOrder({ orderId: `ui-${signal.signalId}`, signal, notional: assessment.recommendedPositionSize });
  const fill = await trading.executeOrder({ orderId: `ui-${signal.signalId}` });
  await trading.applyFillToPortfolio({ fillId: fill.fillId });
  await trading.registerProtection({ fillId: fill.fillId });
  await trading.snapshotPortfolio();
  // A year of daily ethereum bars for a walk-forward analysis.
  const days = new SimulatedMarket(5).candles('ethereum', now - 400 * DAY, now, DAY);
  await upsertCandles(ctx.handle.db, 'ethereum', 1440, 'simulated', days.map((b) => ({ ...b, volume: 1e6 })));
  seededCandles = { bitcoin: bars, ethereum: days };
  storedSpan = {
    bitcoin: { first: bars[0].timestamp, last: bars.at(-1)!.timestamp },
    ethereum: { first: days[0].timestamp, last: days.at(-1)!.timestamp },
  };
  await recordCollectionOutcome(ctx.handle.db, { tier: 'hourly', asset: 'bitcoin', source: 'simulated', calls: 1, at: new Date(), rowsWritten: 300 });
  api = await startTestApi(ctx.kit.client, ctx.handle, `read:${keys.read},admin:${keys.admin}`);
  // Through the API the page uses, with a backtest worker: a finished backtest, a finished sweep, and a failed run.
  const post = (path: string, body: unknown) => fetch(`${api.base}/api/v1${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  }).then(async (r) => { expect(r.status, await r.clone().text()).toBe(202); return r.json() as Promise<{ id: string; workflowId: string }>; });
  backtestRange = { from: now - 200 * HOUR, to: now };
  const range = { assets: ['bitcoin'], ...backtestRange, conventions: { bar: '1h' } };
  await withWorkers([await backtestWorker(ctx.kit, backtestDeps(ctx.handle, ctx.kit.client))], async () => {
    const bt = await post('/backtests', { strategy: 'sma_crossover', params: { fast: 5, slow: 20 }, ...range });
    const sweep = await post('/backtests/sweeps', { strategy: 'sma_crossover', grid: { fast: [3, 5], slow: [15, 20] }, metric: 'sharpe', ...range });
    const failing = await post('/backtests', { strategy: 'sma_crossover', params: {}, ...range, assets: ['ripple'] });
    const walk = await post('/backtests/walk-forward', {
      strategy: 'sma_crossover', grid: { fast: [5, 10], slow: [20, 30] }, metric: 'sharpe', assets: ['ethereum'],
      from: now - 200 * DAY, to: now, folds: 2, inSampleDays: 60, conventions: { bar: '1d' },
    });
    await ctx.kit.client.workflow.getHandle(walk.workflowId).result();
    await ctx.kit.client.workflow.getHandle(bt.workflowId).result();
    await ctx.kit.client.workflow.getHandle(sweep.workflowId).result();
    await expect(ctx.kit.client.workflow.getHandle(failing.workflowId).result()).rejects.toThrow();
    seeded = { backtest: bt.id, sweep: sweep.id, failed: failing.workflowId, walkForward: walk.id };
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

async function signIn(key: string, width = 1366): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(`${api.base}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Views' }).waitFor();
  return page;
}

/** Enters `id` in one of the Backtests view's lookups (the results, a sweep, a walk-forward) and shows it. */
async function showIn(page: Page, lookup: 'backtest' | 'sweep' | 'walkForward', id: string) {
  const input = { backtest: page.getByLabel('Backtest id'), sweep: page.locator('input[name=sweep]'), walkForward: page.locator('input[name=walk]') }[lookup];
  await input.fill(id);
  await page.getByRole('button', { name: 'Show' }).nth({ backtest: 0, sweep: 1, walkForward: 2 }[lookup]).click();
}

/** A GET of the API with the admin key, its JSON body. */
const readApi = <T>(path: string) => fetch(`${api.base}/api/v1${path}`, { headers: { authorization: `Bearer ${keys.admin}` } }).then((r) => r.json() as Promise<T>);

// What runs in the page, as source text: the browser has the DOM this Node program's types do not.
const COUNT_DRAWN_PIXELS = `async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const c = new OffscreenCanvas(img.width, img.height).getContext('2d');
  c.drawImage(img, 0, 0);
  const { data } = c.getImageData(0, 0, img.width, img.height);
  const [r, g, b] = [data[0], data[1], data[2]];
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) > 30) n++;
  return n;
}`;
const CHARTS_DRAWN = `(() => {
  const canvases = [...document.querySelectorAll('.chart canvas')].filter((c) => c.width > 0 && c.height > 0);
  const painted = (c) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
    return false;
  };
  return canvases.length > 0 && canvases.some(painted);
})()`;

/** Pixels of a screenshot that are not the page background (its top-left colour): a blank page has none. */
async function drawnPixels(page: Page, file: string): Promise<number> {
  const png = await page.screenshot({ path: join(shots, file), fullPage: true });
  return page.evaluate(`(${COUNT_DRAWN_PIXELS})(${JSON.stringify(png.toString('base64'))})`);
}

/** Whether the chart canvases on the page have painted something. */
const chartsDrawn = (page: Page) => page.evaluate<boolean>(CHARTS_DRAWN);

describe('the dashboard in Chromium', () => {
  it('signs in, shows the seeded portfolio with drawn charts, and a live alert within 2 s', async () => {
    const page = await signIn(keys.admin);
    await page.getByRole('region', { name: 'Open positions (marked to the latest price)' }).getByRole('cell', { name: 'bitcoin' }).waitFor();
    await page.waitForFunction("document.querySelectorAll('.chart canvas').length >= 2");
    await expect.poll(() => chartsDrawn(page), { timeout: 10_000 }).toBe(true);
    expect(await drawnPixels(page, 'overview.png')).toBeGreaterThan(10_000);
    // An alert announced now shows on the Overview within 2 s.
    await page.waitForTimeout(500);
    const sent = Date.now();
    await notify(ctx.handle.pool, NOTIFY_CHANNELS.alerts, { id: 987_654, alert_type: 'signal', alert: { asset: 'ethereum', signal_type: 'SHORT', confidence: 0.77, timestamp: sent } });
    await page.locator('#live-alerts').getByText('ethereum SHORT').waitFor({ timeout: 2000 });
    expect(Date.now() - sent).toBeLessThan(2000);
    await page.close();
  });

  it('catches up on an alert announced while the API was not listening, once its stream reconnects', async () => {
    const page = await signIn(keys.admin);
    const stream = (r: Request) => r.url().includes('/api/v1/alerts/stream');
    await page.locator('#live-alerts').waitFor();
    await page.waitForTimeout(500); // the alert stream connected
    /** What the pipeline does: store the alert, then announce it. */
    const raise = async (asset: string) => {
      const body: SignalAlert = {
        timestamp: Date.now(), asset, signal_type: 'LONG', confidence: 0.64, strategies: ['sma_crossover'], price: 0.5, position_size: 0.01,
        risk_metrics: { stop_loss: 0.49, take_profit: 0.52 },
      };
      const id = await insertAlert(ctx.handle.db, { type: 'signal', body });
      await notify(ctx.handle.pool, NOTIFY_CHANNELS.alerts, { id, alert_type: 'signal', alert: body });
      return id!;
    };
    const first = await raise('cardano');
    await page.locator('#live-alerts').getByText('cardano LONG').waitFor({ timeout: 2000 });
    // Postgres ends the API's listening connection (as a restart does): the API ends the page's stream.
    const ended = page.waitForEvent('requestfinished', stream);
    const { rows } = await ctx.handle.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN mts_alerts'");
    expect(rows).toHaveLength(1);
    await ended;
    // Announced before the API listens again: nobody hears it. The page reconnects with the last id it saw and is sent it.
    const reconnected = page.waitForRequest(stream);
    await raise('polkadot');
    expect((await reconnected).headers()['last-event-id']).toBe(String(first));
    await page.locator('#live-alerts').getByText('polkadot LONG').waitFor({ timeout: 5000 });
    await page.close();
  });

  it('puts a signal generated now on top of the Signals table, fetching only what is new', async () => {
    const page = await signIn(keys.admin);
    await page.goto(`${api.base}/#/signals`);
    await page.getByRole('cell', { name: 'sma_crossover' }).first().waitFor();
    const rowsBefore = await page.locator('#view-signals tbody tr').count();
    const asked: string[] = [];
    page.on('request', (r) => { if (r.url().includes('/api/v1/signals')) asked.push(new URL(r.url()).search); });
    await page.waitForTimeout(500); // the alert stream connected
    // What the pipeline does: store the signal, then announce its alert.
    const sent = Date.now();
    await insertSignals(ctx.handle.db, [{
      asset: 'solana', signalType: 'SHORT', timestamp: sent, price: 151.5, strategyName: 'volatility_spike',
      confidence: 0.71, positionSize: 0.01, stopLoss: 156, takeProfit: 145, analysis: { volatility: 0.09 },
    }]);
    await notify(ctx.handle.pool, NOTIFY_CHANNELS.alerts, { id: 987_655, alert_type: 'signal', alert: { asset: 'solana', signal_type: 'SHORT', confidence: 0.71, timestamp: sent } });
    const first = page.locator('#view-signals tbody tr').first();
    await first.getByRole('cell', { name: 'volatility_spike' }).waitFor({ timeout: 2000 });
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(await first.getByText('new', { exact: true }).count()).toBe(1);
    expect(await page.locator('#view-signals tbody tr').count()).toBe(rowsBefore + 1);
    // One request for the rows from the newest shown on, not the whole table again.
    expect(asked).toHaveLength(1);
    expect(new URLSearchParams(asked[0]).get('from')).toMatch(/^\d+$/);
    await page.close();
  });

  it('renders each view with data, at a desktop and a phone width', async () => {
    for (const width of [1366, 390]) {
      const page = await signIn(keys.admin, width);
      for (const view of ['market', 'signals', 'collection', 'runs', 'backtests']) {
        await page.getByRole('link', { name: { market: 'Market', signals: 'Signals and alerts', collection: 'Collection health', runs: 'Runs', backtests: 'Backtests' }[view] }).click();
        await page.locator(`#view-${view} section`).first().waitFor();
        if (view === 'market') await expect.poll(() => chartsDrawn(page), { timeout: 10_000 }).toBe(true);
        if (view === 'signals') {
          await page.getByRole('cell', { name: 'sma_crossover' }).first().waitFor();
          // The aggregated signal: the strategies behind it, and its saga's end.
          const row = page.getByRole('row').filter({ hasText: 'aggregate' });
          await row.getByText('sma_crossover, mean_reversion').waitFor();
          await row.getByText('filled').waitFor();
        }
        if (view === 'collection') await page.getByRole('cell', { name: 'hourly' }).first().waitFor();
        if (view === 'runs') await page.getByRole('cell', { name: seeded.failed }).waitFor();
        if (view === 'backtests') {
          await showIn(page, 'backtest', seeded.backtest);
          await page.getByRole('cell', { name: 'totalReturn' }).waitFor();
          await showIn(page, 'sweep', seeded.sweep);
          // Two swept parameters: a 2 × 2 heat map and four ranked rows.
          await page.getByRole('table', { name: /sharpe by sma_crossover.fast and sma_crossover.slow/ }).waitFor();
          expect(await page.getByRole('table', { name: /sharpe by/ }).locator('tbody tr').count()).toBe(2);
          await showIn(page, 'walkForward', seeded.walkForward);
          const folds = page.getByRole('region', { name: 'Walk-forward folds' });
          await folds.getByText('COMPLETED').waitFor();
          expect(await folds.locator('tbody tr').count()).toBe(2);
          await expect.poll(() => chartsDrawn(page), { timeout: 10_000 }).toBe(true);
        }
        expect(await drawnPixels(page, `${view}-${width}.png`), view).toBeGreaterThan(2000);
      }
      await page.close();
    }
  });

  it('sets each backtest, the sweep and every walk-forward fold beside buy and hold', async () => {
    const page = await signIn(keys.admin);
    await page.getByRole('link', { name: 'Backtests' }).click();
    // Worked out here from the seeded candles: bought at the first close at or after the start, held to the last.
    const percent = (x: number) => `${(x * 100).toFixed(2)} %`;
    const held = percent(heldReturn(seededCandles.bitcoin, HOUR, backtestRange.from, backtestRange.to));
    await showIn(page, 'backtest', seeded.backtest);
    await page.getByRole('row', { name: `buyAndHold ${held}` }).waitFor();
    await showIn(page, 'sweep', seeded.sweep);
    await page.getByText(`buy and hold over the same coins and range: ${held}`).waitFor();
    await showIn(page, 'walkForward', seeded.walkForward);
    const folds = page.getByRole('region', { name: 'Walk-forward folds' });
    await folds.getByText('COMPLETED').waitFor();
    const walk = await readApi<{ result: { folds: Array<{ outOfSample: { from: number; to: number } }> } }>(`/backtests/walk-forward/${seeded.walkForward}`);
    const cells = await folds.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.querySelectorAll('td')[6]?.textContent));
    expect(cells).toEqual(walk.result.folds.map((f) => percent(heldReturn(seededCandles.ethereum, DAY, f.outOfSample.from, f.outOfSample.to))));
    await page.close();
  });

  it('lists a backtest\'s trades with their direction, prices and return', async () => {
    const page = await signIn(keys.admin);
    await page.getByRole('link', { name: 'Backtests' }).click();
    await showIn(page, 'backtest', seeded.backtest);
    const result = await readApi<{ trades: Array<{ direction: string; entryPrice: number; exitPrice: number; quantity: number; pnl: number }> }>(`/backtests/${seeded.backtest}/result`);
    expect(result.trades.length).toBeGreaterThan(0);
    await page.getByText(`${result.trades.length} trades`).click();
    const rows = page.getByRole('region', { name: 'Results (two side by side)' }).locator('details[open] tbody tr');
    await rows.first().waitFor();
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(cells.map((c) => c[1])).toEqual(result.trades.map((t) => t.direction));
    // Each trade's return: its net P&L over what it put in, worked out here.
    expect(cells.map((c) => c[6])).toEqual(result.trades.map((t) => `${((t.pnl / (t.entryPrice * t.quantity)) * 100).toFixed(2)} %`));
    expect(cells.every((c) => / at \$[\d,.]+$/.test(c[3]) && / at \$[\d,.]+$/.test(c[4]))).toBe(true);
    await page.close();
  });

  it('colours the sweep\'s heat map by another metric when picked, the better end green: for drawdown the lower', async () => {
    const page = await signIn(keys.admin);
    await page.getByRole('link', { name: 'Backtests' }).click();
    const swept = await readApi<{ result: { ranked: Array<{ params: Record<string, number>; summary: { maxDrawdownPct: number } }> } }>(`/backtests/sweeps/${seeded.sweep}`);
    await showIn(page, 'sweep', seeded.sweep);
    await page.getByLabel('Heat map of').selectOption('maxDrawdownPct');
    const map = page.getByRole('table', { name: 'maxDrawdownPct by sma_crossover.fast and sma_crossover.slow' });
    // Rows fast 3, 5; columns slow 15, 20: each cell the combination's drawdown as a percentage.
    const cells = await map.locator('tbody td').evaluateAll((tds) => tds.map((td) => {
      const [red, green] = (td.ownerDocument.defaultView!.getComputedStyle(td).backgroundColor.match(/\d+/g) ?? []).map(Number);
      return { text: td.textContent, greenness: green - red };
    }));
    const drawdown = (fast: number, slow: number) => swept.result.ranked.find((e) => e.params['sma_crossover.fast'] === fast && e.params['sma_crossover.slow'] === slow)!.summary.maxDrawdownPct;
    const expected = [[3, 15], [3, 20], [5, 15], [5, 20]].map(([f, sl]) => drawdown(f, sl));
    expect(cells.map((c) => c.text)).toEqual(expected.map((d) => `${(d * 100).toFixed(2)} %`));
    // Lower drawdown, greener: the lowest green and greener than the highest, none less green than a higher one (close values share a hue).
    const [lowest, highest] = [expected.indexOf(Math.min(...expected)), expected.indexOf(Math.max(...expected))];
    expect(cells[lowest].greenness).toBeGreaterThan(0);
    expect(cells[lowest].greenness).toBeGreaterThan(cells[highest].greenness);
    for (const [i, a] of expected.entries()) {
      for (const [j, b] of expected.entries()) if (a < b) expect(cells[i].greenness, `${a} against ${b}`).toBeGreaterThanOrEqual(cells[j].greenness);
    }
    await page.close();
  });

  it('opens a sweep\'s combination and a walk-forward fold\'s out-of-sample backtest beside the others', async () => {
    const page = await signIn(keys.admin);
    await page.getByRole('link', { name: 'Backtests' }).click();
    const results = page.getByRole('region', { name: 'Results (two side by side)' });
    const swept = await readApi<{ result: { ranked: Array<{ backtestId: string }> } }>(`/backtests/sweeps/${seeded.sweep}`);
    await showIn(page, 'sweep', seeded.sweep);
    // The ranking's last row: the combination ranked worst, opened among the results.
    const worst = swept.result.ranked.at(-1)!.backtestId;
    await page.getByRole('region', { name: 'Sweep: ranking and heat map' }).getByRole('button', { name: `Open ${worst}` }).click();
    await results.getByRole('img', { name: `Equity of backtest ${worst}` }).waitFor();
    const walk = await readApi<{ result: { folds: Array<{ outOfSample: { backtestId: string } }> } }>(`/backtests/walk-forward/${seeded.walkForward}`);
    await showIn(page, 'walkForward', seeded.walkForward);
    const second = walk.result.folds[1].outOfSample.backtestId;
    await page.getByRole('region', { name: 'Walk-forward folds' }).getByRole('button', { name: `Open ${second}` }).click();
    // Two side by side: the fold's first, the sweep's combination beside it.
    await results.getByRole('img', { name: `Equity of backtest ${second}` }).waitFor();
    expect(await results.getByRole('img', { name: /^Equity of backtest / }).evaluateAll((charts) => charts.map((c) => c.getAttribute('aria-label'))))
      .toEqual([`Equity of backtest ${second}`, `Equity of backtest ${worst}`]);
    await page.close();
  });

  it('builds the candles and proposes the backtest range from what is stored; a failed start shows its reason, no result', async () => {
    const page = await signIn(keys.admin);
    // Only hourly bitcoin bars are stored: its daily candles are built from them.
    await page.getByRole('link', { name: 'Market' }).click();
    await page.getByLabel('Bar').selectOption('1d');
    await page.getByText('1d bars built from 300 stored 1h bars').waitFor();
    await expect.poll(() => chartsDrawn(page), { timeout: 10_000 }).toBe(true);
    // Ethereum is collected by no tier here, only stored: it is offered too, with its daily candles.
    await page.getByLabel('Asset').selectOption('ethereum');
    const ethereum = page.getByRole('region', { name: 'ethereum candles' });
    await ethereum.locator('.chart canvas').first().waitFor();
    expect(await ethereum.getByText(/No 1d bars/).count()).toBe(0);
    // The form: both seeded coins, the last six months of the span they share (here: all of bitcoin's 300 hours).
    await page.getByRole('link', { name: 'Backtests' }).click();
    const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
    const last = Math.min(storedSpan.bitcoin.last, storedSpan.ethereum.last);
    const first = Math.max(storedSpan.bitcoin.first, storedSpan.ethereum.first, last - 182 * DAY);
    await expect.poll(() => page.getByLabel('From').inputValue()).toBe(isoDay(first));
    expect(await page.getByLabel('To').inputValue()).toBe(isoDay(last));
    expect(await page.getByLabel('Assets').inputValue()).toBe('bitcoin,ethereum');
    // A coin with no history: the run fails with the reason beside the form, and no result is asked for.
    await page.getByLabel('Assets').fill('ripple');
    await withWorkers([await backtestWorker(ctx.kit, backtestDeps(ctx.handle, ctx.kit.client))], async () => {
      await page.getByRole('button', { name: 'Start' }).click();
      await page.getByText(/FAILED.*ripple/).waitFor({ timeout: 30_000 });
    });
    const results = page.getByRole('region', { name: 'Results (two side by side)' });
    expect(await results.getByText('No backtest shown').count()).toBe(1);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  });

  it('lists the newest backtests (children only when asked) and opens them, sweeps and walk-forwards from the list', async () => {
    const list = async (query: string) => {
      const res = await fetch(`${api.base}/api/v1/backtests${query}`, { headers: { authorization: `Bearer ${keys.read}` } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { backtests: Array<{ id: string; totalReturn: number }> }).backtests.map((b) => b.id);
    };
    // The seeded runs: one backtest stored on its own; a sweep's four children and a walk-forward's (each fold's sweep and test).
    expect(await list('')).toEqual([seeded.backtest]);
    const all = await list('?children=true&limit=200');
    expect(all).toContain(seeded.backtest);
    expect([0, 1, 2, 3].every((k) => all.includes(`${seeded.sweep}-${k}`))).toBe(true);
    expect(all.some((id) => id.startsWith(`${seeded.walkForward}-oos`))).toBe(true);
    expect(all.filter((id) => id !== seeded.backtest).every((id) => id.startsWith(seeded.sweep) || id.startsWith(seeded.walkForward))).toBe(true);
    expect((await fetch(`${api.base}/api/v1/backtests?limit=0`, { headers: { authorization: `Bearer ${keys.read}` } })).status).toBe(400);

    const page = await signIn(keys.read);
    await page.getByRole('link', { name: 'Backtests' }).click();
    const recent = page.getByRole('region', { name: 'Recent' });
    await recent.getByRole('button', { name: `Open ${seeded.backtest}` }).click();
    await page.getByRole('region', { name: 'Results (two side by side)' }).getByRole('cell', { name: 'totalReturn' }).waitFor();
    await recent.getByRole('button', { name: `Open ${seeded.sweep}` }).click();
    await page.getByRole('table', { name: /sharpe by sma_crossover.fast and sma_crossover.slow/ }).waitFor();
    await recent.getByRole('button', { name: `Open ${seeded.walkForward}` }).click();
    await page.getByRole('region', { name: 'Walk-forward folds' }).getByText('COMPLETED').waitFor();
    // A walk-forward's own sweeps are not listed beside the sweeps started on their own.
    expect(await recent.getByRole('button', { name: /Open bt-wf\w+-is/ }).count()).toBe(0);
    await page.close();
  });

  it('says beside the backtest form that nothing is stored yet, when nothing is', async () => {
    const page = await signIn(keys.admin);
    await page.route('**/api/v1/market-data/coverage', (route) => route.fulfill({ json: { assets: [] } }));
    await page.getByRole('link', { name: 'Backtests' }).click();
    await page.getByRole('region', { name: 'Start a backtest' }).getByText(/No bars stored yet: a backtest replays stored history/).waitFor();
    await page.close();
  });

  it('shows progress while runs go: a backtest\'s share of bars, counts and equity beside the form, a sweep\'s combinations, a walk-forward\'s folds', async () => {
    const page = await signIn(keys.admin);
    // A run answered by the page's routes alone (nothing started on the server), 250 of its 1,000 bars replayed.
    const id = 'bt-00c0ffee';
    await page.route('**/api/v1/backtests', (route) => (route.request().method() === 'POST'
      ? route.fulfill({ status: 202, json: { id, workflowId: `backtest-${id}` } }) : route.continue()));
    await page.route(`**/api/v1/backtests/${id}`, (route) => route.fulfill({
      json: { id, status: 'RUNNING', failure: null, progress: { barsDone: 250, barsTotal: 1000, equity: 10_250, resumedFromCheckpoint: false }, summary: null },
    }));
    await page.getByRole('link', { name: 'Backtests' }).click();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('region', { name: 'Start a backtest' }).getByText(`${id}: RUNNING — 25 % (250 of 1,000 bars, equity $10,250.00)`).waitFor();
    // A sweep and a walk-forward on their way, and a walk-forward that failed.
    await page.route('**/api/v1/backtests/sweeps/bt-swfeed', (route) => route.fulfill({
      json: { id: 'bt-swfeed', status: 'RUNNING', progress: { done: 3, total: 24 }, failure: null, result: null },
    }));
    await page.route('**/api/v1/backtests/walk-forward/bt-wffeed', (route) => route.fulfill({
      json: { id: 'bt-wffeed', status: 'RUNNING', progress: { foldsDone: 1, folds: 3 }, failure: null, result: null },
    }));
    await page.route('**/api/v1/backtests/walk-forward/bt-wfdead', (route) => route.fulfill({
      json: { id: 'bt-wfdead', status: 'FAILED', progress: null, failure: 'no stored history of ripple', result: null },
    }));
    await showIn(page, 'sweep', 'bt-swfeed');
    await page.getByRole('region', { name: 'Sweep: ranking and heat map' }).getByText('bt-swfeed: RUNNING — 3 of 24 combinations').waitFor();
    const folds = page.getByRole('region', { name: 'Walk-forward folds' });
    await showIn(page, 'walkForward', 'bt-wffeed');
    await folds.getByText('bt-wffeed: RUNNING — 1 of 3 folds').waitFor();
    await showIn(page, 'walkForward', 'bt-wfdead');
    await folds.getByText('no stored history of ripple').waitFor();
    await page.close();
  });

  it('shows a running long workflow\'s progress in the Runs view when asked, and again when asked again', async () => {
    const page = await signIn(keys.read);
    // Two long runs on their way, answered by the page's routes (no such runs on the server).
    const running = (workflowId: string, type: string) => ({ workflowId, runId: 'r1', type, status: 'RUNNING', startTime: new Date().toISOString(), closeTime: null });
    await page.route('**/api/v1/runs?*', (route) => route.fulfill({
      json: {
        runs: [running('backfill-demo', 'backfillWorkflow'), running('signals-demo', 'generateSignalsWorkflow'), running('market-stream', 'marketStreamWorkflow')],
        temporalUiUrl: null, namespace: 'default',
      },
    }));
    let chunksDone = 21;
    await page.route('**/api/v1/runs/backfill-demo', (route) => route.fulfill({
      json: { workflowId: 'backfill-demo', status: 'RUNNING', failure: null, progress: { chunksDone, chunksTotal: 50, rowsWritten: 1234, assets: [] } },
    }));
    await page.route('**/api/v1/runs/signals-demo', (route) => route.fulfill({
      json: { workflowId: 'signals-demo', status: 'RUNNING', failure: null, progress: { stepsDone: 30, stepsTotal: 120, signals: 4, aggregated: 2, alerts: 2 } },
    }));
    await page.getByRole('link', { name: 'Runs' }).click();
    const row = (id: string) => page.getByRole('row').filter({ hasText: id });
    await row('backfill-demo').getByRole('button', { name: 'Progress of backfill-demo' }).click();
    await row('backfill-demo').getByText('42 % (21 of 50 chunks)').waitFor();
    await row('signals-demo').getByRole('button', { name: 'Progress of signals-demo' }).click();
    await row('signals-demo').getByText('25 % (30 of 120 decision times)').waitFor();
    chunksDone = 50;
    await row('backfill-demo').getByRole('button', { name: 'Progress of backfill-demo' }).click();
    await row('backfill-demo').getByText('100 % (50 of 50 chunks)').waitFor();
    // The market stream runs for good and counts nothing: no progress to ask for.
    expect(await row('market-stream').getByRole('button').count()).toBe(0);
    await page.close();
  });

  it('says Loading… while a table\'s data is on its way, not that there is none', async () => {
    const page = await signIn(keys.read);
    // The runs list held back until the page has been looked at.
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    await page.route('**/api/v1/runs?*', async (route) => { await held; await route.continue(); });
    await page.getByRole('link', { name: 'Runs' }).click();
    const panel = page.getByRole('region', { name: 'Workflow runs' });
    await panel.getByText('Loading…').waitFor();
    expect(await panel.getByText('No runs match').count()).toBe(0);
    release();
    await panel.getByRole('cell', { name: seeded.failed }).waitFor();
    await page.close();
  });

  it('turns a failed run into a running one with Retry, and shows a read key no mutating buttons', async () => {
    const workflowId = seeded.failed;
    const page = await signIn(keys.admin);
    await page.goto(`${api.base}/#/runs`);
    const row = page.getByRole('row').filter({ hasText: workflowId });
    await row.getByText('FAILED').waitFor();
    const failedRun = (await ctx.kit.client.workflow.getHandle(workflowId).describe()).runId;
    expect(await row.getByRole('link', { name: 'open' }).getAttribute('href'))
      .toBe(`http://temporal-ui.test:8233/namespaces/default/workflows/${workflowId}/${failedRun}/history`);
    // The failure message, on asking.
    await row.getByRole('button', { name: 'Why?' }).click();
    await row.getByText(/ripple/).waitFor();
    // No backtest worker runs now: the retried run stays running.
    await row.getByRole('button', { name: 'Retry' }).click();
    await row.getByText('RUNNING').waitFor({ timeout: 15_000 });
    const latest = ctx.kit.client.workflow.getHandle(workflowId);
    expect((await latest.describe()).status.name).toBe('RUNNING');
    await latest.terminate('test over');
    await page.close();

    const reader = await signIn(keys.read);
    for (const view of ['runs', 'collection', 'backtests']) {
      await reader.goto(`${api.base}/#/${view}`);
      await reader.locator(`#view-${view} section`).first().waitFor();
      await reader.waitForTimeout(300);
      for (const name of ['Retry', 'Cancel', 'Pause', 'Unpause', 'Run now', 'Start']) expect(await reader.getByRole('button', { name, exact: true }).count(), `${view}: ${name}`).toBe(0);
    }
    // The server refuses them anyway.
    const refused = await fetch(`${api.base}/api/v1/runs/${workflowId}/retry`, { method: 'POST', headers: { authorization: `Bearer ${keys.read}` } });
    expect(refused.status).toBe(403);
    await reader.close();
  });

  it('is usable from the keyboard, every control named', async () => {
    const page = await browser.newPage();
    await page.goto(`${api.base}/`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('api-key');
    await page.keyboard.type(keys.read);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Views' }).waitFor();
    for (let i = 0; i < 12 && (await page.evaluate('document.activeElement.textContent')) !== 'Market'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('#view-market section').first().waitFor();
    for (const view of ['overview', 'market', 'signals', 'collection', 'runs', 'backtests']) {
      await page.goto(`${api.base}/#/${view}`);
      await page.locator(`#view-${view} section`).first().waitFor();
      const unnamed = await page.evaluate(`[...document.querySelectorAll('input, select, button, a')]
        .filter((e) => !((e.labels && e.labels.length) || e.getAttribute('aria-label') || e.textContent.trim())).length`);
      expect(unnamed, view).toBe(0);
    }
    await page.close();
  });

  it('sends a refused key back to the key prompt, saying why', async () => {
    const page = await browser.newPage();
    await page.goto(`${api.base}/`);
    await page.getByLabel('API key').fill('not-a-key-000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText(/401/).waitFor();
    expect(await page.getByLabel('API key').isVisible()).toBe(true);
    // The key never reaches a URL.
    expect(page.url()).not.toContain('not-a-key');
    await page.close();
  });
});
