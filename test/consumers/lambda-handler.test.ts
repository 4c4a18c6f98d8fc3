import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { createKinesisHandler } from '../../consumers/lambda/kinesis-handler.ts';
import {
  kinesisEventFactory,
  lambdaContextFactory,
} from '../../consumers/lambda/testing/kinesis-event-factory.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { PipelineConfig } from '../../pipeline/config.ts';
import { LandError } from '../../pipeline/errors.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import type { ObjectStore } from '../../pipeline/land/object-store.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

/**
 * The Lambda consumer on real GetRecords output of a local Kinesis: events built from the records
 * read back, landing that fails part-way through an invocation, Lambda's retries (from the
 * reported record in a warm container; bisected halves in a fresh one after a timeout; a
 * redelivered batch), and the warehouse loaded from the lake: every valid request once.
 */
const STREAM = 'lambda-handler';
/** Records per landed batch: several batches per invocation. */
const BATCH_RECORDS = 10;
/** The handler gives up landing this long after an invocation starts (remaining 3 s, margin 1.5 s). */
const REMAINING_MS = 3_000;

/** An object store whose puts fail, after `allowed` more successes, until healed. */
class FlakyStore implements ObjectStore {
  private allowed = Number.POSITIVE_INFINITY;
  readonly keys: string[] = [];
  constructor(private readonly inner: LocalDirStore) {}
  failAfter(puts: number): void {
    this.allowed = puts;
  }
  heal(): void {
    this.allowed = Number.POSITIVE_INFINITY;
  }
  async put(key: string, body: Uint8Array): Promise<void> {
    if (this.allowed <= 0) throw new LandError('injected: S3 is failing', { retriable: true });
    this.allowed -= 1;
    await this.inner.put(key, body);
    this.keys.push(key);
  }
  get(key: string): Promise<Uint8Array> {
    return this.inner.get(key);
  }
  list(prefix: string, startAfter?: string): Promise<string[]> {
    return this.inner.list(prefix, startAfter);
  }
  describe(): string {
    return this.inner.describe();
  }
}

const line = (id: string, at: Date): string =>
  `${JSON.stringify({ timestamp: at.toISOString(), request_id: id, project_id: 'lambda', method: 'GET', path: `/items/${id}`, status: 200, latency_ms: 3 })}\n`;

/** 40 records for one shard: a malformed line in every batch of ten, so each batch puts three objects (with the raw archive). */
const shardLines = (shard: string, base: Date): { lines: string[]; validIds: string[] } => {
  const lines: string[] = [];
  const validIds: string[] = [];
  for (let i = 0; i < 40; i++) {
    if (i % BATCH_RECORDS === 5) {
      lines.push(`{"request_id":"${shard}-bad-${i}", not json\n`);
      continue;
    }
    const id = `${shard}-${i}`;
    lines.push(line(id, new Date(base.getTime() + i)));
    validIds.push(id);
  }
  return { lines, validIds };
};

