/**
 * A backtest's equity values, a point per close, in blocks of `CHUNK` points (the metrics' chunks).
 * A block whose points all hold one value keeps that value alone: a flat book's stretch, which is
 * most of a long backtest's curve (the shipped SMA's book is flat at 99 % of its closes, and once its
 * drawdown limit refuses every trade, at all of them). Its points are never written, to fresh memory
 * or any: on the machine measured, a fresh page cost ~10 µs at its first write, and the 38 MiB
 * column of the shipped SMA's 5 M points was ~20 % of that run. Points read back bit for bit as
 * written (zeros and NaN are written as they are: equal values are the same bits for the others).
 */

import { CHUNK } from './chunks';

const SHIFT = Math.log2(CHUNK);
const MASK = CHUNK - 1;

/** A value a flat block can keep alone: equal comparison says it is the same bits. */
const keepsAlone = (value: number) => value !== 0 && value === value;

export class CurveValues implements Iterable<number> {
  /** The sealed blocks, in order: CHUNK points each, or the one value of all of them. */
  private readonly blocks: Array<Float64Array | number> = [];
  /** The block being written: points `blocks.length * CHUNK` to `length`. */
  private open = new Float64Array(CHUNK);
  /**
   * While every point of the open block so far holds one value (`flatValue`), how many there are:
   * none of them is written until a point differs (then they are, and this is 0). A flat block is
   * never written.
   */
  private unwritten = 0;
  private flatValue = Number.NaN;
  /** A flat block's points laid out for a reader of chunks (`chunk`). */
  private readonly flatView = new Float64Array(CHUNK);
  length = 0;

  /** A copy of `values`. */
  static of(values: ArrayLike<number>): CurveValues {
    const curve = new CurveValues();
    curve.append(values);
    return curve;
  }

  push(value: number) {
    this.pushRepeated(value, 1);
  }

  /** Adds `count` points of `value`. */
  pushRepeated(value: number, count: number) {
    let left = count;
    while (left > 0) {
      const at = this.length & MASK;
      const n = Math.min(left, CHUNK - at);
      if (this.unwritten === at && (at === 0 ? keepsAlone(value) : value === this.flatValue)) {
        this.flatValue = value;
        this.unwritten = at + n;
      } else {
        this.writeFlat();
        this.open.fill(value, at, at + n);
      }
      this.length += n;
      left -= n;
      if (at + n === CHUNK) this.seal();
    }
  }

  append(values: ArrayLike<number>) {
    for (let i = 0; i < values.length; i++) this.push(values[i]);
  }

  /** Point `i`; a negative `i` counts from the end (as `Array.prototype.at`). */
  at(i: number): number | undefined {
    const k = i < 0 ? this.length + i : i;
    if (!(k >= 0 && k < this.length)) return undefined;
    const block = this.blockAt(k >> SHIFT);
    return typeof block === 'number' ? block : block[k & MASK];
  }

  /** Sets the last point (a backtest's close-out revalues it). */
  setLast(value: number) {
    const k = this.length - 1;
    if (k < 0) throw new RangeError('an empty curve has no last point');
    const b = k >> SHIFT;
    if (b === this.blocks.length) {
      if (this.unwritten && value === this.flatValue) return;
      this.writeFlat();
      this.open[k & MASK] = value;
      return;
    }
    const block = this.blocks[b];
    if (block === value) return;
    const points = typeof block === 'number' ? new Float64Array(CHUNK).fill(block) : block;
    points[k & MASK] = value;
    this.blocks[b] = points;
  }

  /**
   * The points of the chunk starting at `from` (a multiple of CHUNK) as the array's first ones, up to
   * CHUNK of them (only those below `length` are the curve's). A flat block's are laid out in one
   * array the curve reuses: read them before asking for another chunk.
   */
  chunk(from: number): Float64Array {
    const block = this.blockAt(from >> SHIFT);
    return typeof block === 'number' ? this.flatView.fill(block) : block;
  }

  /** The one value of the chunk starting at `from` (a multiple of CHUNK) when it is a flat block, none of it written. */
  flatAt(from: number): number | undefined {
    const block = this.blockAt(from >> SHIFT);
    return typeof block === 'number' ? block : undefined;
  }

  /** Points `from` to `to` (not included) in a new array. */
  slice(from = 0, to = this.length): Float64Array {
    const [start, end] = [Math.max(0, from), Math.min(this.length, to)];
    const out = new Float64Array(Math.max(0, end - start));
    for (let at = start; at < end; at = ((at >> SHIFT) + 1) << SHIFT) {
      const chunkFrom = at & ~MASK;
      const stop = Math.min(end, chunkFrom + CHUNK);
      const block = this.blockAt(at >> SHIFT);
      if (typeof block === 'number') out.fill(block, at - start, stop - start);
      else out.set(block.subarray(at - chunkFrom, stop - chunkFrom), at - start);
    }
    return out;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  /** Block `b`, the open one included: its one value while it is flat so far, else its column. */
  private blockAt(b: number): Float64Array | number {
    if (b < this.blocks.length) return this.blocks[b];
    return this.unwritten ? this.flatValue : this.open;
  }

  /** Writes the open block's flat points, before one that differs is written: it is not flat any more. */
  private writeFlat() {
    if (this.unwritten) this.open.fill(this.flatValue, 0, this.unwritten);
    this.unwritten = 0;
  }

  /** Files the open block, now full: as its one value when it is flat, else as it is. */
  private seal() {
    if (this.unwritten === CHUNK) this.blocks.push(this.flatValue);
    else {
      this.blocks.push(this.open);
      this.open = new Float64Array(CHUNK);
    }
    this.unwritten = 0;
  }
}
