/** Self-contained HTML reports: inline SVG charts and tables, no scripts, no network. */
import { thinSeries } from '../../domain/thinning';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(2)}%`);

/** A line chart of (time, value) as an SVG polyline with min/max labels. */
export function lineChart(title: string, all: Array<{ t: number; v: number }>, opts: { color: string; format: (v: number) => string }): string {
  const w = 900; const h = 220; const pad = 40;
  if (all.length === 0) return `<h2>${esc(title)}</h2><p>No data yet.</p>`;
  const points = thinSeries(all, w);
  const t0 = points[0].t; const t1 = points.at(-1)!.t || t0 + 1;
  // Reduced, not spread: a long backtest's curve has more points than the stack takes arguments.
  const lo = points.reduce((m, p) => Math.min(m, p.v), Infinity); const hi = points.reduce((m, p) => Math.max(m, p.v), -Infinity);
  const x = (t: number) => pad + ((t - t0) / Math.max(t1 - t0, 1)) * (w - 2 * pad);
  const y = (v: number) => h - pad - ((v - lo) / Math.max(hi - lo, 1e-12)) * (h - 2 * pad);
  const path = points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  return `<h2>${esc(title)}</h2>
<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${esc(title)}">
<rect x="0" y="0" width="${w}" height="${h}" fill="#fafafa" stroke="#ddd"/>
<polyline fill="none" stroke="${opts.color}" stroke-width="1.5" points="${path}"/>
<text x="4" y="${pad - 8}" font-size="12">${esc(opts.format(hi))}</text>
<text x="4" y="${h - 8}" font-size="12">${esc(opts.format(lo))}</text>
<text x="${pad}" y="${h - 24}" font-size="11" fill="#666">${esc(new Date(t0).toISOString().slice(0, 16))}</text>
<text x="${w - pad - 110}" y="${h - 24}" font-size="11" fill="#666">${esc(new Date(t1).toISOString().slice(0, 16))}</text>
</svg>`;
}

export function table(headers: string[], rows: unknown[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:1000px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{color:#555}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
}

export function definitionList(items: Array<[string, string]>): string {
  return `<dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

const money = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x < 0 ? '−' : ''}$${num(Math.abs(x))}`);

export { money, num, pct };