const readShard = async (client: KinesisClient, shardId: string): Promise<_Record[]> => {
  const { ShardIterator } = await client.send(
    new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const { Records = [] } = await client.send(new GetRecordsCommand({ ShardIterator }));
  return Records;
};

describe('Lambda consumer: Kinesis events to the lake, retried as Lambda retries', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  let client: KinesisClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-lambda-'));
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    await ensureStream(client, STREAM, 2);
  });

  afterAll(async () => {
    client?.destroy();
    await kinesis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the first record that did not land, and the retries land every row once', async () => {
    // Prepare: 40 records on each of the two shards (hash keys at both ends of the range), read back.
    const base = new Date(Date.now() - 60_000);
    const a = shardLines('a', base);
    const b = shardLines('b', base);
    // A Fluent Bit resend: the same line again, later, on the other shard.
    b.lines[32] = a.lines[3]!;
    b.validIds.splice(b.validIds.indexOf('b-32'), 1);
    const put = async (lines: string[], hashKey: string) => {
      const { FailedRecordCount } = await client.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: lines.map((l, i) => ({
            Data: Buffer.from(l),
            PartitionKey: `k${i}`,
            ExplicitHashKey: hashKey,
          })),
        }),
      );
      expect(FailedRecordCount).toBe(0);
    };
    await put(a.lines, '0');
    await put(b.lines, String(2n ** 128n - 1n));
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: STREAM }));
    const [shardA, shardB] = Shards.map((s) => s.ShardId!);
    const recordsA = await readShard(client, shardA!);
    const recordsB = await readShard(client, shardB!);
    expect(recordsA).toHaveLength(40);
    expect(recordsB).toHaveLength(40);

    const lake = new LocalDirStore(join(dir, 'lake'));
    const store = new FlakyStore(lake);
    const config = PipelineConfig.parse({
      lake: { type: 'local', dir: lake.rootDir },
      batch: { maxRows: BATCH_RECORDS },
      enrich: { geoIp: false },
    });
    const newHandler = () => createKinesisHandler({ config, store, deadlineMarginMs: 1_500 });
    const seq = (records: _Record[], i: number) => records[i]!.SequenceNumber!;

    // Act 1, shard A, one warm container: landing fails after 4 puts (batch 1 whole: Parquet,
    // dead letters, raw archive; batch 2's Parquet but not its dead letters); Lambda retries from the reported record, with records
    // that arrived since; then redelivers a batch that had landed (at-least-once).
    const warm = newHandler();
    store.failAfter(4);
    const failed = await warm(
      kinesisEventFactory(shardA!, recordsA.slice(0, 30)),
      lambdaContextFactory(REMAINING_MS),
    );
    store.heal();
    const retried = await warm(kinesisEventFactory(shardA!, recordsA.slice(10)), lambdaContextFactory());
    const landedBefore = store.keys.length;
    const redeliveredKeys = new Set(store.keys);
    const bytesBefore = await Promise.all(store.keys.slice(-3).map((k) => readFile(lake.pathOf(k))));
    const redelivered = await warm(kinesisEventFactory(shardA!, recordsA.slice(30)), lambdaContextFactory());
    const redeliveryKeys = store.keys.slice(landedBefore);
    const bytesAfter = await Promise.all(redeliveryKeys.map((k) => readFile(lake.pathOf(k))));
    await warm.close();

    // Act 2, shard B: the same failure, but the invocation timed out (a function error): Lambda
    // bisects the whole batch and a fresh container retries both halves, which start and end
    // inside batches that landed before.
    const first = newHandler();
    store.failAfter(4);
    const timedOut = await first(
      kinesisEventFactory(shardB!, recordsB.slice(0, 30)),
      lambdaContextFactory(REMAINING_MS),
    );
    store.heal();
    await first.close();
    const fresh = newHandler();
    const halves = [
      await fresh(kinesisEventFactory(shardB!, recordsB.slice(0, 15)), lambdaContextFactory()),
      await fresh(kinesisEventFactory(shardB!, recordsB.slice(15)), lambdaContextFactory()),
    ];
    await fresh.close();

    const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
    await warehouse.loadNewFiles(lake);
    const [counts] = await warehouse.query(
      `SELECT count(*) AS n, count(DISTINCT (project_id, request_id, ts)) AS keys FROM requests`,
    );
    const ids = (await warehouse.query('SELECT request_id FROM requests ORDER BY request_id')).map(
      (r) => r.request_id as string,
    );
    const lakeRows = await warehouse.query(
      `SELECT count(*) AS n FROM read_parquet('${lake.rootDir}/requests/**/*.parquet')`,
    );
    const deadLetterFiles = await lake.list('dead_letters/');
    const deadLetters = new Set<string>();
    for (const key of deadLetterFiles) {
      for (const l of (await readFile(lake.pathOf(key), 'utf8')).split('\n').filter(Boolean)) {
        deadLetters.add(Buffer.from(JSON.parse(l).data_base64, 'base64').toString());
      }
    }
    await warehouse.close();

    // Assess: the responses are what Lambda needs.
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: seq(recordsA, 10) }] });
    expect(retried).toEqual({ batchItemFailures: [] });
    expect(redelivered).toEqual({ batchItemFailures: [] });
    expect(timedOut).toEqual({ batchItemFailures: [{ itemIdentifier: seq(recordsB, 10) }] });
    expect(halves).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    // A redelivered batch lands under the same keys with the same bytes: replaced, not added.
    expect(redeliveryKeys).toHaveLength(3);
    expect(redeliveryKeys.every((k) => redeliveredKeys.has(k))).toBe(true);
    expect(bytesAfter).toEqual(bytesBefore);
    // The warehouse holds every valid request once; the lake held some twice.
    const expected = [...a.validIds, ...b.validIds].sort();
    expect(counts).toEqual({ n: expected.length, keys: expected.length });
    expect(ids).toEqual(expected);
    expect(Number(lakeRows[0]!.n)).toBeGreaterThan(expected.length);
    // Every malformed line is a dead letter (8: four per shard).
    expect([...deadLetters].filter((l) => l.includes('-bad-'))).toHaveLength(8);
  }, 60_000);
});
