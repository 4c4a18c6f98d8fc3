import { ARCHIVE_TABLE, type ArchivedRecord, decodeArchive } from '../archive/raw-archive.ts';
import { dayPrefix, parseBatchObjectKey } from '../land/object-key.ts';
import type { ObjectStore } from '../land/object-store.ts';

const DAY_MS = 86_400_000;
/**
 * An archived batch is keyed by its newest arrival; its oldest record arrived at most a batch's
 * age earlier, unless the shard was far behind. Objects up to this long after `to` are read, and
 * every record is filtered by its own arrival time.
 */
export const ARCHIVE_LOOKAHEAD_MS = 2 * 3_600_000;

/** The raw archive's objects that may hold records that arrived in [from, to), in key (time) order. */
export const listArchiveObjects = async (store: ObjectStore, from: Date, to: Date): Promise<string[]> => {
  const keys: string[] = [];
  const last = to.getTime() + ARCHIVE_LOOKAHEAD_MS;
  for (let day = Math.floor(from.getTime() / DAY_MS) * DAY_MS; day <= last; day += DAY_MS) {
    for (const key of await store.list(dayPrefix(ARCHIVE_TABLE, new Date(day)))) {
      const parsed = parseBatchObjectKey(key);
      if (parsed === undefined) continue;
      const t = parsed.time.getTime();
      if (t >= from.getTime() && t <= last) keys.push(key);
    }
  }
  return keys.sort();
};

/** The records of one archive object that arrived in [from, to). */
export const readArchiveObject = async (
  store: ObjectStore,
  key: string,
  from: Date,
  to: Date,
): Promise<{ records: ArchivedRecord[]; bytes: number }> => {
  const body = await store.get(key);
  const records = decodeArchive(body, key).filter(
    (r) => r.arrivedAt.getTime() >= from.getTime() && r.arrivedAt.getTime() < to.getTime(),
  );
  return { records, bytes: body.byteLength };
};
