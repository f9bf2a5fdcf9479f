/** A checkpoint and a progress report about every second of replay by default. */
const REPORT_EVERY_MS = 1000;
/** Bars replayed between looks at the clock: a few milliseconds of work. */
export const REPLAY_SLICE_BARS = 5000;

export interface ReplayPacing {
  /** Bars a slice of replay takes. */
  readonly sliceBars: number;
  /** Whether the run has reported (a resumed run before its first chunk). */
  readonly reported: boolean;
  /**
   * Replays the next chunk, a slice at a time with `replaySlice` (which returns the bars done so
   * far), and says whether the run reports after it.
   */
  chunk(replaySlice: () => number): boolean;
}

/**
 * When a replay of `totalBars` reports (a database write, a heartbeat and a signal, a workflow
 * task): after each chunk of about `REPORT_EVERY_MS` of replay whatever the bars cost, or of
 * `chunkBars` bars when a request sets them. A run that ends within its first chunk never reports:
 * its result follows at once. Nor does one whose first chunk shows the rest will take less than
 * another chunk (a sweep's child of a second or two: a report cost it ~70 ms of Postgres and ~30 ms
 * of the Temporal server, on the cores the other children replay on); if it has not ended after its
 * next chunk, it reports then. A run that has reported reports its last chunk too, so its progress
 * reads complete.
 */
export function replayPacing(opts: {
  totalBars: number;
  /** Bars done before the first chunk (a resumed run's checkpoint). */
  doneBars: number;
  chunkBars?: number;
  /** A resumed run has reported before its first chunk. */
  reported: boolean;
  now?: () => number;
}): ReplayPacing {
  const { totalBars, chunkBars } = opts;
  const now = opts.now ?? Date.now;
  let { doneBars, reported } = opts;
  let firstChunk = true;
  return {
    sliceBars: chunkBars ?? REPLAY_SLICE_BARS,
    get reported() {
      return reported;
    },
    chunk(replaySlice) {
      const [started, before] = [now(), doneBars];
      do doneBars = replaySlice();
      while (chunkBars === undefined && doneBars < totalBars && now() - started < REPORT_EVERY_MS);
      const restMs = ((totalBars - doneBars) * (now() - started)) / (doneBars - before);
      const skipped =
        firstChunk && !reported && chunkBars === undefined && restMs < REPORT_EVERY_MS;
      firstChunk = false;
      if (doneBars === totalBars ? !reported : skipped) return false;
      reported = true;
      return true;
    },
  };
}
