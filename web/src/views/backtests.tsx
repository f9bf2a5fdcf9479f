import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { LineChart } from '../charts';
import { money, num, pct } from '../format';
import { useApi } from '../hooks';
import { canOperate, type Me } from '../main';
import { Empty, ErrorNote, Loading, Panel, Table } from './shared';

interface Status { id: string; status: string; failure: string | null; progress?: { fraction?: number; barsDone?: number; barsTotal?: number } | null; summary?: Record<string, number> | null }
interface Result {
  id: string; strategy: string; assets: string[]; from: string; to: string; initialCapital: number; finalValue: number; conventions: Record<string, unknown>;
  metrics: Record<string, number | null>; trades: Array<{ asset: string; side?: string; entryTime: number; exitTime: number | null; pnl?: number; returnPct?: number }>;
  equity: Array<{ time: number; equity: number }>;
}
interface Sweep { status: string; progress?: unknown; result?: { ranked: Array<{ params: Record<string, unknown>; summary?: Record<string, number> | null; backtestId: string }> } | null }

const METRICS: Array<[string, (v: number | null) => string]> = [
  ['totalReturn', pct], ['annualizedReturn', pct], ['sharpe', (v) => num(v, 2)], ['sortino', (v) => num(v, 2)], ['maxDrawdownPct', pct],
  ['winRate', pct], ['profitFactor', (v) => num(v, 2)], ['tradeCount', (v) => num(v, 0)],
];

function ResultView({ id }: { id: string }) {
  const r = useApi<Result>(`/backtests/${encodeURIComponent(id)}/result`);
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
      <Table head={['Metric', 'Value']} empty="—" rows={METRICS.map(([k, f]) => [k, f(d.metrics[k] ?? null)])} />
      <details><summary>Conventions</summary><code>{JSON.stringify(d.conventions)}</code></details>
      <details><summary>{d.trades.length} trades</summary>
        <Table head={['Asset', 'Entry', 'Exit', 'P&L']} empty="No trades." rows={d.trades.slice(0, 500).map((t) => [t.asset, new Date(t.entryTime).toLocaleString(), t.exitTime ? new Date(t.exitTime).toLocaleString() : 'open', money(t.pnl)])} />
      </details>
    </div>
  );
}

function Progress({ id, onDone }: { id: string; onDone: () => void }) {
  const s = useApi<Status>(`/backtests/${encodeURIComponent(id)}`, 1000);
  useEffect(() => { if (s.data && s.data.status !== 'RUNNING') onDone(); }, [s.data?.status]);
  if (!s.data) return <Loading />;
  const f = s.data.progress?.fraction;
  return <p>{id}: {s.data.status}{f !== undefined ? ` — ${pct(f, 0)}` : ''}{s.data.failure && <span class="down"> {s.data.failure}</span>}</p>;
}

export function Backtests({ me }: { me: Me }) {
  const [form, setForm] = useState({ strategies: 'live', assets: 'bitcoin,ethereum', from: '2024-01-01', to: '2024-06-30', bar: '1d' });
  const [running, setRunning] = useState<string>();
  const [shown, setShown] = useState<string[]>([]);
  const [lookup, setLookup] = useState('');
  const [sweepId, setSweepId] = useState('');
  const [error, setError] = useState<string>();
  const sweep = useApi<Sweep>(sweepId ? `/backtests/sweeps/${encodeURIComponent(sweepId)}` : null, 5000);
  const start = (e: Event) => {
    e.preventDefault();
    const selection = form.strategies === 'live' ? { strategies: 'live' } : form.strategies.includes(',') ? { strategies: form.strategies.split(',').map((x) => x.trim()) } : { strategy: form.strategies.trim() };
    api<{ id: string }>('/backtests', { method: 'POST', body: { ...selection, assets: form.assets.split(',').map((a) => a.trim()), from: form.from, to: form.to, conventions: { bar: form.bar } } })
      .then((r) => { setError(undefined); setRunning(r.id); }, (err: Error) => setError(err.message));
  };
  const input = (key: keyof typeof form, label: string, type = 'text') => (
    <label>{label}<input type={type} value={form[key]} onInput={(e) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value })} /></label>
  );
  return (
    <>
      <ErrorNote error={error ?? sweep.error} />
      {canOperate(me) && (
        <Panel title="Start a backtest">
          <form class="controls" onSubmit={start}>
            {input('strategies', 'Strategy, list, or "live"')}
            {input('assets', 'Assets')}
            {input('from', 'From', 'date')}
            {input('to', 'To', 'date')}
            <label>Bar<select value={form.bar} onChange={(e) => setForm({ ...form, bar: (e.target as HTMLSelectElement).value })}>
              {['1d', '1h', '15m', '1m'].map((b) => <option value={b}>{b}</option>)}
            </select></label>
            <button class="primary" type="submit">Start</button>
          </form>
          {running && <Progress id={running} onDone={() => setShown((s) => [running, ...s.filter((x) => x !== running)].slice(0, 2))} />}
        </Panel>
      )}
      <Panel title="Results (two side by side)">
        <form class="controls" onSubmit={(e) => { e.preventDefault(); if (lookup) setShown((s) => [lookup, ...s.filter((x) => x !== lookup)].slice(0, 2)); }}>
          <label>Backtest id<input value={lookup} onInput={(e) => setLookup((e.target as HTMLInputElement).value.trim())} /></label>
          <button type="submit">Show</button>
        </form>
        {shown.length === 0 ? <Empty>No backtest shown — start one above, or enter the id <code>mts backtest</code> printed.</Empty>
          : <div class="grid2">{shown.map((id) => <ResultView key={id} id={id} />)}</div>}
      </Panel>
      <Panel title="Sweep ranking">
        <form class="controls" onSubmit={(e) => { e.preventDefault(); setSweepId(((e.target as HTMLFormElement).elements.namedItem('sweep') as HTMLInputElement).value.trim()); }}>
          <label>Sweep id<input name="sweep" /></label>
          <button type="submit">Show</button>
        </form>
        {sweepId && sweep.data && (
          <Table head={['#', 'Parameters', 'Sharpe', 'Return', 'Max drawdown', 'Trades']} empty={`Sweep ${sweepId}: ${sweep.data.status}`}
            rows={(sweep.data.result?.ranked ?? []).map((r, i) => [i + 1, JSON.stringify(r.params), num(r.summary?.sharpe ?? null, 2), pct(r.summary?.totalReturn ?? null),
              pct(r.summary?.maxDrawdownPct ?? null), num(r.summary?.trades ?? null, 0)])} />
        )}
      </Panel>
    </>
  );
}
