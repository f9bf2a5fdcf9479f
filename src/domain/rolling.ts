/**
 * Incremental building blocks shared by the indicators, the strategies and the backtest engine:
 * O(1) work per new value, state in typed arrays, no objects per value.
 */

/**
 * A running sum carried as an unevaluated pair (hi + lo) with error-free additions: `value` is the
 * exactly rounded sum of what was added (and taken away), whatever the order. Values of a like
 * magnitude (prices, returns) keep the pair exact.
 */
export class ExactSum {
  private hi = 0;
  private lo = 0;

  get value(): number {
    return this.hi + this.lo;
  }

  // Knuth's TwoSum, then a renormalisation that keeps |lo| ≤ ½ ulp(hi).
  add(x: number): void {
    const s = this.hi + x;
    const v = s - this.hi;
    const e = (this.hi - (s - v)) + (x - v) + this.lo;
    this.hi = s + e;
    this.lo = e - (this.hi - s);
  }

  /** The value after `add(x)`, the sum left as it is. */
  plus(x: number): number {
    const s = this.hi + x;
    const v = s - this.hi;
    const e = (this.hi - (s - v)) + (x - v) + this.lo;
    const hi = s + e;
    return hi + (e - (hi - s));
  }
}

/** A ring of `length` values for a rolling window; `what` names the length in the error. */
function ringOf(length: number, what: string): Float64Array {
  if (!(Number.isInteger(length) && length > 0)) throw new Error(`${what} must be a positive integer, got ${length}`);
  return new Float64Array(length);
}

/**
 * Sum of the last `period` values, updated in O(1), as an exact sum: `sum` is the exactly rounded
 * sum of the window whatever came before it, so a stream fed years of bars and a fresh one fed only
 * the window agree to the bit. That is what lets a long backtest and a live run (which loads only
 * the window) decide alike. Values must be finite: one NaN would stay in the sum for good.
 */
export class RollingSum {
  private readonly ring: Float64Array;
  private head = 0;
  private filled = 0;
  private readonly total = new ExactSum();

  constructor(readonly period: number) {
    this.ring = ringOf(period, 'period');
  }

  push(x: number): void {
    if (this.filled === this.period) {
      const old = this.ring[this.head];
      // Within a factor of two of each other, as neighbouring prices are, x − old is exact (Sterbenz's
      // lemma): one exact step for the same sum, where two steps of a dependent chain took ~25 % longer.
      if (old / 2 <= x && x <= 2 * old) this.total.add(x - old);
      else {
        this.total.add(-old);
        this.total.add(x);
      }
    } else {
      this.filled += 1;
      this.total.add(x);
    }
    this.ring[this.head] = x;
    this.head = this.head + 1 === this.period ? 0 : this.head + 1;
  }

  /** True once `period` values are in the window. */
  get full(): boolean {
    return this.filled === this.period;
  }

  get sum(): number {
    return this.total.value;
  }
}

/** Sample standard deviation (n−1) from the sum and the sum of squares of n values, times √annualization. */
export function sampleDeviation(n: number, sum: number, sumOfSquares: number, annualization = 1): number {
  const variance = (sumOfSquares - (sum * sum) / n) / (n - 1);
  return Math.sqrt(Math.max(variance, 0) * annualization);
}

/** Pearson correlation from the sums of n pairs; NaN when a side does not vary. */
export function pearsonFromSums(n: number, sx: number, sy: number, sxx: number, syy: number, sxy: number): number {
  const cov = sxy - (sx * sy) / n;
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  return vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : Number.NaN;
}

