/**
 * One-dimensional float8 arrays in Postgres's binary form (what `array_send` writes and `array_recv`
 * reads): a 20-byte header (dimensions, null flag, element type, size, lower bound), then each
 * element as a 4-byte length and 8 big-endian bytes. Columns of numbers cross the wire as they are,
 * none printed or parsed on either side.
 */

/** Postgres's type OID of float8. */
const FLOAT8_OID = 701;
const HEADER_BYTES = 20;
const ELEMENT_BYTES = 12;

/**
 * A column as a binary float8[] parameter: node-postgres sends a Buffer parameter in binary, and a
 * statement that casts it (`$1::double precision[]`) has Postgres read it with `array_recv`.
 * Printing 57,000 doubles as array text cost the worker ~15 ms and Postgres ~30 ms to parse.
 */
export function float8ArrayParam(values: ArrayLike<number>): Buffer {
  const n = values.length;
  // An empty array has no dimension: its header ends after the element type.
  const packed = Buffer.allocUnsafe(n === 0 ? 12 : HEADER_BYTES + ELEMENT_BYTES * n);
  packed.writeInt32BE(n === 0 ? 0 : 1, 0);
  packed.writeInt32BE(0, 4);
  packed.writeInt32BE(FLOAT8_OID, 8);
  if (n === 0) return packed;
  packed.writeInt32BE(n, 12);
  packed.writeInt32BE(1, 16);
  for (let i = 0, byte = HEADER_BYTES; i < n; i++, byte += ELEMENT_BYTES) {
    packed.writeInt32BE(8, byte);
    packed.writeDoubleBE(values[i], byte + 4);
  }
  return packed;
}

/** The element count of a binary float8 array. */
export function float8Count(packed: Buffer): number {
  return packed.readInt32BE(0) === 0 ? 0 : packed.readInt32BE(12);
}

/** The elements of a binary float8 array into `target` from `at`, as many as fit. */
export function readFloat8Array(packed: Buffer, target: Float64Array, at: number): void {
  const n = Math.min(float8Count(packed), target.length - at);
  for (let i = 0, byte = HEADER_BYTES; i < n; i++, byte += ELEMENT_BYTES) {
    if (packed.readInt32BE(byte) !== 8) throw new Error('a stored array holds a NULL');
    target[at + i] = packed.readDoubleBE(byte + 4);
  }
}
