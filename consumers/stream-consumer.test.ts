import { describe, expect, it } from 'vitest';
import { ConfigError } from '../pipeline/errors.ts';
import { SHARD_END } from './checkpoint-store.ts';
import { StreamNotActiveError } from './errors.ts';
import { MemoryCheckpointStore } from './memory-checkpoint-store.ts';
import { StreamConsumer } from './stream-consumer.ts';
import { FakeClock } from './testing/fake-clock.ts';
import { FakeKinesis } from './testing/fake-kinesis.ts';
import { RecordingProcessorFactory } from './testing/recording-processor.ts';

const until = async (condition: () => boolean, turns = 20_000) => {
  for (let i = 0; i < turns && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition not reached');
};

const setup = () => {
  const clock = new FakeClock();
  const kinesis = new FakeKinesis(() => clock.now());
  const store = new MemoryCheckpointStore();
  const processors = new RecordingProcessorFactory('each-batch');
  const consumer = new StreamConsumer({
    client: kinesis,
    streamName: 'test-stream',
    checkpointStore: store,
    processorFactory: processors,
    shardSyncIntervalMs: 1_000,
    parentPollIntervalMs: 100,
    streamActiveTimeoutMs: 5_000,
    clock,
  });
  return { clock, kinesis, store, processors, consumer };
};

describe('StreamConsumer', () => {
  it('reads every shard, following ListShards pages', async () => {
    // Prepare
    const { kinesis, processors, consumer } = setup();
    kinesis.pageSize = 2;
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      kinesis.addShard(`shardId-00000000000${i}`);
      sent.push(...kinesis.put(`shardId-00000000000${i}`, 3));
    }

    // Act
    await consumer.start();
    await until(() => processors.records.length === sent.length);
    await consumer.stop();

    // Assess
    expect(processors.records.map((r) => r.sequenceNumber).sort()).toEqual(sent.sort());
    expect(kinesis.listShardsRequests.slice(0, 3)).toEqual([
      { StreamName: 'test-stream', MaxResults: 1000 },
      { NextToken: '2', MaxResults: 1000 },
      { NextToken: '4', MaxResults: 1000 },
    ]);
    expect(consumer.stats()).toMatchObject({ state: 'stopped', records: 15 });
  });

  it('finds a child shard at the next sync and reads it after its parent ended', async () => {
    // Prepare
    const { kinesis, store, processors, consumer } = setup();
    kinesis.addShard('shardId-000000000000');
    kinesis.put('shardId-000000000000', 2);
    await consumer.start();
    await until(() => processors.records.length === 2);

    // Act: the parent closes and a child appears, as after SplitShard.
    kinesis.addShard('shardId-000000000001', { parentShardId: 'shardId-000000000000' });
    kinesis.put('shardId-000000000001', 3);
    kinesis.close('shardId-000000000000');
    await until(() => processors.records.length === 5);
    await consumer.stop();

    // Assess
    expect(await store.get('shardId-000000000000')).toEqual(SHARD_END);
    const parentEnded = store.history.findIndex((h) => h.checkpoint === SHARD_END);
    const childFirst = store.history.findIndex((h) => h.shardId === 'shardId-000000000001');
    expect(parentEnded).toBeGreaterThanOrEqual(0);
    expect(childFirst).toBeGreaterThan(parentEnded);
    expect(consumer.stats().shards.map((s) => [s.shardId, s.state])).toEqual([
      ['shardId-000000000000', 'SHUTDOWN_COMPLETE'],
      ['shardId-000000000001', 'SHUTDOWN_COMPLETE'],
    ]);
  });

  it('fails to start, saying what to do, when the stream does not exist', async () => {
    // Prepare
    const { kinesis, consumer } = setup();
    kinesis.streamStatus = undefined;

    // Act
    const started = consumer.start();

    // Assess
    await expect(started).rejects.toBeInstanceOf(StreamNotActiveError);
    await expect(started).rejects.toThrow(/does not exist after waiting 5000 ms; create it/);
  });

  it('waits for a stream that is still CREATING', async () => {
    // Prepare
    const { kinesis, clock, consumer } = setup();
    kinesis.streamStatus = 'CREATING';
    kinesis.addShard('shardId-000000000000');

    // Act
    const started = consumer.start();
    await until(() => clock.now() >= 2_000);
    kinesis.streamStatus = 'ACTIVE';
    await started;
    await consumer.stop();

    // Assess
    expect(kinesis.listShardsRequests.length).toBeGreaterThan(0);
  });

  it('stops quietly while still waiting for the stream', async () => {
    // Prepare
    const { kinesis, clock, consumer } = setup();
    kinesis.streamStatus = 'CREATING';
    const started = consumer.start();
    await until(() => clock.now() >= 1_000);

    // Act
    await consumer.stop();

    // Assess
    await expect(started).resolves.toBeUndefined();
    expect(consumer.stats()).toMatchObject({ state: 'stopped', shards: [] });
  });

  it('rejects a mistyped option', () => {
    // Act
    const create = () =>
      new StreamConsumer({
        client: new FakeKinesis(),
        streamName: 'test-stream',
        checkpointStore: new MemoryCheckpointStore(),
        processorFactory: new RecordingProcessorFactory(),
        maxRecordsPerCall: 20_000,
      });

    // Assess
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(/maxRecordsPerCall/);
  });
});
