import { createRequire } from 'node:module';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Kinesis,
  ListShardsCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { generateRequestLogs, toFluentBitLine } from '../../fluent-bit/demo/traffic-generator.ts';
import { PipelineConfig } from '../../pipeline/config.ts';
import { decodeRecord } from '../../pipeline/decode/decode-record.ts';
import { MemoryStore } from '../../pipeline/land/memory-store.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import type { SourceRecord } from '../../pipeline/types.ts';

/**
 * kpl_producer_to_pipeline: records aggregated by an independent KPL implementation
 * (`aws-kinesis-agg`, AWS Labs' Node module, not our own encoder) are put into a real local
 * Kinesis, read back with GetRecords, and decoded and landed by the pipeline: the same user
 * records, in the same order, with sub-sequence numbers a checkpoint inside an aggregate honours.
 */

interface EncodedRecord {
  readonly partitionKey: string;
  readonly data: Buffer;
}
interface AwsKinesisAgg {
  aggregate(
    records: readonly { partitionKey: string; data: Buffer }[],
    onEncoded: (encoded: EncodedRecord, done: (error?: Error) => void) => void,
    afterAll: () => void,
    onError: (error: Error) => void,
  ): void;
}
// Its published types import the v2 `aws-sdk` and `aws-lambda`; only these two calls are used.
const agg = createRequire(import.meta.url)('aws-kinesis-agg') as AwsKinesisAgg;

const STREAM = 'kpl-agg';
const AGGREGATES = 3;
const PER_AGGREGATE = 40;

const aggregateWithLibrary = (records: { partitionKey: string; data: Buffer }[]): Promise<EncodedRecord[]> =>
  new Promise((resolve, reject) => {
    const out: EncodedRecord[] = [];
    agg.aggregate(
      records,
      (encoded, done) => {
        out.push(encoded);
        done();
      },
      () => resolve(out),
      reject,
    );
  });

const readShard = async (client: Kinesis): Promise<SourceRecord[]> => {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: STREAM }));
  const shardId = Shards[0]?.ShardId as string;
  const { ShardIterator } = await client.send(
    new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const { Records = [] } = await client.send(new GetRecordsCommand({ ShardIterator }));
  return Records.map((r) => ({
    shardId,
    sequenceNumber: r.SequenceNumber as string,
    partitionKey: r.PartitionKey as string,
    arrivedAt: r.ApproximateArrivalTimestamp ?? new Date(),
    data: r.Data as Uint8Array,
  }));
};

const landAll = async (records: readonly SourceRecord[], maxRows: number, start?: object) => {
  const store = new MemoryStore();
  const landed: LandedBatch[] = [];
  const config = PipelineConfig.parse({ batch: { maxRows, maxAgeMs: 60_000 }, enrich: { geoIp: false } });
  const pipeline = await Pipeline.create(config, { store, onLanded: (b) => landed.push(b) });
  const processor = pipeline.create(records[0]?.shardId as string, start);
  const checkpoints = [await processor.processRecords(records), await processor.shutdownRequested()];
  await pipeline.close();
  return { landed, checkpoints };
};

describe('records aggregated by aws-kinesis-agg → local Kinesis → pipeline', () => {
  let kinesis: LocalKinesis;
  let client: Kinesis;
  const sentIds: string[][] = [];
  let stored: SourceRecord[];

  beforeAll(async () => {
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    await ensureStream(client, STREAM, 1);
    const logs = [
      ...generateRequestLogs(AGGREGATES * PER_AGGREGATE, {
        seed: 11,
        startTime: Date.parse('2026-11-22T10:00:00Z'),
      }),
    ];
    for (let a = 0; a < AGGREGATES; a++) {
      const group = logs.slice(a * PER_AGGREGATE, (a + 1) * PER_AGGREGATE);
      sentIds.push(group.map((log) => log.request_id as string));
      const encoded = await aggregateWithLibrary(
        group.map((log, i) => ({
          partitionKey: `user-${a}-${i % 7}`,
          data: Buffer.from(toFluentBitLine(log, String(log.timestamp))),
        })),
      );
      expect(encoded).toHaveLength(1);
      const [record] = encoded as [EncodedRecord];
      await client.send(
        new PutRecordCommand({ StreamName: STREAM, PartitionKey: record.partitionKey, Data: record.data }),
      );
    }
    stored = await readShard(client);
  });

  afterAll(async () => {
    client?.destroy();
    await kinesis?.close();
  });

  it('decodes every user record of each aggregate, in order, with its sub-sequence number', () => {
    // Act
    const decoded = stored.map((record) => decodeRecord(record));

    // Assess
    expect(stored).toHaveLength(AGGREGATES);
    decoded.forEach((result, a) => {
      expect(result.deadLetters).toEqual([]);
      expect(result.logs.map((l) => l.value.request_id)).toEqual(sentIds[a]);
      expect(result.logs.map((l) => l.kplSubSequence)).toEqual([...Array(PER_AGGREGATE).keys()]);
    });
  });

  it('lands every user record once; a batch full inside an aggregate ends with that whole aggregate', async () => {
    // Act: a batch of 25 rows fills up inside each aggregate of 40.
    const { landed } = await landAll(stored, 25);

    // Assess: batches are cut between Kinesis records, so each checkpoint is a whole aggregate.
    expect(landed.reduce((n, b) => n + b.rows, 0)).toBe(AGGREGATES * PER_AGGREGATE);
    expect(landed.map((b) => b.checkpoint)).toEqual(
      stored.map((r) => ({ sequenceNumber: r.sequenceNumber })),
    );
  });

  it('resumes after a sub-sequence checkpoint: only the user records after it land', async () => {
    // Prepare: the shard is re-read from the aggregate that holds the checkpoint (AT_SEQUENCE_NUMBER).
    const checkpoint = { sequenceNumber: stored[1]?.sequenceNumber as string, subSequenceNumber: 9 };

    // Act
    const { landed } = await landAll(stored.slice(1), 1_000, { checkpoint });

    // Assess
    expect(landed.reduce((n, b) => n + b.rows, 0)).toBe(PER_AGGREGATE - 10 + PER_AGGREGATE);
  });
});
