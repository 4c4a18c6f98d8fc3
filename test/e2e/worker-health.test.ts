import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Kinesis, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { type RunningPipeline, runPipeline } from '../../consumers/cli/run-pipeline.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';
import { type S3Server, startS3Server } from '../support/s3-server.ts';
import { type SwitchableProxy, startSwitchableProxy } from '../support/switchable-proxy.ts';

/**
 * /health tells the truth: a worker that cannot land (S3 down, its lake directory gone) or cannot
 * read Kinesis answers 503 with the reason once `failingAfterMs` has passed, counts the failures
 * in /metrics, and answers 200 again once the service is back, having lost nothing.
 */

const FAILING_AFTER_MS = 1_500;

interface HealthAnswer {
  readonly status: number;
  readonly body: { status: string; reasons: string[] };
}

const health = async (running: RunningPipeline): Promise<HealthAnswer> => {
  const res = await fetch(`${running.metricsUrl}/health`);
  return { status: res.status, body: (await res.json()) as HealthAnswer['body'] };
};

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
};

const metricValue = (text: string, name: string, label: string): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(label))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);

let seq = 0;
const put = async (client: Kinesis, stream: string, n: number): Promise<void> => {
  const records = Array.from({ length: n }, () => {
    const i = seq++;
    const line = `{"timestamp":"2026-11-29T10:00:00.${String(i % 1000).padStart(3, '0')}Z","request_id":"h-${i}","project_id":"p","method":"GET","path":"/v1/x","status":200,"latency_ms":1}\n`;
    return { Data: Buffer.from(line), PartitionKey: `pk-${i}` };
  });
  await client.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
};

describe('worker /health and /metrics under outages', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  let s3: S3Server;
  let s3Proxy: SwitchableProxy;
  let kinesisProxy: SwitchableProxy;
  let producer: Kinesis;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-health-'));
    [kinesis, s3] = await Promise.all([
      startLocalKinesis({ httpPort: 0, httpsPort: 0 }),
      startS3Server('lake'),
    ]);
    [s3Proxy, kinesisProxy] = await Promise.all([
      startSwitchableProxy(s3.endpoint),
      startSwitchableProxy(kinesis.httpEndpoint),
    ]);
    producer = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
  });

  afterAll(async () => {
    producer?.destroy();
    await Promise.all([s3Proxy?.close(), kinesisProxy?.close()]);
    await Promise.all([kinesis?.close(), s3?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (stream: string, lake: Record<string, unknown>) => {
    await ensureStream(producer, stream, 1);
    const config = parseConsumeConfig({
      stream: {
        name: stream,
        endpoint: kinesisProxy.endpoint,
        idleTimeBetweenReadsMs: 200,
        backoffMaxMs: 500,
      },
      checkpoints: { path: join(dir, `${stream}.checkpoints.json`) },
      lake,
      warehouse: { type: 'none' },
      batch: { maxAgeMs: 200 },
      metrics: { port: 0, failingAfterMs: FAILING_AFTER_MS, stallAfterMs: 60_000 },
    });
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesisProxy.endpoint });
    const running = await runPipeline(config, { logger: silentLogger, client });
    return {
      running,
      stop: async () => {
        await running.stop();
        client.destroy();
      },
    };
  };

  it('turns 503 while S3 refuses every write, counts the errors, and recovers without losing a row', async () => {
    // Prepare
    const { running, stop } = await start('s3-outage', {
      type: 's3',
      bucket: 'lake',
      prefix: 'outage/',
      endpoint: s3Proxy.endpoint,
    });
    const c = running.pipeline.counters;
    await put(producer, 's3-outage', 10);
    await until('the first rows land', async () => c.landed === 10);
    expect((await health(running)).status).toBe(200);

    // Act: S3 goes away while records keep coming.
    s3Proxy.down();
    await put(producer, 's3-outage', 10);
    const started = Date.now();
    await until('health is 503', async () => (await health(running)).status === 503);
    const down = await health(running);
    const metrics = await (await fetch(`${running.metricsUrl}/metrics`)).text();
    s3Proxy.up();
    await until('the rows sent during the outage land', async () => c.landed === 20, 60_000);
    await until('health is 200 again', async () => (await health(running)).status === 200);
    await stop();

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(FAILING_AFTER_MS);
    expect(down.body.status).toBe('unhealthy');
    expect(down.body.reasons.join(' ')).toMatch(/landing has failed for \d+ s: network/);
    expect(metricValue(metrics, 'shardline_landing_errors_total', 'kind="network"')).toBeGreaterThan(0);
    expect(metrics).toMatch(/^shardline_healthy\{[^}]*\} 0$/m);
    expect(c.landed).toBe(20);
  });

  it('turns 503 while the lake directory cannot be written, and 200 once it can', async () => {
    // Prepare
    const lakeDir = join(dir, 'lake');
    const { running, stop } = await start('disk', { type: 'local', dir: lakeDir });
    const c = running.pipeline.counters;
    await put(producer, 'disk', 5);
    await until('the first rows land', async () => c.landed === 5);

    // Act: the lake's directory is replaced by a file, so every write fails (as on a broken disk).
    await rename(lakeDir, `${lakeDir}.moved`);
    await writeFile(lakeDir, 'not a directory');
    await put(producer, 'disk', 5);
    await until('health is 503', async () => (await health(running)).status === 503);
    const down = await health(running);
    await rm(lakeDir);
    await rename(`${lakeDir}.moved`, lakeDir);
    await until('the rows land after the repair', async () => c.landed === 10, 60_000);
    await until('health is 200 again', async () => (await health(running)).status === 200);
    await stop();

    // Assess
    expect(down.body.reasons.join(' ')).toMatch(/landing has failed/);
    expect(c.landed).toBe(10);
  });

  it('turns 503 while Kinesis cannot be reached, and 200 once it is back', async () => {
    // Prepare
    const { running, stop } = await start('kinesis-outage', {
      type: 's3',
      bucket: 'lake',
      prefix: 'kinesis/',
      endpoint: s3Proxy.endpoint,
    });
    const c = running.pipeline.counters;
    await put(producer, 'kinesis-outage', 5);
    await until('the first rows land', async () => c.landed === 5);

    // Act
    kinesisProxy.down();
    await until('health is 503', async () => (await health(running)).status === 503);
    const down = await health(running);
    const metrics = await (await fetch(`${running.metricsUrl}/metrics`)).text();
    kinesisProxy.up();
    await put(producer, 'kinesis-outage', 5);
    await until('health is 200 again', async () => (await health(running)).status === 200);
    await until('the rows sent after the outage land', async () => c.landed === 10);
    await stop();

    // Assess
    expect(down.body.reasons.join(' ')).toMatch(/Kinesis calls for shardId-\d+ have failed/);
    expect(metricValue(metrics, 'shardline_kinesis_errors_total', 'kind=')).toBeGreaterThan(0);
  });
});
