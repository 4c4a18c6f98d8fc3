import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ARCHIVE_EXT,
  ARCHIVE_TABLE,
  type ArchivedRecord,
  decodeArchive,
  encodeArchive,
} from '../archive/raw-archive.ts';
import { MemoryStore } from '../land/memory-store.ts';
import { batchObjectKey } from '../land/object-key.ts';
import { listArchiveObjects, readArchiveObject, readLaterArchiveObjects } from './archive-source.ts';

const SHARD = 'shardId-000000000001';
const at = (iso: string) => new Date(iso);
const record = (seq: number, arrived: string): ArchivedRecord => ({
  shardId: SHARD,
  sequenceNumber: String(49_600_000_000_000 + seq),
  partitionKey: 'pk',
  arrivedAt: at(arrived),
  data: new TextEncoder().encode(`{"n":${seq}}\n`),
});

/** Lands an archive object for `records` under the key the pipeline gives their batch. */
const land = async (store: MemoryStore, records: ArchivedRecord[], ext = ARCHIVE_EXT): Promise<string> => {
  const key = batchObjectKey({
    table: ARCHIVE_TABLE,
    shardId: SHARD,
    time: records.reduce((t, r) => (r.arrivedAt > t ? r.arrivedAt : t), new Date(0)),
    firstSequence: records[0]!.sequenceNumber,
    lastSequence: records.at(-1)!.sequenceNumber,
    ext,
  });
  await store.put(key, await encodeArchive(records));
  return key;
};

/** What a replay of [from, to) reads: the listed objects, then each shard's later ones while they may hold older records. */
const replayed = async (store: MemoryStore, from: Date, to: Date): Promise<number[]> => {
  const out: number[] = [];
  const read = async (key: string) => {
    const { records, oldestMs } = await readArchiveObject(store, key, from, to);
    for (const r of records) out.push(Number(r.sequenceNumber) - 49_600_000_000_000);
    return oldestMs;
  };
  for (const key of await listArchiveObjects(store, from, to)) await read(key);
  await readLaterArchiveObjects(store, to, read);
  return out;
};

describe('archive source', () => {
  it('finds the records of a range in a batch read far behind, keyed hours after the range', async () => {
    // Prepare: a shard caught up after an outage: one batch holds arrivals from 10:00 to 13:30.
    const store = new MemoryStore();
    await land(store, [record(1, '2026-11-22T09:50:00Z')]);
    await land(store, [
      record(2, '2026-11-22T10:00:00Z'),
      record(3, '2026-11-22T10:20:00Z'),
      record(4, '2026-11-22T10:40:00Z'),
      record(5, '2026-11-22T13:30:00Z'),
    ]);
    await land(store, [record(6, '2026-11-22T13:40:00Z'), record(7, '2026-11-22T13:45:00Z')]);

    // Act
    const found = await replayed(store, at('2026-11-22T10:00:00Z'), at('2026-11-22T11:00:00Z'));

    // Assess
    expect(found).toEqual([2, 3, 4]);
  });

  it('reads only archive objects: a copy under another extension is not replayed', async () => {
    // Prepare
    const store = new MemoryStore();
    await land(store, [record(1, '2026-11-22T10:00:00Z')]);
    await land(store, [record(2, '2026-11-22T10:01:00Z')], `${ARCHIVE_EXT}.bak`);

    // Act
    const keys = await listArchiveObjects(store, at('2026-11-22T10:00:00Z'), at('2026-11-22T11:00:00Z'));

    // Assess
    expect(keys).toHaveLength(1);
    expect(keys[0]!.endsWith(`.${ARCHIVE_EXT}`)).toBe(true);
  });

  it('refuses an object that inflates past any batch (a gzip bomb), saying so', () => {
    // Prepare: ~260 KB of gzip inflating to 257 MiB.
    const bomb = gzipSync(Buffer.alloc(257 * 1024 * 1024, 32));

    // Act and assess
    expect(() => decodeArchive(bomb, 'raw/x.records.gz')).toThrow(/inflates past \d+ bytes/);
  });
});
