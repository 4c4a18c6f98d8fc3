import { describe, expect, it } from 'vitest';
import { LruCache } from './lru-cache.ts';

describe('LruCache', () => {
  it('keeps entries that are used and drops those unused for a whole generation', () => {
    // Prepare
    const cache = new LruCache<string, number>(4);
    cache.set('a', 1);
    cache.set('b', 2);

    // Act
    cache.get('a');
    cache.set('c', 3);
    cache.set('d', 4);

    // Assess
    expect(cache.get('d')).toBe(4);
    expect(cache.get('a')).toBe(1);
    expect(cache.get('b')).toBeUndefined();
  });

  it('never holds more than maxSize entries', () => {
    // Prepare
    const cache = new LruCache<number, number>(100);

    // Act
    for (let i = 0; i < 10_000; i++) {
      cache.set(i, i);
      cache.get(i >> 1);
    }

    // Assess
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(cache.get(9_999)).toBe(9_999);
  });

  it('overwrites the value of a key', () => {
    const cache = new LruCache<string, number>(10);
    cache.set('a', 1);
    cache.set('a', 10);
    expect(cache.get('a')).toBe(10);
  });

  it('refuses a size below 2 or not an integer', () => {
    expect(() => new LruCache(1)).toThrow(/at least 2/);
    expect(() => new LruCache(10.5)).toThrow(/at least 2/);
  });
});
