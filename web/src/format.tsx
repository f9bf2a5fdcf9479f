/** Numbers with their units, and times in the reader's zone with UTC on hover. */
const usd = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });

export const money = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : usd.format(x));
export const pct = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)} %`);
export const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString(undefined, { maximumFractionDigits: digits }));
export const signed = (x: number | null | undefined) => (x === null || x === undefined ? '' : x > 0 ? 'up' : x < 0 ? 'down' : '');

export function Time({ at }: { at: number | string | null | undefined }) {
  if (at === null || at === undefined) return <span class="muted">—</span>;
  const d = new Date(at);
  return <time dateTime={d.toISOString()} title={`${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`}>{d.toLocaleString()}</time>;
}
