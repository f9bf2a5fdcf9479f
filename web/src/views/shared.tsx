import type { ComponentChildren } from 'preact';

export function Panel({ title, children }: { title: string; children: ComponentChildren }) {
  return <section aria-label={title}><h2>{title}</h2>{children}</section>;
}

export const ErrorNote = ({ error }: { error?: string }) => (error ? <p class="error" role="alert">{error}</p> : null);
export const Empty = ({ children }: { children: ComponentChildren }) => <p class="empty">{children}</p>;
export const Loading = () => <p class="empty">Loading…</p>;

/** A table of `rows`; with none, `Loading…` while `loading` (its data not yet here), else what `empty` says to do. */
export function Table({ head, rows, empty, loading = false }: { head: string[]; rows: ComponentChildren[][]; empty: ComponentChildren; loading?: boolean }) {
  if (rows.length === 0) return loading ? <Loading /> : <Empty>{empty}</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <thead><tr>{head.map((h) => <th scope="col">{h}</th>)}</tr></thead>
        <tbody>{rows.map((r) => <tr>{r.map((c) => <td>{c}</td>)}</tr>)}</tbody>
      </table>
    </div>
  );
}

/** How much of a limit is used: a bar, amber past 80 %, red at the limit. */
export function Usage({ utilization }: { utilization: number | null }) {
  if (utilization === null) return <span class="muted">not known</span>;
  const cls = utilization >= 1 ? 'bar over' : utilization >= 0.8 ? 'bar warn' : 'bar';
  return (
    <div class={cls} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(utilization * 100)}>
      <span style={{ width: `${Math.min(100, utilization * 100)}%` }} />
    </div>
  );
}
