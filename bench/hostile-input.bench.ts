/**
 * hostile-input — what a few kilobytes of hostile records cost `shardline dev`.
 *
 * Starts `shardline dev --no-demo` as a child process (its own state directory, free ports), then
 * puts on ONE shard: a 7-8 KB gzip record of 2.7 million `{}` lines, an 8 MiB line inside gzip,
 * eight gzip records of 1 MiB of `{}` lines; then `--valid` valid request logs spread over every
 * shard, the hostile shard included. It waits until the warehouse holds every valid request,
 * samples the child's RSS all along, and reads /health and /metrics.
 *
 *   npm run bench:hostile -- [--valid 2000] [--timeout-s 120]
 *
 * Last line: {"validSent","queryable","secondsToQueryable","deadLetters","peakRssMb",
 * "health","stalls"}. Exits 1 unless every valid request is queryable in time.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { WORKER_NODE_FLAGS } from '../consumers/cli/node-flags.ts';
import { createKinesisClient } from '../consumers/kinesis-client.ts';
import { DuckDbWarehouse } from '../pipeline/warehouse/duckdb-warehouse.ts';

const { values } = parseArgs({
  options: {
    valid: { type: 'string', default: '2000' },
    'timeout-s': { type: 'string', default: '120' },
  },
});
const VALID = Number(values.valid);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
const STREAM = 'hostile';

const dir = await mkdtemp(join(tmpdir(), 'shardline-hostile-'));
const child = spawn(
  process.execPath,
  [
    ...WORKER_NODE_FLAGS,
    'consumers/cli/bin.cjs',
    'dev',
    '--no-demo',
    '--dir',
    dir,
    '--stream',
    STREAM,
    '--shards',
    '4',
    '--http-port',
    '0',
    '--https-port',
    '0',
    '--metrics-port',
    '0',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let banner = '';
child.stderr?.on('data', (chunk: Buffer) => {
  if (banner.length < 10_000) banner += chunk.toString();
});
const endpointOf = async (pattern: RegExp): Promise<string> => {
  for (let i = 0; i < 600; i++) {
    const match = pattern.exec(banner);
    if (match) return match[1] as string;
    await sleep(100);
  }
  throw new Error(`shardline dev did not print ${pattern}: ${banner}`);
};
const kinesisUrl = await endpointOf(/Kinesis \(SDK, HTTP\)\s+(http:\/\/\S+)/);
const metricsUrl = await endpointOf(/Metrics and health\s+(http:\/\/\S+)\/metrics/);

let peakRssKb = 0;
const sampleRss = (): void => {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    peakRssKb = Math.max(peakRssKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
  } catch {
    // The child is gone; the last sample stands.
  }
};
const sampler = setInterval(sampleRss, 200);

let stalls = 0;
const probeHealth = async (): Promise<{ status: number; body: unknown }> => {
  const started = Date.now();
  try {
    const res = await fetch(`${metricsUrl}/health`, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: await res.json() };
  } catch {
    stalls++;
    return { status: 0, body: `no answer within ${Date.now() - started} ms` };
  }
};

const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesisUrl });
const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: STREAM }));
const hashKeyOf = (i: number): string => Shards[i % Shards.length]?.HashKeyRange?.StartingHashKey as string;

const hostile = [
  gzipSync(Buffer.from('{}\n'.repeat(2_700_000)), { level: 9 }),
  gzipSync(Buffer.from(`{"pad":"${'x'.repeat(8 * 1024 * 1024 - 20)}"}\n`), { level: 9 }),
  ...Array.from({ length: 8 }, () => gzipSync(Buffer.from('{}\n'.repeat(349_525)), { level: 9 })),
];
for (const data of hostile) {
  await client.send(
    new PutRecordsCommand({
      StreamName: STREAM,
      Records: [{ Data: data, PartitionKey: 'hostile', ExplicitHashKey: hashKeyOf(0) }],
    }),
  );
}
const started = Date.now();
for (let at = 0; at < VALID; at += 500) {
  const records = Array.from({ length: Math.min(500, VALID - at) }, (_, k) => {
    const i = at + k;
    const line = `{"timestamp":"${new Date().toISOString()}","request_id":"valid-${i}","project_id":"p","method":"GET","path":"/v1/items/${i}","status":200,"latency_ms":3}\n`;
    return { Data: Buffer.from(line), PartitionKey: `k${i}`, ExplicitHashKey: hashKeyOf(i) };
  });
  await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
}

let queryable = 0;
let secondsToQueryable: number | undefined;
let lastHealth: { status: number; body: unknown } = { status: 0, body: undefined };
while (Date.now() - started < TIMEOUT_MS) {
  await sleep(1_000);
  lastHealth = await probeHealth();
  try {
    const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'), { readOnly: true });
    try {
      const [row] = (await warehouse.query(
        "SELECT count(DISTINCT request_id) AS n FROM requests WHERE request_id LIKE 'valid-%'",
      )) as { n: number }[];
      queryable = Number(row?.n ?? 0);
    } finally {
      await warehouse.close();
    }
  } catch {
    // The writer holds the file for a moment; ask again on the next round.
  }
  if (queryable >= VALID) {
    secondsToQueryable = (Date.now() - started) / 1000;
    break;
  }
}
const metrics = await fetch(`${metricsUrl}/metrics`)
  .then((r) => r.text())
  .catch(() => '');
// One series per reason: their sum is every dead letter.
const deadLetters = [...metrics.matchAll(/^shardline_dead_letters_total\{[^}]*\} (\d+)/gm)].reduce(
  (n, m) => n + Number(m[1]),
  0,
);
sampleRss();
clearInterval(sampler);
child.kill('SIGTERM');
const exitStarted = Date.now();
await new Promise((resolve) => child.once('exit', resolve));
client.destroy();
await rm(dir, { recursive: true, force: true });

const result = {
  validSent: VALID,
  queryable,
  secondsToQueryable,
  hostileRecords: hostile.length,
  hostileBytes: hostile.reduce((n, d) => n + d.byteLength, 0),
  deadLetters,
  peakRssMb: Math.round(peakRssKb / 1024),
  health: lastHealth.status,
  healthPollsUnanswered: stalls,
  sigtermExitMs: Date.now() - exitStarted,
};
console.log(JSON.stringify(result));
process.exit(queryable >= VALID ? 0 : 1);
