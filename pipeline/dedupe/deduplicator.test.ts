import { describe, expect, it } from 'vitest';
import { Deduplicator } from './deduplicator.ts';

describe('Deduplicator', () => {
  it('drops a key seen again within the window, and only then', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 1_000 });
    // Act / Assess
    expect(d.isDuplicate('a', 0)).toBe(false);
    expect(d.isDuplicate('a', 999)).toBe(true);
    expect(d.isDuplicate('b', 999)).toBe(false);
    expect(d.isDuplicate('a', 1_000)).toBe(false); // window over: a new first sighting
    expect(d.isDuplicate('a', 1_500)).toBe(true);
  });

  it('measures the window from the first sighting, not the latest duplicate', () => {
    const d = new Deduplicator({ windowMs: 1_000 });
    d.isDuplicate('a', 0);
    d.isDuplicate('a', 900);
    expect(d.isDuplicate('a', 1_100)).toBe(false);
  });

  it('treats an earlier time than the first sighting (another shard) as within the window', () => {
    const d = new Deduplicator({ windowMs: 1_000 });
    d.isDuplicate('a', 5_000);
    expect(d.isDuplicate('a', 4_900)).toBe(true);
  });

  it('never remembers more than maxKeys, forgetting the oldest first', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 60_000, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd']) d.isDuplicate(k, 0);
    // Assess
    expect(d.size).toBe(3);
    expect(d.evicted).toBe(1);
    expect(d.isDuplicate('d', 1)).toBe(true);
    expect(d.isDuplicate('b', 1)).toBe(true);
    expect(d.isDuplicate('a', 1)).toBe(false); // forgotten
  });

  it('frees expired keys as time passes', () => {
    const d = new Deduplicator({ windowMs: 100 });
    for (let i = 0; i < 5_000; i++) d.isDuplicate(`k${i}`, i);
    expect(d.size).toBeLessThan(100 + 1_100);
    expect(d.evicted).toBe(0);
  });

  it('forgets nothing early when expired keys can make room', () => {
    const d = new Deduplicator({ windowMs: 10, maxKeys: 2 });
    d.isDuplicate('a', 0);
    d.isDuplicate('b', 0);
    d.isDuplicate('c', 20);
    expect(d.evicted).toBe(0);
    expect(d.size).toBe(1);
  });

  it('with a zero window, nothing is a duplicate and nothing is kept', () => {
    const d = new Deduplicator({ windowMs: 0 });
    expect(d.isDuplicate('a', 0)).toBe(false);
    expect(d.isDuplicate('a', 0)).toBe(false);
    expect(d.size).toBe(0);
  });

  it('refuses nonsensical options', () => {
    expect(() => new Deduplicator({ windowMs: -1 })).toThrow(RangeError);
    expect(() => new Deduplicator({ windowMs: 1, maxKeys: 0 })).toThrow(RangeError);
  });
});
