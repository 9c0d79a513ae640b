import { describe, expect, it } from 'vitest';
import { resetDuration, windowAt } from './windows.ts';

const at = (iso: string) => Date.parse(iso);

describe('budget windows', () => {
  it('aligns minute, hour and day windows to UTC', () => {
    expect(windowAt('Minute', at('2026-11-27T10:15:42.5Z'))).toEqual({
      start: at('2026-11-27T10:15:00Z'),
      end: at('2026-11-27T10:16:00Z'),
    });
    expect(windowAt('Hour', at('2026-11-27T10:15:42Z'))).toEqual({
      start: at('2026-11-27T10:00:00Z'),
      end: at('2026-11-27T11:00:00Z'),
    });
    expect(windowAt('Day', at('2026-11-27T23:59:59Z'))).toEqual({
      start: at('2026-11-27T00:00:00Z'),
      end: at('2026-11-28T00:00:00Z'),
    });
  });

  it('uses calendar months, including leap February and the year end', () => {
    expect(windowAt('Month', at('2028-02-29T12:00:00Z'))).toEqual({
      start: at('2028-02-01T00:00:00Z'),
      end: at('2028-03-01T00:00:00Z'),
    });
    expect(windowAt('Month', at('2026-12-31T23:59:59Z'))).toEqual({
      start: at('2026-12-01T00:00:00Z'),
      end: at('2027-01-01T00:00:00Z'),
    });
    expect(windowAt('Month', at('2027-01-01T00:00:00Z')).start).toBe(at('2027-01-01T00:00:00Z'));
  });

  it('formats resets like OpenAI', () => {
    expect(resetDuration(360_000)).toBe('6m0s');
    expect(resetDuration(1500)).toBe('1.5s');
    expect(resetDuration(7_384_000)).toBe('2h3m4s');
    expect(resetDuration(-5)).toBe('0s');
  });
});
