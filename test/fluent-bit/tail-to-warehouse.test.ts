import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { runPipeline } from '../../consumers/cli/run-pipeline.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

/**
 * tail_to_warehouse: a real Fluent Bit runs fluent-bit/sidecar-tail.yaml against the local HTTPS
 * Kinesis endpoint; every line of the tailed file must reach the warehouse exactly once, health
 * checks excepted, across a restart of Fluent Bit. Needs `fluent-bit` (5.x) on PATH; skipped
 * otherwise (it cannot be installed on the machine this project is built on).
 */

const CONFIG = resolve(import.meta.dirname, '../../fluent-bit/sidecar-tail.yaml');
const fluentBit = spawnSync('fluent-bit', ['--version'], { encoding: 'utf8' }).status === 0;

const line = (i: number, over: Record<string, unknown> = {}): string =>
  `${JSON.stringify({
    timestamp: new Date(Date.UTC(2025, 0, 15, 10, 0, 0, i)).toISOString(),
    request_id: `req-${i}`,
    project_id: 'proj_fb',
    method: 'GET',
    path: `/v1/items/${i}`,
    status: 200,
    latency_ms: i / 10,
    headers: { authorization: `Bearer secret-${i}` },
    ...over,
  })}\n`;

const waitFor = async (done: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

const stop = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

describe('Fluent Bit sidecar-tail.yaml → local HTTPS Kinesis → warehouse', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  it.skipIf(!fluentBit)(
    'delivers every tailed line once, across a Fluent Bit restart (needs fluent-bit on PATH, skipped without)',
    { timeout: 180_000 },
    async () => {
      // Prepare
      const dir = await mkdtemp(join(tmpdir(), 'shardline-fb-tail-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const kinesis = await startLocalKinesis({ dir, httpPort: 0, httpsPort: 0 });
      cleanup.push(() => kinesis.close());
      const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
      cleanup.push(async () => client.destroy());
      await ensureStream(client, 'fb-tail', 2);
      const logFile = join(dir, 'requests.jsonl');
      for (let i = 0; i < 190; i++) appendFileSync(logFile, line(i));
      for (let i = 190; i < 195; i++) appendFileSync(logFile, line(i, { request_id: undefined }));
      for (let i = 195; i < 200; i++) appendFileSync(logFile, line(i, { path: '/healthz' }));
      const env = {
        ...process.env,
        SHARDLINE_LOG_PATH: logFile,
        SHARDLINE_STATE_DIR: join(dir, 'fluent-bit'),
        SHARDLINE_STREAM: 'fb-tail',
        AWS_REGION: 'us-east-1',
        SHARDLINE_KINESIS_ENDPOINT: '127.0.0.1',
        SHARDLINE_KINESIS_PORT: new URL(kinesis.httpsEndpoint).port,
        SHARDLINE_TLS_CA_FILE: kinesis.caFile,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      };
      const startFluentBit = () => {
        const child = spawn('fluent-bit', ['-c', CONFIG], { env, stdio: 'ignore' });
        cleanup.push(() => stop(child));
        return child;
      };
      const config = parseConsumeConfig({
        stream: { name: 'fb-tail', endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 200 },
        checkpoints: { path: join(dir, 'checkpoints.json') },
        lake: { type: 'local', dir: join(dir, 'lake') },
        warehouse: { type: 'duckdb', file: join(dir, 'warehouse.duckdb') },
        enrich: { geoIp: false },
      });
      const running = await runPipeline(config, { logger: silentLogger, client });
      const c = running.pipeline.counters;

      // Act: ship, restart Fluent Bit, ship the lines written while it was down
      const first = startFluentBit();
      await waitFor(() => c.logs >= 195, '195 logs');
      await stop(first);
      for (let i = 200; i < 210; i++) appendFileSync(logFile, line(i));
      startFluentBit();
      await waitFor(() => c.logs >= 205, '205 logs');
      await running.stop();
      const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
      cleanup.push(() => warehouse.close());
      const rows = await warehouse.query('select request_id, path from requests order by path');

      // Assess
      const ids = rows.map((r) => String(r.request_id));
      expect(rows).toHaveLength(205);
      expect(new Set(ids).size).toBe(205);
      for (let i = 0; i < 190; i++) expect(ids).toContain(`req-${i}`);
      for (let i = 200; i < 210; i++) expect(ids).toContain(`req-${i}`);
      expect(ids.filter((id) => id.startsWith('fb-'))).toHaveLength(5);
      expect(rows.some((r) => r.path === '/healthz')).toBe(false);
      expect(c.deadLettered).toBe(0);
    },
  );
});
