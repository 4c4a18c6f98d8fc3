import { describe, expect, it } from 'vitest';
import { HotCache, slotOf } from './hot-cache.ts';

describe('HotCache', () => {
  it('returns what was set for a key, and undefined for a key never set', () => {
    // Prepare
    const cache = new HotCache<number>(64);
    cache.set('api.example.com', 1);

    // Act
    const hit = cache.get('api.example.com');
    const miss = cache.get('other.example.com');

    // Assess
    expect(hit).toBe(1);
    expect(miss).toBeUndefined();
  });

  it('compares whole keys, so keys that share a slot never answer for each other', () => {
    // Prepare
    const cache = new HotCache<string>(2);
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`);

    // Act
    for (const key of keys) cache.set(key, key);

    // Assess
    for (const key of keys) expect([undefined, key]).toContain(cache.get(key));
    expect(cache.get(keys[99] as string)).toBe(keys[99]);
  });

  it('never answers for the empty key, which marks a free slot', () => {
    // Prepare
    const cache = new HotCache<number>(8);

    // Act
    const value = cache.get('');

    // Assess
    expect(value).toBeUndefined();
  });

  it('rejects a slot count that is not a power of two', () => {
    // Prepare
    const make = (): HotCache<number> => new HotCache<number>(1000);

    // Act / Assess
    expect(make).toThrow(RangeError);
  });

  it('hashes long keys by samples but still tells apart keys of one length', () => {
    // Prepare
    const a = `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/131.0.0.0 Mobile Safari/537.36`;
    const b = a.replace('131', '130');
    const cache = new HotCache<string>(1024);

    // Act
    cache.set(a, 'a');

    // Assess
    expect(slotOf(a)).toBe(slotOf(`${a}`));
    expect(cache.get(b)).toBeUndefined();
    expect(cache.get(a)).toBe('a');
  });
});
