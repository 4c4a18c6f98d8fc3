import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { runLeases } from '../../consumers/cli/leases-command.ts';
import { LeaseLostError } from '../../consumers/errors.ts';
import { createDynamoClient } from '../../consumers/leases/dynamo-client.ts';
import { LeaseCheckpointStore } from '../../consumers/leases/lease-checkpoint-store.ts';
import { LeaseCoordinator } from '../../consumers/leases/lease-coordinator.ts';
import { LeaseTable } from '../../consumers/leases/lease-table.ts';
import { type LocalDynamo, startLocalDynamo } from '../../consumers/local-stack/dynamo-server.ts';
import { ShardReader } from '../../consumers/shard-reader.ts';
import { streamConsumerConfigSchema } from '../../consumers/stream-consumer-config.ts';
import { FakeKinesis } from '../../consumers/testing/fake-kinesis.ts';
import { generateRequestLogs, toFluentBitLine } from '../../fluent-bit/demo/traffic-generator.ts';
import { PipelineConfig } from '../../pipeline/config.ts';
import { MemoryStore } from '../../pipeline/land/memory-store.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lake whose `hold`-th put waits until `open()`: a worker stuck (or dying) mid-batch. */
class StallingStore extends MemoryStore {
  #open: () => void = () => undefined;
  readonly #gate = new Promise<void>((resolve) => (this.#open = resolve));
  #stalled: () => void = () => undefined;
  readonly stalled = new Promise<void>((resolve) => (this.#stalled = resolve));
  constructor(private readonly hold: number) {
    super({ keepBodies: false });
  }
  override async put(key: string, body: Uint8Array): Promise<void> {
    await super.put(key, body);
    if (this.puts.length !== this.hold) return;
    this.#stalled();
    await this.#gate;
  }
  open(): void {
    this.#open();
  }
}

describe('lease table on DynamoDB (dynalite)', () => {
  let dynamo: LocalDynamo;
  let client: ReturnType<typeof createDynamoClient>;
  let n = 0;
  const newTable = async () => {
    const table = new LeaseTable({ client, tableName: `leases-${++n}` });
    await table.ensureTable();
    return table;
  };

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('creates the table once and each lease once', async () => {
    // Prepare
    const table = await newTable();

    // Act
    await table.ensureTable();
    const created = await table.create('shard-1', ['shard-0']);
    const again = await table.create('shard-1', []);

    // Assess
    expect([created, again]).toEqual([true, false]);
    expect(await table.get('shard-1')).toMatchObject({
      leaseKey: 'shard-1',
      leaseOwner: undefined,
      leaseCounter: 0,
      parentShardIds: ['shard-0'],
    });
  });

  it('refuses every write of a worker whose lease was taken: renew, announce, checkpoint', async () => {
    // Prepare: a holds the lease; b takes it from the state it read.
    const table = await newTable();
    await table.create('shard-1', []);
    const taken = (await table.take((await table.get('shard-1'))!, 'a'))!;
    const stolen = await table.take(taken, 'b');
    const hold = { owner: 'a', counter: taken.leaseCounter };

    // Act
    const writes = [
      table.renew('shard-1', hold, 0),
      table.announce('shard-1', hold, { firstSequence: '1', lastSequence: '2' }),
      table.checkpoint('shard-1', hold, { sequenceNumber: '2' }, undefined),
      table.release('shard-1', hold),
    ];

    // Assess
    for (const write of writes) await expect(write).rejects.toBeInstanceOf(LeaseLostError);
    expect(stolen).toMatchObject({ leaseOwner: 'b', leaseCounter: 2, ownerSwitchesSinceCheckpoint: 2 });
    expect(await table.take(taken, 'c')).toBeUndefined();
  });

  it('keeps the announced range until the checkpoint that covers it, and gives finished shards up', async () => {
    // Prepare
    const table = await newTable();
    await table.create('shard-1', []);
    const taken = (await table.take((await table.get('shard-1'))!, 'a'))!;
    const hold = { owner: 'a', counter: taken.leaseCounter };
    const range = { firstSequence: '10', lastSequence: '20' };

    // Act
    await table.announce('shard-1', hold, range);
    const announced = await table.get('shard-1');
    await table.checkpoint('shard-1', hold, { sequenceNumber: '20', subSequenceNumber: 3 }, range);
    const checkpointed = await table.get('shard-1');
    await table.checkpoint('shard-1', hold, { sequenceNumber: 'SHARD_END' }, undefined);
    const finished = await table.get('shard-1');

    // Assess
    expect(announced?.pendingBatch).toEqual(range);
    expect(checkpointed).toMatchObject({
      pendingBatch: undefined,
      landedBatch: range,
      checkpoint: { sequenceNumber: '20', subSequenceNumber: 3 },
    });
    expect(finished).toMatchObject({ leaseOwner: undefined, checkpoint: { sequenceNumber: 'SHARD_END' } });
  });

  it('balances two coordinators, and tells one that lost a lease before it can checkpoint', async () => {
    // Prepare
    const table = await newTable();
    for (let i = 0; i < 4; i++) await table.create(`shard-${i}`, []);
    const lost: string[] = [];
    const coordinator = (workerId: string) =>
      new LeaseCoordinator({
        table,
        workerId,
        failoverTimeMs: 3_000,
        renewalIntervalMs: 100,
        maxLeasesToStealAtOneTime: 1,
        onAcquired: () => undefined,
        onLost: (shardId) => lost.push(`${workerId}:${shardId}`),
      });
    const a = coordinator('a');
    const b = coordinator('b');

    // Act: a takes all four, b steals its share one at a time.
    await a.start();
    const aAlone = a.stats().held.length;
    await b.start();
    for (let i = 0; i < 100 && (b.stats().held.length < 2 || lost.length < 2); i++) await sleep(50);
    const moved = lost.map((l) => l.split(':')[1]!);
    const checkpointByLoser = await a
      .withLease(moved[0]!, (hold) => table.checkpoint(moved[0]!, hold, { sequenceNumber: '1' }, undefined))
      .catch((error: unknown) => error);

    // Assess
    expect(aAlone).toBe(4);
    expect([a.stats().held.length, b.stats().held.length]).toEqual([2, 2]);
    expect(lost).toHaveLength(2);
    expect(lost.every((l) => l.startsWith('a:'))).toBe(true);
    expect(checkpointByLoser).toBeInstanceOf(LeaseLostError);
    await a.stop(true);
    await b.stop(true);
    expect((await table.list()).every((lease) => lease.leaseOwner === undefined)).toBe(true);
  });

  it('prints the lease table for `shardline leases`: owner, checkpoint, lag', async () => {
    // Prepare
    const table = await newTable();
    await table.create('shard-1', []);
    await table.create('shard-2', ['shard-1']);
    const taken = (await table.take((await table.get('shard-1'))!, 'worker-a'))!;
    const hold = { owner: 'worker-a', counter: taken.leaseCounter };
    await table.checkpoint('shard-1', hold, { sequenceNumber: '42' }, undefined);
    await table.renew('shard-1', hold, 1_250);
    const config = parseConsumeConfig({
      stream: { name: 'api-logs' },
      checkpoints: { type: 'dynamodb', endpoint: dynamo.endpoint, table: table.tableName },
    });
    let out = '';

    // Act
    const code = await runLeases(config, { format: 'table', write: (text) => (out += text) });

    // Assess
    const lines = out.trim().split('\n');
    expect(code).toBe(0);
    expect(lines[1]).toMatch(/^shard-1\s+worker-a\s+2\s+42\s+1250\s/);
    expect(lines[2]).toMatch(/^shard-2\s+\(none\)\s+0\s+-\s+-\s+-\s+shard-1/);
    expect(lines[3]).toBe('2 leases');
  });

  it("stores a landed batch's checkpoint before announcing the next batch of the same call", async () => {
    // Prepare: one GetRecords answer of 4 logs, batches of 2; the lake stalls on the second batch.
    const table = await newTable();
    await table.create('shard-1', []);
    const leases = new LeaseCoordinator({
      table,
      workerId: 'a',
      failoverTimeMs: 10_000,
      renewalIntervalMs: 200,
      maxLeasesToStealAtOneTime: 1,
      onAcquired: () => undefined,
      onLost: () => undefined,
    });
    await leases.start();
    const kinesis = new FakeKinesis(() => Date.now());
    kinesis.addShard('shard-1');
    const logs = [...generateRequestLogs(4, { seed: 3, startTime: Date.parse('2026-11-22T10:00:00Z') })];
    const shard = kinesis.shards.get('shard-1')!;
    for (const [i, log] of logs.entries()) {
      shard.records.push({
        sequenceNumber: String(100 + i),
        data: new TextEncoder().encode(toFluentBitLine(log, String(log.timestamp))),
      });
    }
    // Puts: batch 1's Parquet and raw archive, then batch 2's Parquet, where the lake stalls.
    const lake = new StallingStore(3);
    const config = PipelineConfig.parse({
      batch: { maxRows: 2, maxAgeMs: 60_000 },
      enrich: { geoIp: false },
    });
    const pipeline = await Pipeline.create(config, { store: lake });
    const reader = new ShardReader({
      api: kinesis,
      streamName: 'api-logs',
      shardId: 'shard-1',
      checkpointStore: new LeaseCheckpointStore(table, leases),
      processorFactory: pipeline,
      config: streamConsumerConfigSchema.parse({}),
    });

    // Act: what a new owner would read if this worker died now, the second batch announced.
    void reader.start();
    await lake.stalled;
    const lease = await table.get('shard-1');
    lake.open();
    await reader.stop();
    await leases.stop(true);
    await pipeline.close();

    // Assess: it resumes after the first batch and re-lands exactly the second one.
    expect(lease).toMatchObject({
      checkpoint: { sequenceNumber: '101' },
      landedBatch: { firstSequence: '100', lastSequence: '101' },
      pendingBatch: { firstSequence: '102', lastSequence: '103' },
    });
  });
});
