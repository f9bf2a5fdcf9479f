import { useEffect, useState } from 'preact/hooks';
import { api, type Coverage } from '../api';
import { LineChart } from '../charts';
import { money, num, pct, Time } from '../format';
import { useApi } from '../hooks';
import { canOperate, type Me } from '../main';
// How sweep and walk-forward ids are formed (an import-free module).
import { startedAnalysisId } from '../../../src/temporal/analysis-ids';
// The workflows' own result types (types only, nothing of the server's code in the bundle): a field renamed there fails here.
import type { BacktestProgress, BacktestSummary, SweepEntry, SweepResult, WalkForwardResult } from '../../../src/workflows/types';
import { Empty, ErrorNote, Loading, Panel, Table } from './shared';

interface Status {
  id: string; status: string; failure: string | null;
  /** While it runs (the workflow's progress query): bars replayed of all, the equity so far. */
  progress?: BacktestProgress | null;
  summary?: BacktestSummary | null;
}
interface Result {
  id: string; strategy: string; assets: string[]; from: string; to: string; initialCapital: number; finalValue: number; conventions: Record<string, unknown>;
  metrics: Record<string, number | null>; buyAndHoldReturn: number | null; exposureTime: number;
  trades: Array<{
    asset: string; direction: string; entryTime: number; entryPrice: number; exitTime: number | null; exitPrice: number | null; quantity: number; pnl: number; returnPct: number;
  }>;
  equity: Array<{ time: number; equity: number }>;
  tradesPage: { returned: number; stored: number };
}
interface Sweep { status: string; failure?: string | null; progress?: { done: number; total: number } | null; result?: SweepResult | null }
interface WalkForward { status: string; failure?: string | null; progress?: { foldsDone: number; folds: number } | null; result?: WalkForwardResult | null }

type SweepMetric = SweepResult['metric'];

/** What the heat map can colour by, how each reads, and which way is better (drawdown: lower). */
const HEAT_METRICS: Record<SweepMetric, { label: string; format: (v: number | null) => string; lowerIsBetter?: boolean }> = {
  sharpe: { label: 'Sharpe', format: (v) => num(v, 2) },
  totalReturn: { label: 'Return', format: pct },
  maxDrawdownPct: { label: 'Max drawdown', format: pct, lowerIsBetter: true },
  finalEquity: { label: 'Final equity', format: money },
};

/**
 * Two swept parameters as a grid of one metric (the ranking's unless another is picked): rows one
 * parameter, columns the other, green the better end of the sweep's values, red the worse.
 */
