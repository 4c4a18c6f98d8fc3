import { ARCHIVE_EXT, ARCHIVE_TABLE, type ArchivedRecord, decodeArchive } from '../archive/raw-archive.ts';
import { dayPrefix, parseBatchObjectKey } from '../land/object-key.ts';
import type { ObjectStore } from '../land/object-store.ts';
import { followShards } from './follow-shards.ts';

const DAY_MS = 86_400_000;
/**
 * An archived batch is keyed by its newest arrival; its oldest record arrived at most a batch's
 * age earlier, unless the shard was far behind. Objects up to this long after `to` are read, and
 * every record is filtered by its own arrival time.
 */
export const ARCHIVE_LOOKAHEAD_MS = 2 * 3_600_000;

/**
 * How far past the lookahead a shard's objects are still followed (see `readLaterArchiveObjects`):
 * Kinesis keeps records up to 365 days, but a batch read that far behind is not expected.
 */
export const ARCHIVE_FOLLOW_MS = 7 * DAY_MS;

/** Raw archive object keys (`.records.gz`) keyed in [from, last], in key (time) order. */
const archiveKeysBetween = async (store: ObjectStore, from: number, last: number): Promise<string[]> => {
  const keys: string[] = [];
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day <= last; day += DAY_MS) {
    for (const key of await store.list(dayPrefix(ARCHIVE_TABLE, new Date(day)))) {
      const parsed = parseBatchObjectKey(key);
      // Only archive objects: a copy (`….records.gz.bak`) or another file is not read.
      if (parsed === undefined || parsed.ext !== ARCHIVE_EXT) continue;
      const t = parsed.time.getTime();
      if (t >= from && t <= last) keys.push(key);
    }
  }
  return keys.sort();
};

/** The raw archive's objects that may hold records that arrived in [from, to), in key (time) order. */
export const listArchiveObjects = async (store: ObjectStore, from: Date, to: Date): Promise<string[]> =>
  archiveKeysBetween(store, from.getTime(), to.getTime() + ARCHIVE_LOOKAHEAD_MS);

/** Reads, per shard, the archive objects past the look-ahead that may still hold arrivals before `to` (see `followShards`). */
export const readLaterArchiveObjects = async (
  store: ObjectStore,
  to: Date,
  read: (key: string) => Promise<number>,
): Promise<void> => {
  const after = to.getTime() + ARCHIVE_LOOKAHEAD_MS + 1;
  await followShards(await archiveKeysBetween(store, after, after + ARCHIVE_FOLLOW_MS), to, read);
};

/** The records of one archive object that arrived in [from, to), and the oldest arrival in it. */
export const readArchiveObject = async (
  store: ObjectStore,
  key: string,
  from: Date,
  to: Date,
): Promise<{ records: ArchivedRecord[]; bytes: number; oldestMs: number }> => {
  const body = await store.get(key);
  const all = decodeArchive(body, key);
  let oldestMs = Number.POSITIVE_INFINITY;
  for (const r of all) oldestMs = Math.min(oldestMs, r.arrivedAt.getTime());
  const records = all.filter(
    (r) => r.arrivedAt.getTime() >= from.getTime() && r.arrivedAt.getTime() < to.getTime(),
  );
  return { records, bytes: body.byteLength, oldestMs };
};