/** The last `capacity` values of a stream; `back(0)` is the newest. */
export class RingBuffer {
  private readonly values: Float64Array;
  private head = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
  }

  push(x: number): void {
    this.values[this.head] = x;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.count < this.capacity) this.count += 1;
  }

  /** The value `k` steps back (0 = newest); k must be < count. */
  back(k: number): number {
    const i = this.head - 1 - k;
    return this.values[i < 0 ? i + this.capacity : i];
  }

  /**
   * Whether more than `share` of the held values are at or below `x` (in any order), read 32 at a
   * time and given up once too many are not: ranking a middling value among a year of them reads
   * about half.
   */
  mostAtOrBelow(x: number, share: number): boolean {
    let notBelow = 0;
    for (let from = 0; from < this.count; from += 32) {
      const to = Math.min(this.count, from + 32);
      // The comparison added as a number, not branched on: over values in no order a branch is a
      // coin toss the CPU mispredicts half the time (twice as slow, measured on 365 volatilities).
      for (let k = from; k < to; k++) notBelow += Number(!(this.values[k] <= x));
      if (!((this.count - notBelow) / this.count > share)) return false;
    }
    return (this.count - notBelow) / this.count > share;
  }

  /** Copies the held values, oldest first, into `out` (at least `count` long); returns how many. */
  copyTo(out: Float64Array): number {
    for (let k = 0; k < this.count; k++) out[k] = this.back(this.count - 1 - k);
    return this.count;
  }
}

/**
 * Sample standard deviation (n−1) of the last `window` values, times √annualization: NaN until full.
 * One ring of values and two exact sums (the values, their squares): a square leaving the window is
 * computed again from its value, the same double as when it came in.
 */
export class RollingVolatility {
  private readonly ring: Float64Array;
  private head = 0;
  private filled = 0;
  private readonly sum = new ExactSum();
  private readonly sumOfSquares = new ExactSum();

  constructor(readonly window: number, private readonly annualization = 1) {
    this.ring = ringOf(window, 'window');
  }

  push(x: number): number {
    const h = this.head;
    if (this.filled === this.window) {
      const old = this.ring[h];
      this.sum.add(-old);
      this.sumOfSquares.add(-(old * old));
    } else {
      this.filled += 1;
    }
    this.sum.add(x);
    this.sumOfSquares.add(x * x);
    this.ring[h] = x;
    this.head = h + 1 === this.window ? 0 : h + 1;
    if (this.filled !== this.window) return Number.NaN;
    return sampleDeviation(this.window, this.sum.value, this.sumOfSquares.value, this.annualization);
  }
}

/**
 * Realised volatility of log returns, close by close: keeps the last `closesKept` closes and pushes
 * each volatility value into `volatilities` (the window a percentile ranks against: a `SortedWindow`
 * when a rank is read at every close, a `RingBuffer` when it is read rarely).
 */
export class ReturnVolatility<Kept extends { push(x: number): void } = SortedWindow> {
  readonly closes: RingBuffer;
  private readonly volatility: RollingVolatility;
  seen = 0;

  constructor(window: number, readonly volatilities: Kept, closesKept: number, annualization = 1) {
    this.closes = new RingBuffer(closesKept);
    this.volatility = new RollingVolatility(window, annualization);
  }

  push(close: number): void {
    if (this.seen > 0) {
      const vol = this.volatility.push(Math.log(close / this.closes.back(0)));
      if (!Number.isNaN(vol)) this.volatilities.push(vol);
    }
    this.closes.push(close);
    this.seen += 1;
  }
}

/**
 * Pearson correlation of the last `window` (x, y) pairs from five exact sums (x, y, x², y², xy), so
 * a stream fed years of pairs and a fresh one fed only the window give the same number to the bit.
 * NaN while the window is not full or a side does not vary. Values must be finite. The pairs are
 * kept in two rings and the terms leaving the window computed again from them (the same doubles as
 * when they came in). A pair's five terms go through a typed array to one loop over the sums: five
 * rolling sums each took their term across a call, which V8 boxed (~90 MB of garbage in the ten-coin
 * ensemble's replay), and ten calls written out did not all fit V8's inlining budget either.
 */
export class RollingPearson {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private head = 0;
  private filled = 0;
  private readonly sums = [new ExactSum(), new ExactSum(), new ExactSum(), new ExactSum(), new ExactSum()];
  private readonly terms = new Float64Array(5);

  constructor(readonly window: number) {
    this.xs = ringOf(window, 'window');
    this.ys = ringOf(window, 'window');
  }

