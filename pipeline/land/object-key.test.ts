import { describe, expect, it } from 'vitest';
import { type BatchObjectKeyInput, batchObjectKey } from './object-key.ts';

const SEQ = '49590338271490256608559692538361571095921575989136588898';

const input = (overrides: Partial<BatchObjectKeyInput> = {}): BatchObjectKeyInput => ({
  table: 'requests',
  shardId: 'shardId-000000000001',
  firstSequence: SEQ,
  lastSequence: '49590338271490256608559692538361571095921575989136589999',
  time: new Date('2025-01-15T09:05:07.042Z'),
  ext: 'parquet',
  ...overrides,
});

describe('batchObjectKey', () => {
  it('builds the partitioned key from the batch time, shard and sequence range', () => {
    // Act
    const key = batchObjectKey(input());

    // Assess
    expect(key).toBe(
      `requests/dt=2025-01-15/hr=09/20250115T090507042Z-shardId-000000000001-${SEQ}-49590338271490256608559692538361571095921575989136589999.parquet`,
    );
  });

  it('is deterministic: the same batch gets the same key', () => {
    // Act
    const keys = [
      batchObjectKey(input()),
      batchObjectKey(input({ time: new Date(Date.UTC(2025, 0, 15, 9, 5, 7, 42)) })),
    ];

    // Assess
    expect(keys[0]).toBe(keys[1]);
  });

  it('sorts lexically in time order, across digit-count changes of every field', () => {
    // Prepare
    const times = [
      '2025-01-15T09:05:07.042Z',
      '2025-01-15T09:05:07.100Z',
      '2025-01-15T09:05:10.001Z',
      '2025-01-15T10:00:00.000Z',
      '2025-01-16T00:00:00.000Z',
      '2025-10-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
    ].map((t) => new Date(t));
    const keys = times.map((time, i) =>
      batchObjectKey(input({ time, shardId: `shardId-00000000000${(7 - i) % 3}` })),
    );

    // Act
    const sorted = [...keys].sort();

    // Assess
    expect(sorted).toEqual(keys);
  });

  it('orders keys of the same millisecond and shard by sequence number, whatever its length', () => {
    // Prepare
    const short = batchObjectKey(input({ firstSequence: '9', lastSequence: '99' }));
    const long = batchObjectKey(input({ firstSequence: '100', lastSequence: '200' }));

    // Act
    const sorted = [long, short].sort();

    // Assess
    expect(sorted).toEqual([short, long]);
    expect(short).toContain(`-${'9'.padStart(56, '0')}-${'99'.padStart(56, '0')}.parquet`);
  });

  it('tells apart two batches cut from one aggregated record by their sub-sequences', () => {
    // Act
    const a = batchObjectKey(input({ lastSequence: SEQ, firstSubSequence: 0, lastSubSequence: 499 }));
    const b = batchObjectKey(input({ lastSequence: SEQ, firstSubSequence: 500, lastSubSequence: 999 }));

    // Assess
    expect(a).not.toBe(b);
    expect([b, a].sort()).toEqual([a, b]);
    expect(a).toContain(`-${SEQ}_000000-${SEQ}_000499.parquet`);
  });

  it('names dead-letter files under their own table with their own extension', () => {
    // Act
    const key = batchObjectKey(input({ table: 'dead_letters', ext: 'jsonl' }));

    // Assess
    expect(key).toMatch(/^dead_letters\/dt=2025-01-15\/hr=09\/.*\.jsonl$/);
  });

  it.each([
    ['a table with a slash', { table: 'requests/x' }, /table/],
    ['a shard id with a slash', { shardId: 'shard/1' }, /shard id/],
    ['a sequence number that is not digits', { firstSequence: '12a' }, /first sequence/],
    ['an invalid date', { time: new Date('nope') }, /time/],
    ['an extension with a dot', { ext: '.parquet' }, /extension/],
    ['a negative sub-sequence', { lastSubSequence: -1 }, /last sub-sequence/],
  ])('rejects %s and says what to pass', (_name, overrides, message) => {
    // Act
    const build = () => batchObjectKey(input(overrides as Partial<BatchObjectKeyInput>));

    // Assess
    expect(build).toThrow(message);
  });
});
