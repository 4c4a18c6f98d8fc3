import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';

/** A record as a test reads it back: its partition key and its Data. */
export interface StoredRecord {
  readonly key: string;
  readonly data: Uint8Array;
}

/**
 * Every record a (local) stream holds, by shard id, from each shard's trim horizon until a read
 * returns nothing: for tests that check what a producer sent.
 */
export const readStreamRecords = async (
  client: KinesisClient,
  stream: string,
): Promise<Map<string, StoredRecord[]>> => {
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const byShard = new Map<string, StoredRecord[]>();
  for (const shard of shards) {
    const records: StoredRecord[] = [];
    let iterator = (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    for (;;) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? [])
        records.push({ key: r.PartitionKey ?? '', data: r.Data ?? new Uint8Array() });
      iterator = out.NextShardIterator;
      if ((out.Records ?? []).length === 0) break;
    }
    byShard.set(shard.ShardId ?? '', records);
  }
  return byShard;
};
