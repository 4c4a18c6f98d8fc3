import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { runPipeline } from '../../consumers/cli/run-pipeline.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { decodeDeadLetters } from '../../pipeline/dead-letter/dead-letter-sink.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';

/**
 * kinesis_to_lake under hostile input: a few kilobytes that decompress to millions of lines, or
 * to one 8 MiB line, sit on a shard ahead of valid records. Each hostile record becomes one small
 * dead letter holding the record as it was sent, and every valid record behind it lands.
 * (`npm run bench:hostile` runs the same against `shardline dev` and reports its peak RSS.)
 */
describe('hostile records on a shard', () => {
  let dir: string;
  let kinesis: LocalKinesis;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-hostile-'));
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
  });

  afterAll(async () => {
    await kinesis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('dead-letters each hostile record once, small, and lands every valid record behind it', async () => {
    // Prepare
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    await ensureStream(client, 'hostile', 2);
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: 'hostile' }));
    const onShard = (i: number) => Shards[i % Shards.length]?.HashKeyRange?.StartingHashKey as string;
    const hostile = [
      gzipSync(Buffer.from('{}\n'.repeat(2_700_000))),
      gzipSync(Buffer.from(`{"pad":"${'x'.repeat(8 * 1024 * 1024 - 20)}"}\n`)),
      gzipSync(Buffer.from('{}\n'.repeat(349_525))),
    ];
    const valid = Array.from({ length: 400 }, (_, i) => ({
      Data: Buffer.from(
        `{"timestamp":"${new Date().toISOString()}","request_id":"v-${i}","project_id":"p","method":"GET","path":"/v1/a","status":200,"latency_ms":1}\n`,
      ),
      PartitionKey: `k${i}`,
      ExplicitHashKey: onShard(i),
    }));
    await client.send(
      new PutRecordsCommand({
        StreamName: 'hostile',
        Records: hostile.map((Data) => ({ Data, PartitionKey: 'h', ExplicitHashKey: onShard(0) })),
      }),
    );
    await client.send(new PutRecordsCommand({ StreamName: 'hostile', Records: valid }));
    const config = parseConsumeConfig({
      stream: { name: 'hostile', endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 200 },
      checkpoints: { path: join(dir, 'checkpoints.json') },
      lake: { type: 'local', dir: join(dir, 'lake') },
      warehouse: { type: 'none' },
      batch: { maxAgeMs: 300 },
    });

    // Act
    const started = Date.now();
    const running = await runPipeline(config, { logger: silentLogger, client });
    const c = running.pipeline.counters;
    while (c.landed + c.deadLettered < valid.length + hostile.length && Date.now() - started < 60_000) {
      await sleep(100);
    }
    await running.stop();
    client.destroy();

    // Assess
    expect({ landed: c.landed, deadLettered: c.deadLettered }).toEqual({
      landed: valid.length,
      deadLettered: hostile.length,
    });
    const keys = (await running.pipeline.store.list('dead_letters/')).sort();
    const letters = (
      await Promise.all(keys.map(async (k) => decodeDeadLetters(await running.pipeline.store.get(k))))
    ).flat();
    expect(letters.map((l) => l.reason)).toEqual(['too_large', 'too_large', 'too_large']);
    expect(letters.map((l) => Buffer.from(l.data)).sort(Buffer.compare)).toEqual(
      hostile.map((h) => Buffer.from(h)).sort(Buffer.compare),
    );
  });
});
