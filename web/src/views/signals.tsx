import { useEffect, useRef, useState } from 'preact/hooks';
import { api, subscribe } from '../api';
import { money, pct, Time } from '../format';
import { useApi } from '../hooks';
import type { Me } from '../main';
import { ErrorNote, Panel, Table } from './shared';

interface Signal {
  id: number; asset: string; signalType: string; timestamp: number; price: number; strategy: string; confidence: number; strategies: string[] | null;
  analysis: Record<string, unknown>; outcome?: { status: string; reason: string | null };
}

const OUTCOME_CLASS: Record<string, string> = { filled: 'up', rejected: 'down', compensated: 'down' };

export function Signals(_: { me: Me }) {
  const [asset, setAsset] = useState('');
  const [strategy, setStrategy] = useState('');
  const [type, setType] = useState('');
  const query = new URLSearchParams({ limit: '200', ...(asset ? { asset } : {}), ...(strategy ? { strategy } : {}), ...(type ? { type } : {}) });
  const signals = useApi<{ signals: Signal[] }>(`/signals?${query}`, 30_000);
  // Rows that arrived live since the last load, newest first; the next load (filters, the 30 s refresh) takes them in.
  const [arrived, setArrived] = useState<Signal[]>([]);
  const loaded = signals.data?.signals ?? [];
  const shown = [...arrived.filter((a) => !loaded.some((s) => s.id === a.id)), ...loaded];
  useEffect(() => setArrived((rows) => rows.filter((a) => !loaded.some((s) => s.id === a.id))), [signals.data]);
  const latest = useRef({ newest: 0, ids: new Set<number>() });
  latest.current = { newest: shown.reduce((t, s) => Math.max(t, s.timestamp), 0), ids: new Set(shown.map((s) => s.id)) };
  useEffect(() => {
    setArrived([]);
    const stop = new AbortController();
    // A new alert means new signals: fetch only those from the newest shown on, and put them on top.
    subscribe('/alerts/stream', (event) => {
      if (event !== 'alert') return;
      const since = new URLSearchParams(query);
      since.set('from', String(latest.current.newest));
      api<{ signals: Signal[] }>(`/signals?${since}`).then(
        (r) => setArrived((rows) => [...r.signals.filter((n) => !latest.current.ids.has(n.id)), ...rows]),
        () => undefined, // the next refresh shows them, and its error if the API is down
      );
    }, stop.signal);
    return () => stop.abort();
  }, [query.toString()]);
  // Only an aggregated signal is traded: its saga's end, with the reason.
  const outcome = (s: Signal) => (s.outcome
    ? <span class={OUTCOME_CLASS[s.outcome.status] ?? 'muted'}>{s.outcome.status.replace('_', ' ')}{s.outcome.reason ? `: ${s.outcome.reason}` : ''}</span>
    : <span class="muted">—</span>);
  const field = (label: string, value: string, set: (v: string) => void) => (
    <label>{label}<input value={value} onChange={(e) => set((e.target as HTMLInputElement).value.trim())} placeholder="any" /></label>
  );
  return (
    <>
      <ErrorNote error={signals.error} />
      <Panel title="Signals">
        <div class="controls">
          {field('Asset', asset, setAsset)}
          {field('Strategy', strategy, setStrategy)}
          <label>Type<select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
            <option value="">any</option><option value="LONG">LONG</option><option value="SHORT">SHORT</option>
          </select></label>
          <span class="muted">{arrived.length ? `${arrived.length} arrived live since opened` : 'live: new signals appear on top as they arrive'}</span>
        </div>
        <Table head={['Time', 'Asset', 'Strategy', 'Type', 'Confidence', 'Price', 'Behind it', 'Outcome']}
          empty={<>No signals yet — <code>npm start</code> generates them after each collection, or run <code>mts signals</code>.</>}
          loading={signals.loading}
          rows={shown.map((s) => [<>{arrived.includes(s) ? <span class="badge">new</span> : null}<Time at={s.timestamp} /></>, s.asset, s.strategy, s.signalType, pct(s.confidence, 0), money(s.price),
            <details><summary>{s.strategies?.join(', ') ?? 'numbers'}</summary><code>{JSON.stringify(s.analysis)}</code></details>, outcome(s)])} />
      </Panel>
    </>
  );
}
