import {
  CandlestickSeries, createChart, createSeriesMarkers, type IChartApi, LineSeries, type SeriesMarker, type Time, type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef } from 'preact/hooks';

const seconds = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;

/** Points in ascending time with one value per second, as the chart requires. */
function ascending<P extends { time: UTCTimestamp }>(points: P[]): P[] {
  const out: P[] = [];
  for (const p of [...points].sort((a, b) => a.time - b.time)) {
    if (out.length && out[out.length - 1].time === p.time) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

function useChart(draw: (chart: IChartApi) => void, deps: unknown[]) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = createChart(el.current, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: '#8a96a3', attributionLogo: false },
      grid: { vertLines: { color: '#222a33' }, horzLines: { color: '#222a33' } },
      timeScale: { timeVisible: true, secondsVisible: false },
      localization: { timeFormatter: (t: number) => new Date(t * 1000).toLocaleString() },
    });
    draw(chart);
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, deps);
  return el;
}

export interface LinePoint { timestamp: number; value: number }

/** A line (equity, drawdown, VIX) over time; `format` labels the price scale. */
export function LineChart({ points, color, label, format }: { points: LinePoint[]; color: string; label: string; format?: (v: number) => string }) {
  const el = useChart((chart) => {
    const series = chart.addSeries(LineSeries, { color, lineWidth: 2, ...(format ? { priceFormat: { type: 'custom', formatter: format } } : {}) });
    series.setData(ascending(points.map((p) => ({ time: seconds(p.timestamp), value: p.value }))));
  }, [points]);
  return <div class="chart" ref={el} role="img" aria-label={label} />;
}

export interface Candle { timestamp: number; open: number; high: number; low: number; close: number }
export interface Marker { timestamp: number; kind: 'long' | 'short' | 'buy' | 'sell'; text: string }
export interface Level { price: number; title: string; color: string }

/** Candles with signal and fill markers and horizontal levels (stops, targets). */
export function CandleChart({ candles, markers, levels, label }: { candles: Candle[]; markers: Marker[]; levels: Level[]; label: string }) {
  const el = useChart((chart) => {
    const series = chart.addSeries(CandlestickSeries, { upColor: '#26a69a', downColor: '#ef5350', wickUpColor: '#26a69a', wickDownColor: '#ef5350', borderVisible: false });
    series.setData(ascending(candles.map((c) => ({ time: seconds(c.timestamp), open: c.open, high: c.high, low: c.low, close: c.close }))));
    const shown: SeriesMarker<Time>[] = ascending(markers.map((m) => ({ ...m, time: seconds(m.timestamp) }))).map((m) => ({
      time: m.time,
      position: m.kind === 'long' || m.kind === 'buy' ? 'belowBar' : 'aboveBar',
      shape: m.kind === 'long' ? 'arrowUp' : m.kind === 'short' ? 'arrowDown' : 'circle',
      color: m.kind === 'long' || m.kind === 'buy' ? '#26a69a' : '#ef5350',
      text: m.text,
    }));
    createSeriesMarkers(series, shown);
    for (const l of levels) series.createPriceLine({ price: l.price, color: l.color, lineStyle: 2, lineWidth: 1, axisLabelVisible: true, title: l.title });
  }, [candles, markers, levels]);
  return <div class="chart" ref={el} role="img" aria-label={label} />;
}
