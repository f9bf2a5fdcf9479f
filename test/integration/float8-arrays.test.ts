import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { float8Array, float8Count, readFloat8Array } from '../../src/db/float8-arrays';
import { testDatabase } from '../support/db';

const handle = testDatabase();
afterAll(() => handle.close());

/** What Postgres makes of a parameter: its element count, the elements as text, and the array sent back in binary. */
async function throughPostgres(values: number[]) {
  const { rows } = await handle.db.execute<{ n: number; text: string; packed: Buffer }>(sql`
    SELECT cardinality(a) AS n, a::text AS text, array_send(a) AS packed FROM (SELECT ${float8Array(values)} AS a) p`);
  return rows[0];
}

describe('float8 arrays sent in binary', () => {
  it('are read by Postgres as the same doubles, and read back to the bit', async () => {
    const doubles = fc.oneof(fc.double(), fc.constantFrom(-0, 5e-324, 1.7976931348623157e308, Number.NaN, Infinity, -Infinity, 0.1 + 0.2));
    await fc.assert(fc.asyncProperty(fc.array(doubles, { maxLength: 300 }), async (values) => {
      const { n, packed } = await throughPostgres(values);
      expect(n).toBe(values.length);
      expect(float8Count(packed)).toBe(values.length);
      const back = new Float64Array(values.length);
      readFloat8Array(packed, back, 0);
      // toEqual tells −0 from 0 and takes NaN as NaN.
      expect(Array.from(back)).toEqual(values);
    }), { numRuns: 60 });
  });

  it('keeps the order and values Postgres prints, an empty array included', async () => {
    expect((await throughPostgres([1.5, -2, 3e10, Number.NaN])).text).toBe('{1.5,-2,30000000000,NaN}');
    expect(await throughPostgres([])).toMatchObject({ n: 0, text: '{}' });
  });
});
