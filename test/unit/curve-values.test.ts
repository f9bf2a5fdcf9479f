import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK } from '../../src/domain/chunks';
import { CurveValues } from '../../src/domain/curve-values';
import { kthSmallestReturn, performanceMetrics } from '../../src/domain/metrics';

type Step = { kind: 'push'; value: number } | { kind: 'repeat'; value: number; count: number } | { kind: 'last'; value: number };

// Few distinct values, so that blocks seal flat; 0, -0 and NaN, which must come back as written.
const value = fc.constantFrom(100, 100.5, 99, 0, -0, Number.NaN, 1e-300);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), value }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('repeat' as const), value, count: fc.integer({ min: 0, max: 3 * CHUNK }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('last' as const), value }) },
);

/** The curve's points as written (the model), and the curve. */
function build(steps: Step[]): { model: number[]; curve: CurveValues } {
  const curve = new CurveValues();
  const model: number[] = [];
  for (const s of steps) {
    if (s.kind === 'push') {
      curve.push(s.value);
      model.push(s.value);
    } else if (s.kind === 'repeat') {
      curve.pushRepeated(s.value, s.count);
      for (let i = 0; i < s.count; i++) model.push(s.value);
    } else if (model.length) {
      curve.setLast(s.value);
      model[model.length - 1] = s.value;
    }
  }
  return { model, curve };
}

/** Bit for bit: Object.is tells 0 from -0 and NaN equals NaN. */
const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));

describe('a curve kept in blocks, flat ones as their value', () => {
  it('reads back every point as written, by point, by range, by chunk and in order, whatever was written (property)', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 40 }), fc.nat(), fc.nat(), (steps, a, b) => {
      const { model, curve } = build(steps);
      expect(curve.length).toBe(model.length);
      expect(same(Array.from(curve), model)).toBe(true);
      expect(same(curve.slice(), model)).toBe(true);
      const [from, to] = model.length ? [a % model.length, b % (model.length + 1)] : [0, 0];
      expect(same(curve.slice(from, to), model.slice(from, to))).toBe(true);
      expect(Object.is(curve.at(-1), model.at(-1))).toBe(true);
      for (let at = 0; at < model.length; at += CHUNK) {
        const chunk = curve.chunk(at);
        const end = Math.min(model.length, at + CHUNK);
        expect(same(chunk.subarray(0, end - at), model.slice(at, end))).toBe(true);
      }
    }), { numRuns: 300 });
  });

  it('keeps a flat block as its value: a stretch of millions of one value takes no column', () => {
    const before = process.memoryUsage().arrayBuffers;
    const curve = new CurveValues();
    curve.push(99);
    curve.pushRepeated(100, 5_000_000);
    curve.push(101);
    // Point by point, as a backtest marks a flat book at each close.
    for (let i = 0; i < 1_000_000; i++) curve.push(102);
    // In one column these points take 48 MB; here the blocks where the value changes and the open one.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    const read = [0, 1, 4_999_999, 5_000_000, 5_000_001, 6_000_001].map((i) => curve.at(i));
    expect(read).toEqual([99, 100, 100, 100, 101, 102]);
    expect(curve.at(6_000_002)).toBeUndefined();
  });

  it('revalues the last point of a flat block, and only that point', () => {
    const curve = new CurveValues();
    curve.pushRepeated(100, 2 * CHUNK);
    curve.setLast(7);
    expect([curve.at(0), curve.at(2 * CHUNK - 2), curve.at(2 * CHUNK - 1)]).toEqual([100, 100, 7]);
    expect(Array.from(curve.chunk(CHUNK).subarray(CHUNK - 2))).toEqual([100, 7]);
  });
});

