import { useState } from 'preact/hooks';
import { api } from '../api';
import { Time } from '../format';
import { useApi } from '../hooks';
import { canOperate, type Me } from '../main';
// Which workflows report progress and how it counts: the server's own rules (a module without imports).
import { PROGRESS_QUERIES, progressText } from '../../../src/temporal/progress';
import { ErrorNote, Panel, Table } from './shared';

interface Run { workflowId: string; runId: string; type: string; status: string; startTime: string; closeTime: string | null }
interface Detail { failure?: string | null; progress?: unknown }

const STATUSES = ['', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'];

export function Runs({ me }: { me: Me }) {
  const [status, setStatus] = useState('');
  const [type, setType] = useState('');
  const query = new URLSearchParams({ limit: '100', ...(status ? { status: status.toLowerCase() } : {}), ...(type ? { type } : {}) });
  const runs = useApi<{ runs: Run[]; temporalUiUrl: string | null; namespace: string }>(`/runs?${query}`, 10_000);
  const [details, setDetails] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const act = (id: string, action: 'retry' | 'cancel') => {
    api(`/runs/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: {} }).then(() => { setError(undefined); runs.reload(); }, (e: Error) => setError(e.message));
  };
  const [progress, setProgress] = useState<Record<string, string>>({});
  /** Reads run `id`'s detail into `into` as `text` words it. */
  const ask = (id: string, into: typeof setDetails, text: (d: Detail) => string) => {
    api<Detail>(`/runs/${encodeURIComponent(id)}`).then((d) => into((x) => ({ ...x, [id]: text(d) })), (e: Error) => setError(e.message));
  };
  const why = (id: string) => ask(id, setDetails, (d) => d.failure ?? 'no failure recorded');
  const askProgress = (id: string) => ask(id, setProgress, (d) => progressText(d.progress));
  const base = runs.data?.temporalUiUrl?.replace(/\/$/, '');
  const ui = (r: Run) => `${base}/namespaces/${encodeURIComponent(runs.data!.namespace)}/workflows/${encodeURIComponent(r.workflowId)}/${r.runId}/history`;
  return (
    <>
      <ErrorNote error={error ?? runs.error} />
      <Panel title="Workflow runs">
        <div class="controls">
          <label>Status<select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            {STATUSES.map((s) => <option value={s}>{s || 'any'}</option>)}
          </select></label>
          <label>Type<input value={type} placeholder="any, e.g. collectTierWorkflow" onChange={(e) => setType((e.target as HTMLInputElement).value.trim())} /></label>
        </div>
        <Table head={['Started', 'Type', 'Workflow id', 'Status', 'Closed', 'Failure or progress', 'Temporal UI', ...(canOperate(me) ? ['Actions'] : [])]}
          empty="No runs match — start `npm start`; collections run on their Schedules." loading={runs.loading}
          rows={(runs.data?.runs ?? []).map((r) => [<Time at={r.startTime} />, r.type, r.workflowId, <span class={r.status === 'FAILED' ? 'down' : r.status === 'COMPLETED' ? 'up' : ''}>{r.status}</span>,
            <Time at={r.closeTime} />,
            r.status === 'FAILED' ? (details[r.workflowId] ?? <button type="button" onClick={() => why(r.workflowId)}>Why?</button>)
              : r.status === 'RUNNING' && r.type in PROGRESS_QUERIES ? <span>{progress[r.workflowId]} <button type="button" aria-label={`Progress of ${r.workflowId}`}
                onClick={() => askProgress(r.workflowId)}>{progress[r.workflowId] === undefined ? 'Progress' : 'Again'}</button></span> : '',
            base ? <a href={ui(r)} target="_blank" rel="noreferrer">open</a> : <span class="muted" title="set TEMPORAL_UI_URL">—</span>,
            ...(canOperate(me) ? [<span>
              {['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'].includes(r.status) && <button type="button" onClick={() => act(r.workflowId, 'retry')}>Retry</button>}
              {r.status === 'RUNNING' && <button type="button" onClick={() => act(r.workflowId, 'cancel')}>Cancel</button>}
            </span>] : [])])} />
      </Panel>
    </>
  );
}
