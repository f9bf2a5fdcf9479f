import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thinnedIndices } from '../../src/domain/thinning';

const values = fc.array(fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { maxLength: 400 });

describe('a curve thinned for a chart', () => {
  it('keeps, in time order, the first and last point and the lowest and highest value of every stretch, at most two a stretch', () => {
    fc.assert(fc.property(values, fc.integer({ min: 1, max: 60 }), (v, buckets) => {
      const kept = thinnedIndices(Float64Array.from(v), buckets);
      if (v.length <= 2 * buckets) {
        expect(kept).toEqual(v.map((_, i) => i));
        return;
      }
      expect(kept).toEqual([...new Set(kept)].sort((a, b) => a - b));
      expect(kept[0]).toBe(0);
      expect(kept.at(-1)).toBe(v.length - 1);
      const size = Math.ceil(v.length / buckets);
      const stretches = Math.ceil(v.length / size);
      expect(kept.length).toBeLessThanOrEqual(2 * stretches + 2);
      for (let start = 0; start < v.length; start += size) {
        const stretch = v.slice(start, start + size);
        const inStretch = kept.filter((i) => i >= start && i < start + size).map((i) => v[i]);
        expect(inStretch).toContain(Math.min(...stretch));
        expect(inStretch).toContain(Math.max(...stretch));
      }
    }), { numRuns: 2000 });
  });

});
