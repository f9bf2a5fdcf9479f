/**
 * Loops over millions of points as calls on chunks of them. V8 optimises a function called this
 * often as a whole, its running values kept in registers between the chunk's ends; one loop over
 * millions of points ran on code compiled while it ran (on-stack replacement), which boxed each
 * running double (an allocation a point) or, kept in a typed array, sent it through memory at
 * every point: about twice as slow either way, measured on the metrics' passes.
 */
export const CHUNK = 4096;

/** Calls `pass` on [from, to) chunks covering [0, length), in order. */
export function forEachChunk(length: number, pass: (from: number, to: number) => void) {
  for (let from = 0; from < length; from += CHUNK) pass(from, Math.min(length, from + CHUNK));
}
