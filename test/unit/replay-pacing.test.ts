import { describe, expect, it } from 'vitest';
import { REPLAY_SLICE_BARS, replayPacing } from '../../src/activities/replay-pacing';

/**
 * A replay of `slices` slices on a clock that moves `msOf(k)` while slice k replays; which chunks
 * end in a report, by the number of slices done when each chunk ended.
 */
function reportsOf(opts: {
  slices: number;
  msOf: (slice: number) => number;
  doneSlices?: number;
  reported?: boolean;
  chunkBars?: number;
}) {
  const sliceBars = opts.chunkBars ?? REPLAY_SLICE_BARS;
  const totalBars = opts.slices * sliceBars;
  let clock = 0;
  let done = (opts.doneSlices ?? 0) * sliceBars;
  const pacing = replayPacing({
    totalBars, doneBars: done, chunkBars: opts.chunkBars, reported: opts.reported ?? false, now: () => clock,
  });
  expect(pacing.sliceBars).toBe(sliceBars);
  const chunks: Array<{ slices: number; reports: boolean }> = [];
  while (done < totalBars) {
    const reports = pacing.chunk(() => {
      clock += opts.msOf(done / sliceBars);
      done += sliceBars;
      return done;
    });
    chunks.push({ slices: done / sliceBars, reports });
  }
  return chunks;
}

describe('replay pacing', () => {
  it('reports after each second of replay, its last chunk too', () => {
    // 300 ms a slice: a chunk is four slices (1.2 s); 2.4 s of replay left after the first.
    expect(reportsOf({ slices: 12, msOf: () => 300 })).toEqual([
      { slices: 4, reports: true }, { slices: 8, reports: true }, { slices: 12, reports: true },
    ]);
  });

  it('never reports a run that ends within its first chunk', () => {
    expect(reportsOf({ slices: 3, msOf: () => 300 })).toEqual([{ slices: 3, reports: false }]);
  });

  it('does not report after a first chunk that shows the rest takes less than another', () => {
    // After 1.2 s, three slices left: 0.9 s expected; the run ends after its next chunk.
    expect(reportsOf({ slices: 7, msOf: () => 300 })).toEqual([{ slices: 4, reports: false }, { slices: 7, reports: false }]);
    // Four left: 1.2 s expected, reported.
    expect(reportsOf({ slices: 8, msOf: () => 300 })[0]).toEqual({ slices: 4, reports: true });
  });

  it('reports after its second chunk when the first one misjudged the rest', () => {
    // Fast slices first (20 of them in the first second: three left, 0.15 s expected), then slow
    // ones: two in the next chunk, which reports though one slice (0.6 s) is left.
    expect(reportsOf({ slices: 23, msOf: (k) => (k < 20 ? 50 : 600) })).toEqual([
      { slices: 20, reports: false }, { slices: 22, reports: true }, { slices: 23, reports: true },
    ]);
  });

  it('reports after every chunk of a resumed run, which reported before replaying', () => {
    // Four slices from its checkpoint, then one left (0.3 s): reported all the same.
    expect(reportsOf({ slices: 8, doneSlices: 3, reported: true, msOf: () => 300 })).toEqual([
      { slices: 7, reports: true }, { slices: 8, reports: true },
    ]);
    expect(reportsOf({ slices: 12, doneSlices: 4, reported: true, msOf: () => 300 })).toEqual([
      { slices: 8, reports: true }, { slices: 12, reports: true },
    ]);
  });

  it('reports after every chunk of bars a request sets, whatever the clock says', () => {
    expect(reportsOf({ slices: 3, chunkBars: 100, msOf: () => 1 })).toEqual([
      { slices: 1, reports: true }, { slices: 2, reports: true }, { slices: 3, reports: true },
    ]);
  });
});