function HeatMap({ ranked, ranking }: { ranked: SweepEntry[]; ranking: SweepMetric }) {
  const [metric, setMetric] = useState<SweepMetric>(ranking);
  const keys = Object.keys(ranked[0]?.params ?? {});
  if (keys.length < 2) return null;
  const [rowKey, colKey] = keys;
  const { format, lowerIsBetter } = HEAT_METRICS[metric];
  const rows = [...new Set(ranked.map((e) => e.params[rowKey]))].sort((a, b) => Number(a) - Number(b));
  const cols = [...new Set(ranked.map((e) => e.params[colKey]))].sort((a, b) => Number(a) - Number(b));
  const value = (r: unknown, c: unknown) => ranked.find((e) => e.params[rowKey] === r && e.params[colKey] === c)?.summary?.[metric] ?? null;
  const values = ranked.map((e) => e.summary?.[metric]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const goodness = (v: number) => { const x = hi === lo ? 1 : (v - lo) / (hi - lo); return lowerIsBetter && hi !== lo ? 1 - x : x; };
  const colour = (v: number | null) => (v === null ? 'transparent' : `hsl(${(120 * goodness(v)).toFixed(0)}, 55%, 30%)`);
  return (
    <>
      <div class="controls">
        <label>Heat map of<select value={metric} onChange={(e) => setMetric((e.target as HTMLSelectElement).value as SweepMetric)}>
          {Object.entries(HEAT_METRICS).map(([k, m]) => <option value={k}>{m.label}</option>)}
        </select></label>
      </div>
      <div class="table-wrap">
        <table aria-label={`${metric} by ${rowKey} and ${colKey}`}>
          <thead><tr><th scope="col">{rowKey} ↓ · {colKey} →</th>{cols.map((c) => <th scope="col">{String(c)}</th>)}</tr></thead>
          <tbody>{rows.map((r) => <tr><th scope="row">{String(r)}</th>{cols.map((c) => {
            const v = value(r, c);
            return <td style={{ background: colour(v) }}>{format(v)}</td>;
          })}</tr>)}</tbody>
        </table>
      </div>
    </>
  );
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** A sweep's combinations share their coins and range, so their buy and hold: the first stored one's. */
const buyAndHoldOf = (ranked: SweepEntry[]) => ranked.find((e) => e.summary)?.summary?.buyAndHoldReturn ?? null;

const METRICS: Array<[string, (v: number | null) => string]> = [
  ['totalReturn', pct], ['annualizedReturn', pct], ['sharpe', (v) => num(v, 2)], ['sortino', (v) => num(v, 2)], ['maxDrawdownPct', pct],
  ['winRate', pct], ['profitFactor', (v) => num(v, 2)], ['tradeCount', (v) => num(v, 0)],
];

function ResultView({ id }: { id: string }) {
  const r = useApi<Result>(`/backtests/${encodeURIComponent(id)}/result?tradeLimit=500`);
  if (r.error) return <ErrorNote error={r.error} />;
  if (!r.data) return <Loading />;
  const d = r.data;
  let peak = -Infinity;
  const drawdown = d.equity.map((p) => { peak = Math.max(peak, p.equity); return { timestamp: p.time, value: -(1 - p.equity / peak) }; });
  return (
    <div>
      <p>{d.strategy} on {d.assets.join(', ')} · {d.from} → {d.to} · {money(d.initialCapital)} → <strong>{money(d.finalValue)}</strong></p>
      <LineChart label={`Equity of backtest ${id}`} color="#4c9aff" format={money} points={d.equity.map((p) => ({ timestamp: p.time, value: p.equity }))} />
      <LineChart label={`Drawdown of backtest ${id}`} color="#ef5350" format={(v) => pct(v)} points={drawdown} />
      <Table head={['Metric', 'Value']} empty="—"
        rows={[...METRICS.map(([k, f]) => [k, f(d.metrics[k] ?? null)]), ['buyAndHold', pct(d.buyAndHoldReturn)], ['exposure', pct(d.exposureTime)]]} />
      <details><summary>Conventions</summary><code>{JSON.stringify(d.conventions)}</code></details>
      <details><summary>{d.tradesPage.stored} trades{d.tradesPage.returned < d.tradesPage.stored ? ` (the first ${d.tradesPage.returned} shown)` : ''}</summary>
        <Table head={['Asset', 'Direction', 'Quantity', 'Entry', 'Exit', 'P&L', 'Return']} empty="No trades."
          rows={d.trades.map((t) => [t.asset, t.direction, num(t.quantity), `${new Date(t.entryTime).toLocaleString()} at ${money(t.entryPrice)}`,
            t.exitTime === null ? 'open' : `${new Date(t.exitTime).toLocaleString()} at ${money(t.exitPrice)}`, money(t.pnl), pct(t.returnPct)])} />
      </details>
    </div>
  );
}

/** A stored backtest as `GET /backtests` lists it. */
interface Listed { id: string; strategy: string; assets: string[]; from: string; to: string; totalReturn: number; sharpe: number | null }
interface Runs { runs: Array<{ workflowId: string; status: string; startTime: string }> }

/** The sweeps or walk-forwards among runs, by the id their workflow id carries (a walk-forward's in-sample sweeps left out). */
const idsOf = (runs: Runs | undefined, kind: 'sweep' | 'walkForward') =>
  (runs?.runs ?? []).flatMap((r) => { const id = startedAnalysisId(r.workflowId, kind); return id ? [{ ...r, id }] : []; });

/** A button that opens run `id` in its view. */
const openButton = (id: string, onOpen: (id: string) => void) => <button type="button" aria-label={`Open ${id}`} onClick={() => onOpen(id)}>Open</button>;

/** The newest backtests, sweeps and walk-forwards, each a button away from its view below. */
function Recent({ open }: { open: { backtest: (id: string) => void; sweep: (id: string) => void; walkForward: (id: string) => void } }) {
  const backtests = useApi<{ backtests: Listed[] }>('/backtests?limit=10', 10_000);
  const sweeps = useApi<Runs>('/runs?type=sweepWorkflow&limit=30', 10_000);
  const walks = useApi<Runs>('/runs?type=walkForwardWorkflow&limit=10', 10_000);
  const analyses = [
    ...idsOf(sweeps.data, 'sweep').map((r) => ({ ...r, kind: 'sweep', onOpen: open.sweep })),
    ...idsOf(walks.data, 'walkForward').map((r) => ({ ...r, kind: 'walk-forward', onOpen: open.walkForward })),
  ].sort((a, b) => b.startTime.localeCompare(a.startTime)).slice(0, 8);
  return (
    <Panel title="Recent">
      <ErrorNote error={backtests.error ?? sweeps.error ?? walks.error} />
      <div class="grid2">
        <Table head={['', 'Backtest', 'Strategy on assets', 'Period', 'Return', 'Sharpe']}
          empty={<>No backtest stored yet — start one above, or <code>mts backtest</code>.</>} loading={backtests.loading}
          rows={(backtests.data?.backtests ?? []).map((b) => [
            openButton(b.id, open.backtest), b.id, `${b.strategy} on ${b.assets.join(', ')}`, `${b.from} → ${b.to}`, pct(b.totalReturn), num(b.sharpe, 2)])} />
        <Table head={['', 'Sweep or walk-forward', 'Status', 'Started']}
          empty={<>No sweep or walk-forward yet — <code>mts sweep</code>, <code>mts walk-forward</code> or the API start one.</>}
          loading={sweeps.loading || walks.loading}
          rows={analyses.map((r) => [openButton(r.id, r.onOpen), `${r.kind} ${r.id}`, r.status, <Time at={r.startTime} />])} />
      </div>
    </Panel>
  );
}

/** Shows a run's status and progress; `onDone` once it completed (a failed run's reason stays here, it has no result). */
function Progress({ id, onDone }: { id: string; onDone: () => void }) {
  const s = useApi<Status>(`/backtests/${encodeURIComponent(id)}`, 1000);
  useEffect(() => { if (s.data?.status === 'COMPLETED') onDone(); }, [s.data?.status]);
  if (!s.data) return <Loading />;
  const p = s.data.status === 'RUNNING' ? s.data.progress : null;
  const done = p && p.barsTotal > 0
    ? ` — ${pct(p.barsDone / p.barsTotal, 0)} (${num(p.barsDone, 0)} of ${num(p.barsTotal, 0)} bars, equity ${money(p.equity)})` : '';
  return <p>{id}: {s.data.status}{done}{s.data.failure && <span class="down"> {s.data.failure}</span>}</p>;
}

const DAY_MS = 86_400_000;
/** The span the form proposes: the last six months of what the assets have stored. */
const DEFAULT_SPAN_DAYS = 182;

/**
 * The form's assets and range from what is stored: bitcoin and ethereum when both have bars (else the
 * first two assets that do), over the last six months of the span they all cover; none when nothing is stored.
 */
function storedDefaults(coverage: Coverage): { assets: string; from: string; to: string } | undefined {
  const preferred = coverage.assets.filter((a) => a.asset === 'bitcoin' || a.asset === 'ethereum');
  const chosen = preferred.length === 2 ? preferred : coverage.assets.slice(0, 2);
  if (chosen.length === 0) return undefined;
  const first = Math.max(...chosen.map((a) => Math.min(...a.intervals.map((i) => i.first))));
  const last = Math.min(...chosen.map((a) => Math.max(...a.intervals.map((i) => i.last))));
  if (last <= first) return undefined;
  return { assets: chosen.map((a) => a.asset).join(','), from: day(Math.max(first, last - DEFAULT_SPAN_DAYS * DAY_MS)), to: day(last) };
}

export function Backtests({ me }: { me: Me }) {
  const [form, setForm] = useState({ strategies: 'live', assets: 'bitcoin,ethereum', from: '2024-01-01', to: '2024-06-30', bar: '1d' });
  // Until the user changes the form, it proposes what is stored (the first hour's simulated history, or an import).
  const [edited, setEdited] = useState(false);
  const coverage = useApi<Coverage>('/market-data/coverage');
  useEffect(() => {
    const proposed = coverage.data && storedDefaults(coverage.data);
    if (proposed && !edited) setForm((f) => ({ ...f, ...proposed }));
  }, [coverage.data]);
  const [running, setRunning] = useState<string>();
  const [shown, setShown] = useState<string[]>([]);
  /** Puts a backtest first among the two shown side by side. */
  const show = (id: string) => setShown((s) => [id, ...s.filter((x) => x !== id)].slice(0, 2));
  /** `show`, from below the results: scrolled up to them. */
  const showAbove = (id: string) => {
    show(id);
    document.querySelector('section[aria-label="Results (two side by side)"]')?.scrollIntoView();
  };
  const [lookup, setLookup] = useState('');
  const [sweepId, setSweepId] = useState('');
  const [error, setError] = useState<string>();
  const sweep = useApi<Sweep>(sweepId ? `/backtests/sweeps/${encodeURIComponent(sweepId)}` : null, 5000);
  const [walkId, setWalkId] = useState('');
  const walk = useApi<WalkForward>(walkId ? `/backtests/walk-forward/${encodeURIComponent(walkId)}` : null, 5000);
  const start = (e: Event) => {
    e.preventDefault();
    const selection = form.strategies === 'live' ? { strategies: 'live' } : form.strategies.includes(',') ? { strategies: form.strategies.split(',').map((x) => x.trim()) } : { strategy: form.strategies.trim() };
    api<{ id: string }>('/backtests', { method: 'POST', body: { ...selection, assets: form.assets.split(',').map((a) => a.trim()), from: form.from, to: form.to, conventions: { bar: form.bar } } })
      .then((r) => { setError(undefined); setRunning(r.id); }, (err: Error) => setError(err.message));
  };
  const input = (key: keyof typeof form, label: string, type = 'text') => (
    <label>{label}<input type={type} value={form[key]} onInput={(e) => { setEdited(true); setForm({ ...form, [key]: (e.target as HTMLInputElement).value }); }} /></label>
  );
  return (
    <>
      <ErrorNote error={error ?? sweep.error ?? walk.error} />
      {canOperate(me) && (
        <Panel title="Start a backtest">
          <form class="controls" onSubmit={start}>
            {input('strategies', 'Strategy, list, or "live"')}
            {input('assets', 'Assets')}
            {input('from', 'From', 'date')}
            {input('to', 'To', 'date')}
            <label>Bar<select value={form.bar} onChange={(e) => { setEdited(true); setForm({ ...form, bar: (e.target as HTMLSelectElement).value }); }}>
              {['1d', '1h', '15m', '1m'].map((b) => <option value={b}>{b}</option>)}
            </select></label>
            <button class="primary" type="submit">Start</button>
          </form>
          {coverage.data?.assets.length === 0 && (
            <p class="muted">No bars stored yet: a backtest replays stored history — import it (<code>mts import-csv</code>) or collect it (<code>mts collect</code>, <code>mts backfill</code>) first.</p>
          )}
          {running && <Progress id={running} onDone={() => show(running)} />}
        </Panel>
      )}
      <Recent open={{
        backtest: show,
        sweep: setSweepId,
        walkForward: setWalkId,
      }} />
      <Panel title="Results (two side by side)">
        <form class="controls" onSubmit={(e) => { e.preventDefault(); if (lookup) show(lookup); }}>
          <label>Backtest id<input value={lookup} onInput={(e) => setLookup((e.target as HTMLInputElement).value.trim())} /></label>
          <button type="submit">Show</button>
        </form>
        {shown.length === 0 ? <Empty>No backtest shown — start one above, or enter the id <code>mts backtest</code> printed.</Empty>
          : <div class="grid2">{shown.map((id) => <ResultView key={id} id={id} />)}</div>}
      </Panel>
      <Panel title="Sweep: ranking and heat map">
        <form class="controls" onSubmit={(e) => { e.preventDefault(); setSweepId(((e.target as HTMLFormElement).elements.namedItem('sweep') as HTMLInputElement).value.trim()); }}>
          <label>Sweep id<input name="sweep" /></label>
          <button type="submit">Show</button>
        </form>
        {!sweepId ? <Empty>Enter the id a sweep was started with (<code>POST /api/v1/backtests/sweeps</code> or <code>mts sweep</code>).</Empty> : !sweep.data ? <Loading /> : (
          <>
            <p>{sweepId}: {sweep.data.status}{sweep.data.status === 'RUNNING' && sweep.data.progress && ` — ${sweep.data.progress.done} of ${sweep.data.progress.total} combinations`}
              {sweep.data.failure && <span class="down"> {sweep.data.failure}</span>}
              {sweep.data.result && <> — buy and hold over the same coins and range: {pct(buyAndHoldOf(sweep.data.result.ranked))}</>}</p>
            {sweep.data.result && <HeatMap key={sweepId} ranked={sweep.data.result.ranked} ranking={sweep.data.result.metric} />}
            <Table head={['', '#', 'Parameters', 'Sharpe', 'Return', 'Max drawdown', 'Trades']} empty="No results yet."
              rows={(sweep.data.result?.ranked ?? []).map((r, i) => [r.summary ? openButton(r.backtestId, showAbove) : '', i + 1,
                Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' '), num(r.summary?.sharpe ?? null, 2),
                pct(r.summary?.totalReturn ?? null), pct(r.summary?.maxDrawdownPct ?? null), r.error ?? num(r.summary?.tradeCount ?? null, 0)])} />
          </>
        )}
      </Panel>
      <Panel title="Walk-forward folds">
        <form class="controls" onSubmit={(e) => { e.preventDefault(); setWalkId(((e.target as HTMLFormElement).elements.namedItem('walk') as HTMLInputElement).value.trim()); }}>
          <label>Walk-forward id<input name="walk" /></label>
          <button type="submit">Show</button>
        </form>
        {!walkId ? <Empty>Enter the id a walk-forward analysis was started with (<code>POST /api/v1/backtests/walk-forward</code> or <code>mts walk-forward</code>).</Empty> : !walk.data ? <Loading /> : (
          <>
            <p>{walkId}: {walk.data.status}{walk.data.status === 'RUNNING' && walk.data.progress && ` — ${walk.data.progress.foldsDone} of ${walk.data.progress.folds} folds`}
              {walk.data.failure && <span class="down"> {walk.data.failure}</span>}{walk.data.result && <> — out of sample, chained: {money(walk.data.result.stitched.initialCapital)} → {money(walk.data.result.stitched.finalEquity)} ({pct(walk.data.result.stitched.totalReturn)})</>}</p>
            <Table head={['', 'Fold', 'In sample', 'Best parameters', 'Out of sample', 'Return', 'Buy and hold', 'Sharpe']} empty="No folds yet."
              rows={(walk.data.result?.folds ?? []).map((f) => [f.outOfSample.summary ? openButton(f.outOfSample.backtestId, showAbove) : '',
                f.fold, `${day(f.inSample.from)} → ${day(f.inSample.to)}`,
                f.inSample.best ? Object.entries(f.inSample.best.params).map(([k, v]) => `${k}=${v}`).join(' ') : '—',
                `${day(f.outOfSample.from)} → ${day(f.outOfSample.to)}`, pct(f.outOfSample.summary?.totalReturn ?? null),
                pct(f.outOfSample.summary?.buyAndHoldReturn ?? null), num(f.outOfSample.summary?.sharpe ?? null, 2)])} />
          </>
        )}
      </Panel>
    </>
  );
}
