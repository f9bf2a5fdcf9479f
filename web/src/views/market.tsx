import { useState } from 'preact/hooks';
import { CandleChart, LineChart, type Marker } from '../charts';
import { money, num, Time } from '../format';
import type { Coverage } from '../api';
import { useApi } from '../hooks';
import type { Me } from '../main';
import { Empty, ErrorNote, Loading, Panel } from './shared';

const BARS = { '1m': 1, '15m': 15, '1h': 60, '1d': 1440 } as const;
type Bar = keyof typeof BARS;

interface Chart {
  storedBars: number; bars: number; builtFromMinutes?: number; barMinutes: number;
  candles: Array<{ timestamp: number; open: number; high: number; low: number; close: number }>;
}
interface Signal { timestamp: number; strategy: string; signalType: 'LONG' | 'SHORT'; confidence: number; price: number }
interface Trade { asset: string; side: 'BUY' | 'SELL'; timestamp: number; price: number; quantity: number; reason: string | null }
interface Position { asset: string; stopLoss: number | null; takeProfit: number | null; averagePrice: number }

/** A stored interval as the bar picker names it (`15m`, `1h`), else in minutes. */
const minutesLabel = (minutes: number) => Object.entries(BARS).find(([, m]) => m === minutes)?.[0] ?? `${minutes}-minute`;

/** How the candles shown came from the stored bars: built from shorter ones, merged into longer candles. */
function chartNote(chart: Chart, bar: Bar): string {
  const built = chart.builtFromMinutes !== undefined ? `${bar} bars built from ${chart.storedBars.toLocaleString()} stored ${minutesLabel(chart.builtFromMinutes)} bars` : '';
  const merged = chart.barMinutes !== BARS[bar]
    ? `${chart.bars.toLocaleString()} bars shown as ${chart.candles.length.toLocaleString()} (${chart.barMinutes}-minute candles)` : '';
  return [built, merged].filter(Boolean).join(' · ');
}

export function Market(_: { me: Me }) {
  const assetsLoaded = useApi<{ assets: Array<{ asset: string; tier: string }> }>('/collections/status');
  const [asset, setAsset] = useState('bitcoin');
  const [bar, setBar] = useState<Bar>('1h');
  const chart = useApi<Chart>(`/market-data/${encodeURIComponent(asset)}/chart?interval=${BARS[bar]}&maxBars=2000`, 60_000);
  const signals = useApi<{ signals: Signal[] }>(`/signals?asset=${encodeURIComponent(asset)}&limit=500`, 60_000);
  const trades = useApi<{ trades: Trade[] }>('/portfolio/trades?limit=1000', 60_000);
  const positions = useApi<{ positions: Position[] }>('/portfolio/positions', 60_000);
  const vix = useApi<{ observations: Array<{ date: string; value: number }> }>('/macro/VIXCLS');
  const coverage = useApi<Coverage>('/market-data/coverage', 60_000);
  // The coins collected and any other with bars stored (a CSV import), each once.
  const crypto = [...new Set([
    ...(assetsLoaded.data?.assets ?? []).filter((a) => a.tier !== 'macro').map((a) => a.asset), ...(coverage.data?.assets ?? []).map((a) => a.asset),
  ])].sort();
  const storedIntervals = coverage.data?.assets.find((a) => a.asset === asset)?.intervals.map((i) => minutesLabel(i.intervalMinutes)) ?? [];
  const first = chart.data?.candles[0]?.timestamp ?? 0;
  const markers: Marker[] = [
    ...(signals.data?.signals ?? []).filter((s) => s.timestamp >= first).map((s) => ({
      timestamp: s.timestamp, kind: s.signalType === 'LONG' ? 'long' as const : 'short' as const, text: `${s.strategy} ${s.signalType}`,
    })),
    ...(trades.data?.trades ?? []).filter((t) => t.asset === asset && t.timestamp >= first).map((t) => ({
      timestamp: t.timestamp, kind: t.side === 'BUY' ? 'buy' as const : 'sell' as const, text: `${t.side} ${num(t.quantity, 4)} @ ${money(t.price)}${t.reason ? ` (${t.reason})` : ''}`,
    })),
  ];
  const held = positions.data?.positions.find((p) => p.asset === asset);
  const levels = held ? [
    ...(held.stopLoss !== null ? [{ price: held.stopLoss, title: 'stop', color: '#ef5350' }] : []),
    ...(held.takeProfit !== null ? [{ price: held.takeProfit, title: 'target', color: '#26a69a' }] : []),
  ] : [];
  return (
    <>
      <ErrorNote error={chart.error ?? signals.error ?? trades.error} />
      <Panel title={`${asset} candles`}>
        <div class="controls">
          <label>Asset
            <select value={asset} onChange={(e) => setAsset((e.target as HTMLSelectElement).value)}>
              {(crypto.length ? crypto : ['bitcoin', 'ethereum']).map((a) => <option value={a}>{a}</option>)}
            </select>
          </label>
          <label>Bar
            <select value={bar} onChange={(e) => setBar((e.target as HTMLSelectElement).value as Bar)}>
              {Object.keys(BARS).map((b) => <option value={b}>{b}</option>)}
            </select>
          </label>
          {chart.data && chart.data.bars > 0 && <span class="muted">{chartNote(chart.data, bar)}</span>}
        </div>
        {!chart.data ? <Loading /> : chart.data.candles.length === 0
          ? <Empty>
            No {bar} bars of {asset} stored, nor shorter ones to build them from
            {storedIntervals.length ? ` (stored: ${storedIntervals.join(', ')} bars)` : ''} — collect
            them (<code>mts collect --tier high_frequency</code>), let the market stream write 1-minute bars, or import a CSV.
          </Empty>
          : <CandleChart label={`${asset} ${bar} candles with signals and fills`} candles={chart.data.candles} markers={markers} levels={levels} />}
        <p class="muted">Arrows: strategy signals (up LONG, down SHORT). Circles: the portfolio's fills. Dashed lines: the open position's stop and target.</p>
      </Panel>
      <Panel title="VIX (VIXCLS)">
        {!vix.data ? <Loading /> : vix.data.observations.length === 0
          ? <Empty>No VIX stored — the macro tier collects it daily (<code>mts collect --tier macro</code>).</Empty>
          : <LineChart label="VIX" color="#f0ad4e" points={vix.data.observations.map((o) => ({ timestamp: Date.parse(`${o.date}T00:00:00Z`), value: o.value }))} />}
        {vix.data?.observations.length ? <p class="muted">Latest: {num(vix.data.observations.at(-1)!.value, 2)} on <Time at={`${vix.data.observations.at(-1)!.date}T00:00:00Z`} /></p> : null}
      </Panel>
    </>
  );
}
