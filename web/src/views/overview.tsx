import { useEffect, useState } from 'preact/hooks';
import { subscribe } from '../api';
import { LineChart } from '../charts';
import { money, num, pct, signed, Time } from '../format';
import { useApi } from '../hooks';
import type { Me } from '../main';
import { Empty, ErrorNote, Loading, Panel, Table, Usage } from './shared';

interface Summary {
  equity: number; cash: number; reservedCash: number; realizedPnl: number; unrealizedPnl: number; feesPaid: number; drawdown: number;
  dailyPnl: number; heat: number | null; openPositions: number; note?: string;
}
interface Position { asset: string; side: string; quantity: number; averagePrice: number; mark: number; marketValue: number; unrealizedPnl: number; stopLoss: number | null; takeProfit: number | null }
interface LimitUse { value: number | null; limit: number; utilization: number | null; unit: 'fraction' | 'usd' }
interface Risk { heat: number; limits: Record<string, LimitUse>; note?: string }
interface Price { asset: string; price: number; time: number; source: string }
interface LiveAlert { alert_type: string; alert: { asset?: string; signal_type?: string; confidence?: number; price?: number; timestamp?: number } }

const LIMIT_NAMES: Record<string, string> = { drawdown: 'Drawdown', dailyLoss: 'Daily loss', portfolioRisk: 'Open stop risk (heat)' };
const shown = (u: LimitUse) => (u.value === null ? '—' : u.unit === 'usd' ? money(u.value) : pct(u.value));

/** Live prices and alerts from the SSE streams, newest first. */
function useLive() {
  const [prices, setPrices] = useState<Record<string, Price>>({});
  const [alerts, setAlerts] = useState<Array<LiveAlert & { id: number }>>([]);
  useEffect(() => {
    const stop = new AbortController();
    subscribe('/prices/stream', (event, data) => {
      if (event === 'price') setPrices((p) => ({ ...p, [(data as Price).asset]: data as Price }));
    }, stop.signal);
    let n = 0;
    subscribe('/alerts/stream', (event, data) => {
      if (event === 'alert') setAlerts((a) => [{ ...(data as LiveAlert), id: ++n }, ...a].slice(0, 50));
    }, stop.signal);
    return () => stop.abort();
  }, []);
  return { prices, alerts };
}

export function Overview(_: { me: Me }) {
  const summary = useApi<Summary>('/portfolio', 10_000);
  const equity = useApi<{ points: Array<{ timestamp: number; equity: number; drawdown: number }> }>('/portfolio/equity?points=1000', 30_000);
  const positions = useApi<{ positions: Position[] }>('/portfolio/positions', 10_000);
  const risk = useApi<Risk>('/portfolio/risk', 30_000);
  const { prices, alerts } = useLive();
  const s = summary.data;
  return (
    <>
      <ErrorNote error={summary.error ?? positions.error ?? risk.error ?? equity.error} />
      <Panel title="Portfolio">
        {!s ? <Loading /> : (
          <>
            <div class="cards">
              {[['Equity', money(s.equity)], ['Cash', money(s.cash)], ["Today's P&L", money(s.dailyPnl), signed(s.dailyPnl)],
                ['Unrealised P&L', money(s.unrealizedPnl), signed(s.unrealizedPnl)], ['Realised P&L', money(s.realizedPnl), signed(s.realizedPnl)],
                ['Drawdown', pct(s.drawdown)], ['Heat (exposure / equity)', pct(s.heat)], ['Fees paid', money(s.feesPaid)]]
                .map(([label, value, cls]) => <div class="card"><div class="label">{label}</div><div class={`value ${cls ?? ''}`}>{value}</div></div>)}
            </div>
            {s.note && <Empty>No trades yet — start <code>npm start</code> and post a signal (<code>POST /api/v1/signals</code>), or let the strategies trade.</Empty>}
          </>
        )}
      </Panel>
      <div class="grid2">
        <Panel title="Equity">
          {equity.data ? <LineChart label="Equity curve" color="#4c9aff" format={money} points={equity.data.points.map((p) => ({ timestamp: p.timestamp, value: p.equity }))} /> : <Loading />}
        </Panel>
        <Panel title="Drawdown">
          {equity.data ? <LineChart label="Drawdown" color="#ef5350" format={(v) => pct(v)} points={equity.data.points.map((p) => ({ timestamp: p.timestamp, value: -p.drawdown }))} /> : <Loading />}
        </Panel>
      </div>
      <Panel title="Open positions (marked to the latest price)">
        <Table head={['Asset', 'Side', 'Quantity', 'Average', 'Mark', 'Value', 'Unrealised P&L', 'Stop', 'Target']}
          empty="No open positions." loading={positions.loading}
          rows={(positions.data?.positions ?? []).map((p) => [p.asset, p.side, num(p.quantity, 6), money(p.averagePrice), money(prices[p.asset]?.price ?? p.mark),
            money(p.marketValue), <span class={signed(p.unrealizedPnl)}>{money(p.unrealizedPnl)}</span>, money(p.stopLoss), money(p.takeProfit)])} />
      </Panel>
      <div class="grid2">
        <Panel title="Risk limits">
          <Table head={['Limit', 'Used', 'Limit', 'Usage']} empty="No limits configured." loading={risk.loading}
            rows={Object.entries(risk.data?.limits ?? {}).map(([name, u]) => [LIMIT_NAMES[name] ?? name, shown(u), u.unit === 'usd' ? money(u.limit) : pct(u.limit), <Usage utilization={u.utilization} />])} />
        </Panel>
        <Panel title="Live prices">
          <Table head={['Asset', 'Price', 'Quoted', 'Source']} empty={<>No streamed prices yet — the market stream (<code>MARKET_STREAM</code>) writes them once it runs.</>}
            rows={Object.values(prices).sort((a, b) => a.asset.localeCompare(b.asset)).map((p) => [p.asset, money(p.price), <Time at={p.time} />, p.source])} />
        </Panel>
      </div>
      <Panel title="Latest alerts (live)">
        <ul id="live-alerts" aria-live="polite">
          {alerts.length === 0 && <li class="muted">Waiting for alerts — they appear here as the strategies send them.</li>}
          {alerts.map((a) => (
            <li key={a.id}>
              <Time at={a.alert.timestamp ?? null} /> <strong>{a.alert_type}</strong> {a.alert.asset} {a.alert.signal_type ?? ''}
              {a.alert.confidence !== undefined && <> confidence {pct(a.alert.confidence, 0)}</>} {a.alert.price !== undefined && <> at {money(a.alert.price)}</>}
            </li>
          ))}
        </ul>
      </Panel>
    </>
  );
}