describe('the metrics of a curve kept in blocks', () => {
  // Flat stretches (whole blocks, and across block ends) between stretches that move, as a backtest's.
  const moves = fc.array(fc.oneof(
    fc.record({ flat: fc.integer({ min: 1, max: 3 * CHUNK }), level: fc.double({ min: 50, max: 200, noNaN: true }) }),
    fc.record({ flat: fc.constant(0), level: fc.double({ min: 50, max: 200, noNaN: true }) }),
  ), { minLength: 1, maxLength: 12 });

  it('date a fall from the last point at the peak when flat blocks meet at a block end, by hand', () => {
    // Block 0 at 100 (the peak), block 1 at 90, then back to 100: under the peak from point CHUNK
    // to 2·CHUNK − 1, i.e. from the peak's last point, CHUNK − 1, for CHUNK hours; a fall of 10 %.
    const curve = new CurveValues();
    curve.pushRepeated(100, CHUNK);
    curve.pushRepeated(90, CHUNK);
    curve.pushRepeated(100, CHUNK);
    const hour = 3_600_000;
    const time = Array.from({ length: 3 * CHUNK }, (_, i) => i * hour);
    const m = performanceMetrics({ time, equity: curve }, [], { periodsPerYear: 8760 });
    expect(m.maxDrawdownDurationMs).toBe(CHUNK * hour);
    expect(m.maxDrawdown).toBe(10);
    expect(m.maxDrawdownPct).toBe(0.1);
    // Two returns are not zero: −10 % and back, +1/9.
    expect(m.periods).toBe(3 * CHUNK - 1);
    expect(m.totalReturn).toBe(0);
    expect(m.var95).toBeCloseTo(0, 15);
  });

  it('rank a flat block\'s zeros among the returns on either side of them, by every path of the selection', () => {
    // A block of returns both ways, a flat block (its returns 0 after its first), then both ways again.
    const moving = (from: number) => Array.from({ length: CHUNK }, (_, i) => 100 + ((((from + i) * 7919) % 13) - 6));
    const points = [...moving(0), ...new Array<number>(CHUNK).fill(100), ...moving(CHUNK)];
    const curve = CurveValues.of(points);
    expect(curve.flatAt(CHUNK)).toBe(100);
    // Independently: every return from the points, sorted.
    const sorted = points.slice(1).map((p, i) => p / points[i] - 1).sort((a, b) => a - b);
    const firstZero = sorted.indexOf(0);
    const lastZero = sorted.lastIndexOf(0);
    expect(lastZero - firstZero + 1).toBeGreaterThanOrEqual(CHUNK - 1);
    for (const k of [firstZero - 1, firstZero, (firstZero + lastZero) >> 1, lastZero, lastZero + 1]) {
      for (const tuning of [undefined, { sortUpTo: 0, sampleSize: 64 }, { sortUpTo: 0, sampleSize: 0 }, { sortUpTo: Infinity, sampleSize: 0 }]) {
        expect(kthSmallestReturn(curve, undefined, k, tuning), `k ${k}, ${JSON.stringify(tuning)}`).toBe(sorted[k]);
      }
    }
  });

  it('are those of the same points in one column, to the bit, with or without a start point (property)', () => {
    fc.assert(fc.property(moves, fc.boolean(), (stretches, withStart) => {
      const curve = new CurveValues();
      const column: number[] = [];
      for (const { flat, level } of stretches) {
        if (flat) curve.pushRepeated(level, flat);
        else curve.push(level);
        for (let i = 0; i < Math.max(flat, 1); i++) column.push(level);
      }
      const time = column.map((_, i) => i * 3_600_000);
      const start = withStart ? { time: -1, equity: 100 } : undefined;
      const opts = { periodsPerYear: 8760, start };
      expect(performanceMetrics({ time, equity: curve }, [1, -2], opts)).toEqual(performanceMetrics({ time, equity: column }, [1, -2], opts));
      const n = column.length - (withStart ? 0 : 1);
      if (n > 0) {
        for (const k of [0, Math.floor(0.05 * (n - 1)), Math.floor(n / 2), n - 1]) {
          // Each path of the selection: a sorted copy, a sample's bracket, the radix select.
          for (const tuning of [undefined, { sortUpTo: 0, sampleSize: 64 }, { sortUpTo: 0, sampleSize: 0 }]) {
            expect(kthSmallestReturn(curve, start, k, tuning)).toBe(kthSmallestReturn(column, start, k, tuning));
          }
        }
      }
    }), { numRuns: 60 });
  });
});
