import { describe, expect, it } from 'vitest';
import { lineChart } from '../../src/api/views/report';

describe('report charts', () => {
  it('draw a 200,000-point equity curve with at most two points per pixel column, keeping its trough and peak', () => {
    const points = Array.from({ length: 200_000 }, (_, i) => ({ t: i * 3_600_000, v: 1000 + (i === 123_457 ? -400 : i === 7 ? 900 : Math.sin(i / 5000) * 100) }));
    const svg = lineChart('Equity', points, { color: '#000', format: (v) => v.toFixed(0) });
    const drawn = svg.match(/points="([^"]*)"/)![1].split(' ');
    expect(drawn.length).toBeLessThanOrEqual(1800);
    expect(drawn.length).toBeGreaterThan(900);
    expect(svg).toContain('>1900<');
    expect(svg).toContain('>600<');
    // The trough is drawn at the bottom of the plot (y = 220 − 40).
    expect(drawn.some((p) => p.endsWith(',180.0'))).toBe(true);
  });
});
