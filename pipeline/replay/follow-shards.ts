import { parseBatchObjectKey } from '../land/object-key.ts';

/**
 * Reads batch objects keyed after a range's look-ahead that may still hold records that arrived
 * before `to`: a batch read far behind (a shard caught up after an outage) spans hours of arrivals
 * and is keyed by its newest. A shard's records arrive in order, so each shard's objects are read
 * in key order until one holds nothing older than `to`. `read` reads one object and gives its
 * oldest arrival (ms; -Infinity when unknown, which keeps the shard followed).
 */
export const followShards = async (
  keys: readonly string[],
  to: Date,
  read: (key: string) => Promise<number>,
): Promise<void> => {
  const byShard = new Map<string, string[]>();
  for (const key of keys) {
    const shardId = parseBatchObjectKey(key)?.shardId;
    if (shardId === undefined) continue;
    const shard = byShard.get(shardId) ?? [];
    shard.push(key);
    byShard.set(shardId, shard);
  }
  for (const shard of byShard.values()) {
    for (const key of shard.sort()) if ((await read(key)) >= to.getTime()) break;
  }
};
