import { describe, expect, it } from 'vitest';
import { hashKey128 } from './key-hash.ts';
import { hashString, RowKeys } from './row-keys.ts';

/** Four words a key, as a record stage sends them. */
const hashesOf = (keys: readonly string[]): Int32Array => {
  const out = new Int32Array(4 * keys.length);
  for (const [i, k] of keys.entries()) hashKey128(k, 3, out.subarray(4 * i, 4 * i + 4));
  return out;
};

describe('RowKeys', () => {
  it('holds each row’s hash through growth, as a 32-digit string that tells keys apart', () => {
    // Prepare: more rows than the first allocation holds.
    const keys = Array.from({ length: 700 }, (_, i) => `7:project\u0000req-${i}\u0000${1_000 + i}`);
    const hashes = hashesOf(keys);
    const held = new RowKeys();
    // Act
    for (let i = 0; i < keys.length; i++) held.push(hashes, 4 * i);
    // Assess
    expect(held.length).toBe(700);
    const strings = keys.map((_, i) => held.key(i));
    expect(new Set(strings).size).toBe(700);
    expect(strings[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(strings[699]).toBe(hashString(hashes, 4 * 699));
    expect(held.key(5)).toBe(hashString(hashesOf([keys[5]!]), 0));
  });

  it('forgets rows at given positions and keeps the others in order', () => {
    // Prepare
    const hashes = hashesOf(['a', 'b', 'c', 'd', 'e']);
    const held = new RowKeys();
    for (let i = 0; i < 5; i++) held.push(hashes, 4 * i);
    // Act
    held.remove([3, 0]);
    // Assess
    expect(held.length).toBe(3);
    expect([0, 1, 2].map((i) => held.key(i))).toEqual([1, 2, 4].map((i) => hashString(hashes, 4 * i)));
  });
});
