import { useState } from 'preact/hooks';
import { api } from '../api';
import { Time } from '../format';
import { useApi } from '../hooks';
import { canOperate, type Me } from '../main';
import { ErrorNote, Loading, Panel, Table } from './shared';

interface Status {
  budget: { estimatedDailyCalls: number; callsMadeToday: number; reductionPercent: number };
  unhealthy: number;
  assets: Array<{ tier: string; asset: string; health: string; reasons: string[]; lastSuccessAt: string | null; lastAttemptAt: string | null; newestDataAt: string | null; consecutiveFailures: number; callsToday: number; lastError: string | null }>;
}
interface Schedule { id: string; paused: boolean; note: string | null; nextActionTimes: string[]; recentActions: Array<{ scheduledAt: string }> }

export function Collection({ me }: { me: Me }) {
  const status = useApi<Status>('/collections/status', 30_000);
  const schedules = useApi<{ schedules: Schedule[] }>('/schedules', 30_000);
  const [error, setError] = useState<string>();
  const act = (id: string, action: 'pause' | 'unpause' | 'trigger') => {
    api(`/schedules/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: action === 'pause' ? { note: 'paused from the dashboard' } : {} })
      .then(() => { setError(undefined); schedules.reload(); }, (e: Error) => setError(e.message));
  };
  const s = status.data;
  return (
    <>
      <ErrorNote error={error ?? status.error ?? schedules.error} />
      <Panel title="Schedules">
        <Table head={['Schedule', 'State', 'Next run', 'Last run', ...(canOperate(me) ? ['Actions'] : [])]}
          empty={<>No Schedules — <code>npm start</code> (or <code>mts schedules sync</code>) creates them.</>} loading={schedules.loading}
          rows={(schedules.data?.schedules ?? []).map((x) => [x.id, x.paused ? `paused${x.note ? `: ${x.note}` : ''}` : 'active', <Time at={x.nextActionTimes[0]} />,
            <Time at={x.recentActions.at(-1)?.scheduledAt} />,
            ...(canOperate(me) ? [<span>
              {x.paused ? <button type="button" onClick={() => act(x.id, 'unpause')}>Unpause</button> : <button type="button" onClick={() => act(x.id, 'pause')}>Pause</button>}{' '}
              <button type="button" onClick={() => act(x.id, 'trigger')}>Run now</button>
            </span>] : [])])} />
      </Panel>
      <Panel title="Tiers and assets">
        {!s ? <Loading /> : (
          <>
            <p>Provider calls today: <strong>{s.budget.callsMadeToday}</strong> of the {s.budget.estimatedDailyCalls}/day budget
              ({s.budget.reductionPercent} % below collecting every coin every 5 minutes). {s.unhealthy ? <span class="down">{s.unhealthy} unhealthy</span> : <span class="up">all healthy</span>}</p>
            <Table head={['Tier', 'Asset', 'Health', 'Last attempt', 'Last success', 'Newest data', 'Failure streak', 'Calls today']}
              empty={<>Nothing collected yet — trigger a tier above, or run <code>mts collect --tier high_frequency</code>.</>}
              rows={s.assets.map((a) => [a.tier, a.asset, a.health === 'healthy' ? <span class="up">healthy</span> : <span class="down" title={a.lastError ?? ''}>unhealthy: {a.reasons.join('; ')}</span>,
                <Time at={a.lastAttemptAt} />, <Time at={a.lastSuccessAt} />, <Time at={a.newestDataAt} />, a.consecutiveFailures, a.callsToday])} />
          </>
        )}
      </Panel>
    </>
  );
}
