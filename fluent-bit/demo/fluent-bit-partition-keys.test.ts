import { describe, expect, it } from 'vitest';
import { FluentBitPartitionKeys } from './fluent-bit-partition-keys.ts';

describe('FluentBitPartitionKeys', () => {
  it('looks like the captured keys: one 10-character prefix per instance, then digits', () => {
    // Prepare
    const keys = new FluentBitPartitionKeys(1);

    // Act
    const sample = Array.from({ length: 2_000 }, () => keys.next());

    // Assess
    for (const key of sample) expect(key).toMatch(/^[A-Za-z0-9]{10}\d{5,8}$/);
    expect(new Set(sample.map((k) => k.slice(0, 10))).size).toBe(1);
    expect(new Set(sample).size).toBeGreaterThan(1_500);
    expect(new FluentBitPartitionKeys(2).next().slice(0, 10)).not.toBe(sample[0]?.slice(0, 10));
  });
});
