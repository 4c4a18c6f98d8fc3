import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeStreamSummaryCommand,
  type Kinesis,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARD_END } from '../../consumers/checkpoint-store.ts';
import { FileCheckpointStore } from '../../consumers/file-checkpoint-store.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { MemoryCheckpointStore } from '../../consumers/memory-checkpoint-store.ts';
import { StreamConsumer } from '../../consumers/stream-consumer.ts';
import type {
  Checkpoint,
  ShardRecordProcessor,
  ShardRecordProcessorFactory,
  SourceRecord,
} from '../../pipeline/types.ts';

/**
 * kinesalite_to_processor: a StreamConsumer against a real (in-process) kinesalite, with a fake
 * processor that "lands" records and only then returns checkpoints.
 */

interface Landing {
  /** Return a checkpoint after this many records of a shard (an artificial land); 0 = never. */
  readonly landEvery: number;
  /** Whether shutdownRequested lands what is buffered; false simulates a crash at stop. */
  readonly landOnShutdown: boolean;
}

/** Records every call in one global order, so tests can tell which shard did what first. */
class LandingProcessorFactory implements ShardRecordProcessorFactory {
  readonly received: SourceRecord[] = [];
  readonly events: string[] = [];

  constructor(private readonly landing: Landing) {}

  get values(): number[] {
    const decoder = new TextDecoder();
    return this.received.map((r) => (JSON.parse(decoder.decode(r.data)) as { n: number }).n);
  }

  create(shardId: string): ShardRecordProcessor {
    const { landEvery, landOnShutdown } = this.landing;
    let buffered: SourceRecord[] = [];
    const land = async (): Promise<Checkpoint | undefined> => {
      const last = buffered.at(-1);
      if (!last) return undefined;
      await sleep(2);
      buffered = [];
      return { sequenceNumber: last.sequenceNumber };
    };
    return {
      processRecords: async (records) => {
        this.events.push(`${shardId}:processRecords`);
        this.received.push(...records);
        let checkpoint: Checkpoint | undefined;
        for (const record of records) {
          buffered.push(record);
          if (landEvery > 0 && buffered.length >= landEvery) checkpoint = (await land()) ?? checkpoint;
        }
        return checkpoint;
      },
      tick: async () => undefined,
      shardEnded: async () => {
        this.events.push(`${shardId}:shardEnded`);
        return landEvery > 0 ? land() : undefined;
      },
      shutdownRequested: async () => {
        this.events.push(`${shardId}:shutdownRequested`);
        return landOnShutdown ? land() : undefined;
      },
      leaseLost: () => {
        buffered = [];
      },
    };
  }
}

const waitFor = async (condition: () => boolean, what: string, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
};

const putNumbers = async (client: Kinesis, streamName: string, from: number, count: number) => {
  for (let start = from; start < from + count; start += 500) {
    const n = Math.min(500, from + count - start);
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: Array.from({ length: n }, (_, i) => ({
          PartitionKey: `key-${start + i}`,
          Data: new TextEncoder().encode(JSON.stringify({ n: start + i })),
        })),
      }),
    );
    expect(out.FailedRecordCount).toBe(0);
  }
};

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const byShard = (records: SourceRecord[]) => {
  const shards = new Map<string, SourceRecord[]>();
  for (const record of records) shards.set(record.shardId, [...(shards.get(record.shardId) ?? []), record]);
  return shards;
};

