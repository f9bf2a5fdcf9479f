import { InvalidMarketDataError } from './candles';
import type { MacroObservation } from './types';

/** A raw observation as FRED sends it: value is a decimal string, or "." where the value is missing. */
export interface RawObservation {
  date: string;
  value: string;
}

/**
 * Turns FRED observations into stored values. A "." is a missing value, never a zero: it takes the
 * last known value (from this batch or `previous`, the last stored one) and is flagged forward-filled.
 * Missing values with nothing before them are dropped. A value that is neither "." nor a number is bad data.
 */
export function fillMacroGaps(
  indicator: string,
  raw: RawObservation[],
  previous?: { date: string; value: number },
): MacroObservation[] {
  const sorted = [...raw].sort((a, b) => a.date.localeCompare(b.date));
  let last = previous && sorted.length > 0 && previous.date < sorted[0].date ? previous.value : undefined;
  const out: MacroObservation[] = [];
  for (const obs of sorted) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(obs.date)) {
      throw new InvalidMarketDataError(`${indicator}: observation date "${obs.date}" is not YYYY-MM-DD`);
    }
    const text = obs.value.trim();
    if (text === '.' || text === '') {
      if (last !== undefined) out.push({ date: obs.date, value: last, isForwardFilled: true, isInterpolated: false });
      continue;
    }
    const value = Number(text);
    if (!Number.isFinite(value)) {
      throw new InvalidMarketDataError(`${indicator}: observation value on ${obs.date} is not a number ("${obs.value}")`);
    }
    last = value;
    out.push({ date: obs.date, value, isForwardFilled: false, isInterpolated: false });
  }
  return out;
}
