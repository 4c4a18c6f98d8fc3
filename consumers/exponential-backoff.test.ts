import { describe, expect, it } from 'vitest';
import { ExponentialBackoff } from './exponential-backoff.ts';

describe('ExponentialBackoff', () => {
  it('doubles the window per failure up to the cap', () => {
    // Prepare
    const backoff = new ExponentialBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0.5 });

    // Act
    const delays = Array.from({ length: 6 }, () => backoff.next());

    // Assess
    expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoff.attempts).toBe(6);
  });

  it('draws each delay from the whole window (full jitter)', () => {
    // Prepare
    const low = new ExponentialBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0 });
    const high = new ExponentialBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0.9999 });

    // Act
    const lows = [low.next(), low.next(), low.next()];
    const highs = [high.next(), high.next(), high.next()];

    // Assess
    expect(lows).toEqual([0, 0, 0]);
    expect(highs).toEqual([99, 199, 399]);
  });

  it('starts over after reset', () => {
    // Prepare
    const backoff = new ExponentialBackoff({ baseMs: 100, maxMs: 10_000, random: () => 0.5 });
    backoff.next();
    backoff.next();

    // Act
    backoff.reset();

    // Assess
    expect(backoff.next()).toBe(50);
  });

  it('stays at the cap after very many failures', () => {
    // Prepare
    const backoff = new ExponentialBackoff({ baseMs: 100, maxMs: 30_000, random: () => 0.5 });

    // Act
    for (let i = 0; i < 5_000; i++) backoff.next();

    // Assess
    expect(backoff.next()).toBe(15_000);
  });
});