describe('StreamConsumer against kinesalite', () => {
  let kinesis: LocalKinesis;
  let client: Kinesis;
  let dir: string;
  let streams = 0;
  const consumerOptions = { minPollIntervalMs: 200, idleTimeBetweenReadsMs: 200, parentPollIntervalMs: 50 };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-consumer-'));
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
  });

  afterAll(async () => {
    client?.destroy();
    await kinesis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const newStream = async (shards: number) => {
    const name = `consumer-test-${++streams}`;
    await ensureStream(client, name, shards);
    return name;
  };

  const consume = (
    streamName: string,
    checkpointStore: FileCheckpointStore | MemoryCheckpointStore,
    factory: ShardRecordProcessorFactory,
  ) =>
    new StreamConsumer({
      client,
      streamName,
      checkpointStore,
      processorFactory: factory,
      ...consumerOptions,
    });

  it('reads every record of a 4-shard stream, in order within each shard', async () => {
    // Prepare
    const streamName = await newStream(4);
    await putNumbers(client, streamName, 0, 2_000);
    const path = join(dir, `${streamName}.json`);
    const processors = new LandingProcessorFactory({ landEvery: 100, landOnShutdown: true });
    const consumer = consume(streamName, new FileCheckpointStore(path, { streamName }), processors);

    // Act
    await consumer.start();
    await waitFor(() => processors.received.length >= 2_000, '2,000 records');
    await consumer.stop();

    // Assess
    expect(sorted(processors.values)).toEqual(range(0, 2_000));
    const shards = byShard(processors.received);
    expect(shards.size).toBe(4);
    const file = JSON.parse(await readFile(path, 'utf8')) as {
      shards: Record<string, { sequenceNumber: string }>;
    };
    for (const [shardId, records] of shards) {
      const sequence = records.map((r) => BigInt(r.sequenceNumber));
      expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(file.shards[shardId]?.sequenceNumber).toBe(records.at(-1)?.sequenceNumber);
    }
    expect(consumer.stats()).toMatchObject({ records: 2_000, state: 'stopped' });
  });

  it('resumes after the last checkpoint on restart: nothing lost, only unlanded records again', async () => {
    // Prepare: the first run lands every 50 records of a shard and "crashes" at stop.
    const streamName = await newStream(4);
    await putNumbers(client, streamName, 0, 1_000);
    const path = join(dir, `${streamName}.json`);
    const first = new LandingProcessorFactory({ landEvery: 50, landOnShutdown: false });
    const firstRun = consume(streamName, new FileCheckpointStore(path, { streamName }), first);
    await firstRun.start();
    await waitFor(() => first.received.length >= 1_000, 'the first run');
    await firstRun.stop();
    const checkpoints = new FileCheckpointStore(path, { streamName });
    await putNumbers(client, streamName, 1_000, 500);

    // Act
    const second = new LandingProcessorFactory({ landEvery: 10, landOnShutdown: true });
    const secondRun = consume(streamName, new FileCheckpointStore(path, { streamName }), second);
    await secondRun.start();
    const expectedAgain = await Promise.all(
      [...byShard(first.received)].map(async ([shardId, records]) => {
        const checkpoint = (await checkpoints.get(shardId)) as Checkpoint | undefined;
        const landed = checkpoint ? BigInt(checkpoint.sequenceNumber) : -1n;
        return records.filter((r) => BigInt(r.sequenceNumber) > landed).length;
      }),
    );
    const redelivered = expectedAgain.reduce((a, b) => a + b, 0);
    await waitFor(() => second.received.length >= 500 + redelivered, 'the second run');
    await sleep(300);
    await secondRun.stop();

    // Assess
    expect(redelivered).toBeGreaterThan(0);
    expect(redelivered).toBeLessThan(4 * 50);
    expect(second.received.length).toBe(500 + redelivered);
    expect(new Set([...first.values, ...second.values])).toEqual(new Set(range(0, 1_500)));
    expect(sorted(second.values).slice(-500)).toEqual(range(1_000, 500));
  });

  it('delivers everything again when the processor never returned a checkpoint', async () => {
    // Prepare
    const streamName = await newStream(2);
    await putNumbers(client, streamName, 0, 300);
    const path = join(dir, `${streamName}.json`);
    const never = { landEvery: 0, landOnShutdown: false };
    const first = new LandingProcessorFactory(never);
    const firstRun = consume(streamName, new FileCheckpointStore(path, { streamName }), first);
    await firstRun.start();
    await waitFor(() => first.received.length >= 300, 'the first run');
    await firstRun.stop();

    // Act
    const second = new LandingProcessorFactory(never);
    const secondRun = consume(streamName, new FileCheckpointStore(path, { streamName }), second);
    await secondRun.start();
    await waitFor(() => second.received.length >= 300, 'the second run');
    await sleep(300);
    await secondRun.stop();

    // Assess
    expect(sorted(second.values)).toEqual(range(0, 300));
    expect(sorted(first.values)).toEqual(range(0, 300));
  });

  it('finishes a split parent (SHARD_END) before its children start, without a restart', async () => {
    // Prepare
    const streamName = await newStream(1);
    await putNumbers(client, streamName, 0, 300);
    const store = new MemoryCheckpointStore();
    const processors = new LandingProcessorFactory({ landEvery: 10, landOnShutdown: true });
    const consumer = new StreamConsumer({
      client,
      streamName,
      checkpointStore: store,
      processorFactory: processors,
      ...consumerOptions,
      shardSyncIntervalMs: 200,
    });
    await consumer.start();
    await waitFor(() => processors.received.length >= 300, 'the records before the split');

    // Act
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
    const parent = Shards[0]?.ShardId as string;
    await client.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: parent,
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    for (;;) {
      const { StreamDescriptionSummary } = await client.send(
        new DescribeStreamSummaryCommand({ StreamName: streamName }),
      );
      if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await sleep(20);
    }
    await putNumbers(client, streamName, 300, 300);
    await waitFor(() => processors.received.length >= 600, 'the records after the split');
    await consumer.stop();

    // Assess
    expect(sorted(processors.values)).toEqual(range(0, 600));
    expect(await store.get(parent)).toEqual(SHARD_END);
    const children = [...new Set(processors.received.map((r) => r.shardId))].filter((id) => id !== parent);
    expect(children).toHaveLength(2);
    const parentEnded = processors.events.indexOf(`${parent}:shardEnded`);
    const firstChildBatch = processors.events.findIndex((e) => children.some((c) => e.startsWith(`${c}:`)));
    expect(parentEnded).toBeGreaterThanOrEqual(0);
    expect(firstChildBatch).toBeGreaterThan(parentEnded);
    expect(processors.received.filter((r) => r.shardId === parent)).toHaveLength(300);
  });
});
