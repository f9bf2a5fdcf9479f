import { describe, expect, it } from 'vitest';
import { fillMacroGaps } from '../../src/domain/macro';

describe('fillMacroGaps', () => {
  it('forward-fills "." from the last value and flags it, never storing a zero', () => {
    const out = fillMacroGaps('VIXCLS', [
      { date: '2025-01-02', value: '17.93' },
      { date: '2025-01-03', value: '.' },
      { date: '2025-01-06', value: '.' },
      { date: '2025-01-07', value: '17.82' },
    ]);
    expect(out).toEqual([
      { date: '2025-01-02', value: 17.93, isForwardFilled: false, isInterpolated: false },
      { date: '2025-01-03', value: 17.93, isForwardFilled: true, isInterpolated: false },
      { date: '2025-01-06', value: 17.93, isForwardFilled: true, isInterpolated: false },
      { date: '2025-01-07', value: 17.82, isForwardFilled: false, isInterpolated: false },
    ]);
  });

  it('uses the last stored value for a leading gap, and drops one with nothing before it', () => {
    const raw = [{ date: '2025-01-03', value: '.' }, { date: '2025-01-06', value: '4.1' }];
    expect(fillMacroGaps('DGS10', raw)[0]).toEqual({ date: '2025-01-06', value: 4.1, isForwardFilled: false, isInterpolated: false });
    expect(fillMacroGaps('DGS10', raw, { date: '2025-01-02', value: 4.0 })[0]).toEqual({ date: '2025-01-03', value: 4.0, isForwardFilled: true, isInterpolated: false });
  });

  it('rejects a value that is neither a number nor ".", naming the date', () => {
    expect(() => fillMacroGaps('DFF', [{ date: '2025-01-02', value: 'n/a' }])).toThrow('DFF: observation value on 2025-01-02 is not a number ("n/a")');
  });
});