  push(x: number, y: number): void {
    const h = this.head;
    if (this.filled === this.window) {
      this.setTerms(this.xs[h], this.ys[h]);
      for (let k = 0; k < 5; k++) this.sums[k].add(-this.terms[k]);
    } else {
      this.filled += 1;
    }
    this.setTerms(x, y);
    for (let k = 0; k < 5; k++) this.sums[k].add(this.terms[k]);
    this.xs[h] = x;
    this.ys[h] = y;
    this.head = h + 1 === this.window ? 0 : h + 1;
  }

  private setTerms(x: number, y: number): void {
    const t = this.terms;
    t[0] = x;
    t[1] = y;
    t[2] = x * x;
    t[3] = y * y;
    t[4] = x * y;
  }

  get full(): boolean {
    return this.filled === this.window;
  }

  get value(): number {
    if (!this.full) return Number.NaN;
    const s = this.sums;
    return pearsonFromSums(this.window, s[0].value, s[1].value, s[2].value, s[3].value, s[4].value);
  }
}

/** The highest of the last `window` values in amortised O(1): a monotonic deque in typed arrays. */
export class RollingMax {
  private readonly values: Float64Array;
  private readonly seq: Float64Array;
  private head = 0;
  private size = 0;
  private pushed = 0;

  constructor(readonly window: number) {
    this.values = new Float64Array(window);
    this.seq = new Float64Array(window);
  }

  push(x: number): void {
    const cap = this.window;
    // Values that can never be the maximum again (older and not higher) leave from the back.
    while (this.size > 0 && this.values[(this.head + this.size - 1) % cap] <= x) this.size -= 1;
    if (this.size > 0 && this.seq[this.head] <= this.pushed - cap) {
      this.head = (this.head + 1) % cap;
      this.size -= 1;
    }
    const at = (this.head + this.size) % cap;
    this.values[at] = x;
    this.seq[at] = this.pushed;
    this.size += 1;
    this.pushed += 1;
  }

  /** The maximum of the window (of what was pushed, before it is full). */
  get max(): number {
    return this.size === 0 ? Number.NaN : this.values[this.head];
  }
}

/**
 * The last `window` values of a stream kept sorted as well, for order statistics: how many are at
 * or below a value in O(log window), and a push (the oldest value leaving) by binary searches and
 * one block move. NaN values take their place in the window but are left out of the counting.
 */
export class SortedWindow {
  private readonly recent: RingBuffer;
  private readonly sorted: Float64Array;
  /** Numbers (not NaN) in the window. */
  size = 0;

  constructor(readonly window: number) {
    this.recent = new RingBuffer(window);
    this.sorted = new Float64Array(window);
  }

  push(x: number): void {
    const leaving = this.recent.count === this.window ? this.recent.back(this.window - 1) : Number.NaN;
    this.recent.push(x);
    if (Number.isNaN(x)) {
      if (!Number.isNaN(leaving)) this.remove(leaving);
      return;
    }
    const { sorted } = this;
    if (Number.isNaN(leaving)) {
      const at = this.upperBound(x);
      sorted.copyWithin(at + 1, at, this.size);
      sorted[at] = x;
      this.size += 1;
      return;
    }
    // The oldest value leaves and the newest takes its place in one move: only the values ranked
    // between the two shift, by one (a third of the window on average, where a removal and an
    // insert each moved everything above their place).
    const from = this.upperBound(leaving) - 1;
    const to = this.upperBound(x);
    if (to > from) {
      sorted.copyWithin(from, from + 1, to);
      sorted[to - 1] = x;
    } else {
      sorted.copyWithin(to + 1, to, from);
      sorted[to] = x;
    }
  }

  /** Values pushed that are still in the window, NaN included. */
  get count(): number {
    return this.recent.count;
  }

  /** The newest value. */
  get last(): number {
    return this.recent.back(0);
  }

  /** How many numbers of the window are at or below `x`. */
  countAtOrBelow(x: number): number {
    return this.upperBound(x);
  }

  /** The `k`-th smallest number of the window (0: the smallest). */
  nth(k: number): number {
    return this.sorted[k];
  }

  private remove(x: number): void {
    const at = this.upperBound(x) - 1;
    this.sorted.copyWithin(at, at + 1, this.size);
    this.size -= 1;
  }

  private upperBound(x: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
