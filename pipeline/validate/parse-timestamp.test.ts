import { describe, expect, it } from 'vitest';
import { parseTimestampMicros } from './parse-timestamp.ts';

const micros = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;

describe('parseTimestampMicros', () => {
  it('reads what Fluent Bit and apps write', () => {
    expect(parseTimestampMicros('2025-01-15T10:00:00.137Z')).toBe(micros('2025-01-15T10:00:00.137Z'));
    // Fluent Bit's default time_key_format: no fraction, no zone, meaning UTC
    expect(parseTimestampMicros('2025-01-15T10:00:00')).toBe(micros('2025-01-15T10:00:00Z'));
    expect(parseTimestampMicros('2025-01-15 10:00:00.5')).toBe(micros('2025-01-15T10:00:00.500Z'));
    expect(parseTimestampMicros('2025-01-15T10:00Z')).toBe(micros('2025-01-15T10:00:00Z'));
    expect(parseTimestampMicros('2025-01-15')).toBe(micros('2025-01-15T00:00:00Z'));
  });

  it('keeps microseconds and truncates finer digits', () => {
    expect(parseTimestampMicros('2025-01-15T10:00:00.123456Z')).toBe(
      micros('2025-01-15T10:00:00.123Z') + 456n,
    );
    expect(parseTimestampMicros('2025-01-15T10:00:00.123456789Z')).toBe(
      micros('2025-01-15T10:00:00.123Z') + 456n,
    );
    expect(parseTimestampMicros('2025-01-15T10:00:00,25Z')).toBe(micros('2025-01-15T10:00:00.250Z'));
  });

  it('applies zone offsets in every spelling', () => {
    const utc = micros('2025-01-15T04:30:00Z');
    expect(parseTimestampMicros('2025-01-15T10:00:00+05:30')).toBe(utc);
    expect(parseTimestampMicros('2025-01-15T10:00:00+0530')).toBe(utc);
    expect(parseTimestampMicros('2025-01-14T23:30:00-05')).toBe(utc);
  });

  it('agrees with Date.parse on dates across four centuries', () => {
    for (let ms = -2e12; ms < 1.2e13; ms += 7_777_777_777) {
      const iso = new Date(ms).toISOString();
      expect([iso, parseTimestampMicros(iso)]).toEqual([iso, BigInt(ms) * 1000n]);
    }
  });

  it('reads epoch milliseconds, with a fraction', () => {
    expect(parseTimestampMicros(1736935200137)).toBe(1736935200137000n);
    expect(parseTimestampMicros(1736935200137.25)).toBe(1736935200137250n);
    expect(parseTimestampMicros(0)).toBe(0n);
  });

  it('refuses what is not a real instant', () => {
    const bad: (string | number)[] = [
      '2025-02-29T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2025-04-31',
      '2025-01-15T24:00:00Z',
      '2025-01-15T10:60:00Z',
      '2025-01-15T10:00:60Z',
      '2025-01-15T10:00:00.Z',
      '2025-01-15T10:00:00+25:00',
      '2025-01-15T10:00:00 UTC',
      '2025-01-15T10',
      '2025/01/15 10:00:00',
      '15/01/2025',
      'yesterday!',
      '1736935200137',
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      9e15,
    ];
    for (const v of bad) expect([v, parseTimestampMicros(v)]).toEqual([v, undefined]);
  });

  it('accepts a leap day', () => {
    expect(parseTimestampMicros('2024-02-29T12:00:00Z')).toBe(micros('2024-02-29T12:00:00Z'));
    expect(parseTimestampMicros('2000-02-29')).toBe(micros('2000-02-29T00:00:00Z'));
  });
});
