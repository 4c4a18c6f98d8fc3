import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { createDynamoClient } from '../../consumers/leases/dynamo-client.ts';
import { LeaseTable } from '../../consumers/leases/lease-table.ts';
import { type LocalDynamo, startLocalDynamo } from '../../consumers/local-stack/dynamo-server.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { StreamConsumer } from '../../consumers/stream-consumer.ts';
import { runDemoProducer } from '../../fluent-bit/demo/demo-producer.ts';
import { PipelineConfig } from '../../pipeline/config.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

/**
 * A SplitShard while data flows, with two lease-sharing workers: the parent is read to its end
 * and checkpointed SHARD_END before any record of its children lands, the children are found
 * without a restart, and nothing is lost or duplicated.
 */

const STREAM = 'lease-reshard';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('resharding under leases', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  let dynamo: LocalDynamo;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-reshard-'));
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    dynamo = await startLocalDynamo();
  });

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await dynamo?.close();
    await kinesis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lands no child record before the last record of its parent', async () => {
    // Prepare
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    cleanup.push(async () => client.destroy());
    await ensureStream(client, STREAM, 2);
    const dynamoClient = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    cleanup.push(async () => dynamoClient.destroy());
    const table = new LeaseTable({ client: dynamoClient, tableName: 'reshard-leases' });
    const landings: LandedBatch[] = [];
    const store = new LocalDirStore(join(dir, 'lake'));
    const config = PipelineConfig.parse({
      lake: { type: 'local', dir: join(dir, 'lake') },
      batch: { maxRows: 200, maxAgeMs: 200 },
      enrich: { geoIp: false },
    });
    for (const workerId of ['a', 'b']) {
      const pipeline = await Pipeline.create(config, { store, onLanded: (batch) => landings.push(batch) });
      const consumer = new StreamConsumer({
        client,
        streamName: STREAM,
        processorFactory: pipeline,
        leases: {
          table,
          workerId,
          failoverTimeMs: 1_500,
          renewalIntervalMs: 300,
          maxLeasesToStealAtOneTime: 1,
        },
        maxRecordsPerCall: 200,
        idleTimeBetweenReadsMs: 200,
        parentPollIntervalMs: 100,
        shardSyncIntervalMs: 300,
      });
      await consumer.start();
      cleanup.push(async () => {
        await consumer.stop();
        await pipeline.close();
      });
    }
    let uniqueValid = 0;
    const produce = async (seed: number) => {
      uniqueValid += (await runDemoProducer({ client, streamName: STREAM, events: 600, seed })).uniqueValid;
    };

    // Act: split shard 0 between two rounds of traffic, while the first is still being read.
    await produce(1);
    await produce(2);
    const { Shards } = await client.send(new ListShardsCommand({ StreamName: STREAM }));
    const parent = Shards!.find((s) => s.ShardId?.endsWith('0'))!;
    const low = BigInt(parent.HashKeyRange!.StartingHashKey!);
    const high = BigInt(parent.HashKeyRange!.EndingHashKey!);
    await client.send(
      new SplitShardCommand({
        StreamName: STREAM,
        ShardToSplit: parent.ShardId!,
        NewStartingHashKey: String((low + high) / 2n),
      }),
    );
    await produce(3);
    await produce(4);
    const lake = async () => {
      const warehouse = await DuckDbWarehouse.open(join(dir, `count-${Date.now()}.duckdb`));
      try {
        await warehouse.loadNewFiles(store);
        const [row] = await warehouse.query(
          `select count(*)::INT as n, count(distinct project_id || '/' || request_id)::INT as d from requests`,
        );
        return row as { n: number; d: number };
      } finally {
        await warehouse.close();
      }
    };
    let counts = await lake();
    for (let i = 0; i < 300 && counts.d < uniqueValid; i++) {
      await sleep(200);
      counts = await lake();
    }

    // Assess
    const children = (await client.send(new ListShardsCommand({ StreamName: STREAM }))).Shards!.filter(
      (s) => s.ParentShardId === parent.ShardId,
    );
    expect(children).toHaveLength(2);
    const parentLast = landings.findLastIndex((b) => b.shardId === parent.ShardId);
    const childFirst = landings.findIndex((b) => children.some((c) => c.ShardId === b.shardId));
    expect(parentLast).toBeGreaterThanOrEqual(0);
    expect(childFirst).toBeGreaterThan(parentLast);
    expect((await table.get(parent.ShardId!))?.checkpoint?.sequenceNumber).toBe('SHARD_END');
    expect(counts).toEqual({ n: uniqueValid, d: uniqueValid });
  });
});
