import { describe, expect, it } from 'vitest';
import { implausibleTime, TimeWindowConfig } from './plausible-time.ts';

const window = TimeWindowConfig.parse({});
const arrived = Date.parse('2026-11-29T12:00:00Z');
const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

describe('implausibleTime', () => {
  it('accepts times from 2000 up to a day after arrival', () => {
    expect(implausibleTime(micros('2000-01-01T00:00:00Z'), arrived, window)).toBeUndefined();
    expect(implausibleTime(micros('2025-01-15T10:00:00Z'), arrived, window)).toBeUndefined();
    expect(implausibleTime(micros('2026-11-30T11:59:59Z'), arrived, window)).toBeUndefined();
  });

  it('refuses epoch zero, year 0000 and far-future times, naming the setting', () => {
    expect(implausibleTime(0n, arrived, window)).toMatch(/validate\.time\.earliest/);
    expect(implausibleTime(micros('0000-01-01T00:00:00Z'), arrived, window)).toMatch(/before 2000/);
    expect(implausibleTime(micros('+275760-09-13T00:00:00Z'), arrived, window)).toMatch(
      /maxAheadOfArrivalMs/,
    );
    expect(implausibleTime(micros('2026-11-30T12:00:01Z'), arrived, window)).toMatch(/1440 min after/);
  });

  it('follows the configured window', () => {
    const strict = TimeWindowConfig.parse({ earliest: '2026-01-01T00:00:00Z', maxAheadOfArrivalMs: 60_000 });
    expect(implausibleTime(micros('2025-12-31T23:59:59Z'), arrived, strict)).toBeDefined();
    expect(implausibleTime(micros('2026-11-29T12:02:00Z'), arrived, strict)).toBeDefined();
    expect(implausibleTime(micros('2026-11-29T12:00:30Z'), arrived, strict)).toBeUndefined();
  });
});
