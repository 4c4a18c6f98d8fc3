import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { type LocalDynamo, startLocalDynamo } from '../../consumers/local-stack/dynamo-server.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { spawnWorker } from '../../consumers/testing/worker-process.ts';
import { S3Store } from '../../pipeline/land/s3-store.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { type S3Server, startS3Server } from '../support/s3-server.ts';
import { type SwitchableProxy, startSwitchableProxy } from '../support/switchable-proxy.ts';

/**
 * A `shardline consume` worker stuck landing (its S3 is down) still stops within its lease
 * renewal interval on SIGTERM: it drops the batch it cannot land and hands its leases over.
 * Nothing is lost: the next worker, with S3 back, lands every record once.
 */
const RENEWAL_MS = 1_000;

describe('SIGTERM while landing keeps failing', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  let dynamo: LocalDynamo;
  let s3: S3Server;
  let proxy: SwitchableProxy;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-sigterm-'));
    [kinesis, dynamo, s3] = await Promise.all([
      startLocalKinesis({ httpPort: 0, httpsPort: 0 }),
      startLocalDynamo(),
      startS3Server('lake'),
    ]);
    proxy = await startSwitchableProxy(s3.endpoint);
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([kinesis?.close(), dynamo?.close(), s3?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('exits within the renewal interval and loses nothing', async () => {
    // Prepare: S3 is down before the first record arrives, so every landing attempt fails.
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    await ensureStream(client, 'sigterm', 2);
    const configFile = join(dir, 'consume.json');
    await writeFile(
      configFile,
      JSON.stringify({
        stream: { name: 'sigterm', endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 200 },
        checkpoints: {
          type: 'dynamodb',
          endpoint: dynamo.endpoint,
          failoverTimeMs: 5 * RENEWAL_MS,
          renewalIntervalMs: RENEWAL_MS,
        },
        lake: { type: 's3', bucket: 'lake', prefix: 'lake/', endpoint: proxy.endpoint },
        warehouse: { type: 'none' },
        batch: { maxAgeMs: 200 },
      }),
    );
    proxy.down();
    const ids = Array.from({ length: 50 }, (_, i) => `t-${i}`);
    await client.send(
      new PutRecordsCommand({
        StreamName: 'sigterm',
        Records: ids.map((id, i) => ({
          Data: Buffer.from(
            `{"timestamp":"${new Date().toISOString()}","request_id":"${id}","project_id":"p","method":"GET","path":"/","status":200,"latency_ms":1}\n`,
          ),
          PartitionKey: `k${i}`,
        })),
      }),
    );
    const stuck = spawnWorker({ configFile, workerId: 'stuck', logLevel: 'warn' });
    for (let i = 0; i < 200 && !stuck.stderr().includes('landing failed'); i++) await sleep(100);

    // Act
    const signalled = Date.now();
    stuck.child.kill('SIGTERM');
    const code = await stuck.exited;
    const exitMs = Date.now() - signalled;
    proxy.up();
    const next = spawnWorker({ configFile, workerId: 'next' });
    const store = new S3Store({
      bucket: 'lake',
      prefix: 'lake/',
      endpoint: s3.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
    let rows = 0;
    for (let i = 0; i < 300 && rows < ids.length; i++) {
      await sleep(100);
      await warehouse.loadNewFiles(store);
      rows = await warehouse.rowCount();
    }
    next.child.kill('SIGTERM');
    await next.exited;
    const distinct = await warehouse.query('SELECT count(DISTINCT request_id) AS n FROM requests');
    await warehouse.close();
    store.destroy();
    client.destroy();

    // Assess
    expect(stuck.stderr()).toMatch(/landing failed/);
    expect(code).toBe(0);
    // The renewal interval, plus process teardown (lease release, DuckDB close) on a loaded CI machine.
    expect(exitMs).toBeLessThan(RENEWAL_MS + 4_000);
    expect(rows).toBe(ids.length);
    expect(distinct).toEqual([{ n: ids.length }]);
  });
});
