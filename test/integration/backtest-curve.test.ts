import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { upsertCurve } from '../../src/db/backtests';
import { backtestEquity } from '../../src/db/schema';
import { testDatabase } from '../support/db';

const handle = testDatabase();
afterAll(() => handle.close());

const stored = (backtestId: string) =>
  handle.db.select({ time: backtestEquity.time, equity: backtestEquity.equity }).from(backtestEquity)
    .where(eq(backtestEquity.backtestId, backtestId)).orderBy(asc(backtestEquity.time));

describe('a backtest curve stored from the engine\'s columns', () => {
  it('reads back every point to the bit, whatever the double', async () => {
    const doubles = fc.oneof(
      fc.double(),
      fc.constantFrom(0.1 + 0.2, 1e-300, 5e-324, 123_456.789_012_345_68, 99_999.999_999_999_99, Number.NaN, Infinity, -Infinity),
    );
    await fc.assert(fc.asyncProperty(fc.array(doubles, { minLength: 1, maxLength: 200 }), async (values) => {
      const id = randomUUID();
      const time = Float64Array.from(values, (_, i) => Date.UTC(2026, 0, 1) + i * 3_600_000);
      await upsertCurve(handle.db, id, { time, equity: Float64Array.from(values) });
      const rows = await stored(id);
      expect(rows.map((r) => r.time)).toEqual(Array.from(time));
      // Bit for bit (NaN and the infinities included), but for −0, which JavaScript prints as 0.
      expect(rows.map((r) => r.equity)).toEqual(values.map((v) => (Object.is(v, -0) ? 0 : v)));
    }), { numRuns: 40 });
  });
});
