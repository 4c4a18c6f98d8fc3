import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Kinesis, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { runPipeline } from '../../consumers/cli/run-pipeline.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';

/**
 * How `shardline consume` drives its embedded warehouse's loads (consumers/cli/run-pipeline.ts),
 * against the local Kinesis, a local lake and a real DuckDB file.
 */

const logLine = (i: number) =>
  `{"timestamp":"2026-11-29T10:00:00.${String(i % 1000).padStart(3, '0')}Z","request_id":"l-${i}","project_id":"p","method":"GET","path":"/v1/x","status":200,"latency_ms":1}\n`;

/** A process that opens the DuckDB file read-write (as a DuckDB client would) and holds it until killed. */
const holdWarehouseFile = async (file: string) => {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const { DuckDBInstance } = require('@duckdb/node-api');
       const take = () => DuckDBInstance.create(process.argv[1]).then(
         (i) => { globalThis.held = i; process.stdout.write('held\\n'); setInterval(() => {}, 1000); },
         () => setTimeout(take, 5));
       take();`,
      file,
    ],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', reject);
  });
  return {
    release: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
};

describe('runPipeline warehouse loads', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  let producer: Kinesis;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-loads-'));
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    producer = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
  });

  afterAll(async () => {
    producer?.destroy();
    await kinesis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = async (stream: string, count: number) => {
    await ensureStream(producer, stream, 1);
    await producer.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: count }, (_, i) => ({
          Data: Buffer.from(logLine(i)),
          PartitionKey: `k${i}`,
        })),
      }),
    );
  };

  it('queues at most one load behind a load that waits for the warehouse file, however many intervals pass', async () => {
    // Prepare
    await put('loads', 10);
    const file = join(dir, 'loads.duckdb');
    const config = parseConsumeConfig({
      stream: { name: 'loads', endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 250 },
      checkpoints: { type: 'file', path: join(dir, 'loads-checkpoints.json') },
      lake: { type: 'local', dir: join(dir, 'loads-lake') },
      batch: { maxAgeMs: 200 },
      warehouse: { type: 'duckdb', file, loadIntervalMs: 100 },
    });
    const running = await runPipeline(config, { logger: silentLogger });
    const deadline = Date.now() + 30_000;
    while (running.warehouseProgress.rows < 10 && Date.now() < deadline) await sleep(50);
    const warehouse = running.warehouse!;
    const starts: number[] = [];
    const load = warehouse.loadNewFiles.bind(warehouse);
    warehouse.loadNewFiles = (...args) => {
      starts.push(Date.now());
      return load(...args);
    };

    // Act: another process holds the file for 20 load intervals, then lets go, and the worker stops.
    const holder = await holdWarehouseFile(file);
    await sleep(2_000);
    await holder.release();
    const releasedAt = Date.now();
    await running.stop();

    // Assess: after the lock: the load that waited for it, at most one queued, and stop()'s last
    // load (a load per missed interval would be ~20 more, each run before stop() returns).
    expect(running.warehouseProgress.rows).toBe(10);
    expect(starts.filter((t) => t >= releasedAt).length).toBeLessThanOrEqual(3);
  }, 60_000);

  it('keeps no landed batch waiting for a freshness measure when no warehouse is loaded here', async () => {
    // Prepare: SingleStore loads the lake (warehouse none): no load here makes anything queryable.
    await put('no-warehouse', 10);
    const config = parseConsumeConfig({
      stream: { name: 'no-warehouse', endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 250 },
      checkpoints: { type: 'file', path: join(dir, 'none-checkpoints.json') },
      lake: { type: 'local', dir: join(dir, 'none-lake') },
      batch: { maxAgeMs: 200 },
      warehouse: { type: 'none' },
    });
    const running = await runPipeline(config, { logger: silentLogger });
    try {
      // Act
      const deadline = Date.now() + 30_000;
      while (running.pipeline.counters.landed < 10 && Date.now() < deadline) await sleep(50);

      // Assess
      expect(running.pipeline.counters.landed).toBe(10);
      expect(running.freshness.pendingBatches).toBe(0);
    } finally {
      await running.stop();
    }
  }, 60_000);
});
