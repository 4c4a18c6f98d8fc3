import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import type { LocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { runDemoProducer } from '../../fluent-bit/demo/demo-producer.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

/**
 * kinesis_to_warehouse after a crash: `shardline consume` runs as its own process, is SIGKILLed while
 * batches are landing, and is started again. The warehouse must end with every valid event exactly
 * once, and the dead-letter sink with every malformed one.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'consumers/cli/bin.cjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('shardline consume survives SIGKILL', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-sigkill-'));
    kinesis = await startLocalKinesis({ dir, httpPort: 0, httpsPort: 0 });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await kinesis.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Counts what has landed by reading the lake's files directly, as any reader of the lake would. */
  const lakeCounts = async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const rows = await conn.runAndReadAll(
        `select count(*)::INT as n, count(distinct project_id || '/' || request_id)::INT as d
           from read_parquet('${join(dir, 'lake', 'requests')}/**/*.parquet')`,
      );
      const [n, d] = rows.getRows()[0] as [number, number];
      return { rows: n, distinct: d };
    } catch {
      return { rows: 0, distinct: 0 };
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  };

  const startConsumer = (configFile: string) => {
    const child = spawn(process.execPath, [BIN, 'consume', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SHARDLINE_LOG_LEVEL: 'warn' },
    });
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    children.push(child);
    return { child, stderr: () => stderr };
  };

  it('loses nothing and duplicates nothing', async () => {
    // Prepare
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    await ensureStream(client, 'api-logs', 4);
    const sent = await runDemoProducer({ client, streamName: 'api-logs', events: 8_000, seed: 7 });
    client.destroy();
    const configFile = join(dir, 'consume.json');
    await writeFile(
      configFile,
      JSON.stringify({
        stream: {
          name: 'api-logs',
          endpoint: kinesis.httpEndpoint,
          maxRecordsPerCall: 500,
          idleTimeBetweenReadsMs: 200,
        },
        checkpoints: { path: join(dir, 'checkpoints.json') },
        lake: { type: 'local', dir: join(dir, 'lake') },
        warehouse: { type: 'duckdb', file: join(dir, 'warehouse.duckdb'), loadIntervalMs: 200 },
        batch: { maxRows: 400, maxAgeMs: 300 },
        enrich: { geoIp: false },
      }),
    );

    // Act: kill the consumer while it is landing, then start it again and let it finish.
    const first = startConsumer(configFile);
    let before = await lakeCounts();
    for (let i = 0; i < 600 && before.rows < sent.uniqueValid / 3; i++) {
      await sleep(100);
      before = await lakeCounts();
    }
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(before.rows, `nothing landed before the kill: ${first.stderr()}`).toBeGreaterThan(0);
    expect(before.rows, 'the consumer finished before it could be killed').toBeLessThan(sent.uniqueValid);

    const second = startConsumer(configFile);
    let after = await lakeCounts();
    for (let i = 0; i < 600 && after.distinct < sent.uniqueValid; i++) {
      await sleep(100);
      after = await lakeCounts();
    }
    await sleep(1_000);
    second.child.kill('SIGTERM');
    const code = await new Promise((r) => second.child.once('exit', r));

    // Assess: the warehouse's own counts.
    expect(code, second.stderr()).toBe(0);
    const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'), { readOnly: true });
    const [counts] = await warehouse.query(
      `select count(*)::INT as n, count(distinct project_id || '/' || request_id)::INT as d from requests`,
    );
    await warehouse.close();
    expect(after.distinct).toBe(sent.uniqueValid);
    expect(counts).toEqual({ n: sent.uniqueValid, d: sent.uniqueValid });
  });
});
