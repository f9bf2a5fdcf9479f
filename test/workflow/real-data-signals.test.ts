import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { signalHistory } from '../../src/db/schema';
import { importCsv, importMacroCsv } from '../../src/services/csv-import';
import { simulatedSources } from '../../src/providers/simulated';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { generateSignalsWorkflow } from '../../src/workflows/signals';
import { marketDataWorkers, pipelineWorker, testSignalDeps, withWorkers, workflowTestContext } from '../support/temporal';
import { MARKET as market } from '../support/market-files';

const ctx = workflowTestContext();
const { handle } = ctx;

function readCsv(path: string): string[][] {
  return readFileSync(path, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
}

/** Pearson correlation, computed here without the project's indicator code. */
function pearson(x: number[], y: number[]) {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b) / n;
  const my = y.reduce((a, b) => a + b) / n;
  let sxy = 0; let sxx = 0; let syy = 0;
  for (let i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
  return sxy / Math.sqrt(sxx * syy);
}

describe('signals over 2018–2024 from the real daily BTC and VIX files', () => {
  it('imports both files and generates LONG and SHORT signals from several strategies', async () => {
    const btcFile = join(market, 'crypto_daily/yfinance/BTC-USD_1d.csv');
    const vixFile = join(market, 'macro/fred/VIXCLS.csv');
    await importCsv(handle.db, { asset: 'bitcoin', file: btcFile, volumeIn: 'usd' });
    const vix = await importMacroCsv(handle.db, { indicator: 'VIXCLS', file: vixFile });
    // 9,199 rows, 298 of them empty (holidays): those are forward-filled, the first row is a value.
    expect(vix).toMatchObject({ rowsRead: 9199, rowsWritten: 9199, forwardFilled: 298, first: '1990-01-02', last: '2025-04-04' });

    const deps = testSignalDeps(handle, { channels: [] });
    const workers = [await pipelineWorker(ctx.kit, deps), ...await marketDataWorkers(ctx.kit, { db: handle.db, ...simulatedSources(1) })];
    const summary = await withWorkers(workers, () => ctx.kit.client.workflow.execute(generateSignalsWorkflow, {
      workflowId: `test-real-signals-${randomUUID()}`, taskQueue: TASK_QUEUES.pipeline,
      args: [{ from: Date.UTC(2018, 0, 1), to: Date.UTC(2024, 11, 31), assets: ['bitcoin'], distribute: false }],
    }));
    expect(summary.stepsDone).toBe(2557);
    expect(summary.strategyFailures).toEqual([]);

    const counts = (await handle.db.execute<{ strategy_name: string; signal_type: string; n: number }>(
      sql`select strategy_name, signal_type, count(*)::int as n from ${signalHistory} where strategy_name <> 'aggregate' group by 1, 2`)).rows;
    const strategiesWith = (t: string) => new Set(counts.filter((c) => c.signal_type === t).map((c) => c.strategy_name));
    expect(strategiesWith('LONG').size).toBeGreaterThanOrEqual(2);
    expect(strategiesWith('SHORT').size).toBeGreaterThanOrEqual(2);
    // The March 2020 crash: VIX above 25, BTC far below its 30-day high and oversold.
    const march2020 = await handle.db.select().from(signalHistory).where(and(
      eq(signalHistory.strategyName, 'mean_reversion'),
      sql`${signalHistory.timestamp} between ${Date.UTC(2020, 2, 9)} and ${Date.UTC(2020, 2, 20)}`,
    ));
    expect(march2020.length).toBeGreaterThan(0);

    // Re-compute the first VIX-correlation signal from the raw files.
    const [first] = await handle.db.select().from(signalHistory)
      .where(eq(signalHistory.strategyName, 'vix_correlation')).orderBy(asc(signalHistory.timestamp)).limit(1);
    const asOf = first.timestamp;
    const btcClose = new Map(readCsv(btcFile).map((r) => [r[0].slice(0, 10), Number(r[4])]));
    // VIX days known at asOf (a day's value is known the next midnight), with their BTC close that day.
    const pairs = readCsv(vixFile)
      .filter((r) => r[1] !== '' && Date.parse(`${r[0]}T00:00:00Z`) + 86_400_000 <= asOf && btcClose.has(r[0]))
      .map((r) => [Number(r[1]), btcClose.get(r[0])!] as const)
      .slice(-30);
    const expected = pearson(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
    const analysis = first.analysis as { currentCorrelation: number; vix: number };
    expect(analysis.currentCorrelation).toBeCloseTo(expected, 10);
    expect(first.signalType).toBe(expected < -0.6 ? 'LONG' : 'SHORT');
    expect(analysis.vix).toBe(pairs[29][0]);
  });
});
