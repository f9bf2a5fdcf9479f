import { useEffect, useState } from 'preact/hooks';
import { subscribe } from '../api';
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
  const [live, setLive] = useState(0);
  useEffect(() => {
    const stop = new AbortController();
    // A new alert means new signals: reload the table.
    subscribe('/alerts/stream', (event) => { if (event === 'alert') setLive((n) => n + 1); }, stop.signal);
    return () => stop.abort();
  }, []);
  useEffect(() => { if (live) signals.reload(); }, [live]);
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
          <span class="muted">{live ? `${live} live alert(s) since opened` : 'live: reloads when an alert arrives'}</span>
        </div>
        <Table head={['Time', 'Asset', 'Strategy', 'Type', 'Confidence', 'Price', 'Behind it', 'Outcome']}
          empty={<>No signals yet — <code>npm start</code> generates them after each collection, or run <code>mts signals</code>.</>}
          rows={(signals.data?.signals ?? []).map((s) => [<Time at={s.timestamp} />, s.asset, s.strategy, s.signalType, pct(s.confidence, 0), money(s.price),
            <details><summary>{s.strategies?.join(', ') ?? 'numbers'}</summary><code>{JSON.stringify(s.analysis)}</code></details>, outcome(s)])} />
      </Panel>
    </>
  );
}
