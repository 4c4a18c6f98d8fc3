/**
 * chaos — the exactly-once claim under fire. Three `shardline consume` worker processes share an
 * 8-shard local stream through a DynamoDB (dynalite) lease table while 200,000 demo events (with
 * Fluent Bit-style resent duplicates and malformed lines) are produced; a random worker is
 * SIGKILLed at random moments while all three are reading (for as long as events are produced,
 * and at least `--kills` times), its shards are taken over by the others (the time this takes is
 * measured), and it is started again. The warehouse (one DuckDB loader over the lake, as a
 * SingleStore pipeline would be) is then counted against the request ids that were sent.
 *
 *   npm run chaos -- [--events 200000] [--kills 10] [--shards 8] [--failover-ms 2000] [--renewal-ms 500]
 *
 * Prints one JSON line last: sent, uniqueRequestIds, warehouseRows, lost, duplicated, kills, the
 * measured takeover times after each SIGKILL, and how many duplicate rows the lake held (removed
 * by the warehouse's anti-join). Exits 1 unless lost and duplicated are both 0.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKinesisClient } from '../consumers/kinesis-client.ts';
import { createDynamoClient } from '../consumers/leases/dynamo-client.ts';
import { LeaseTable } from '../consumers/leases/lease-table.ts';
import { startLocalDynamo } from '../consumers/local-stack/dynamo-server.ts';
import { ensureStream } from '../consumers/local-stack/ensure-stream.ts';
import { startLocalKinesis } from '../consumers/local-stack/kinesis-server.ts';
import { spawnWorker, type WorkerProcess } from '../consumers/testing/worker-process.ts';
import { runDemoProducer } from '../fluent-bit/demo/demo-producer.ts';
import { LocalDirStore } from '../pipeline/land/local-dir-store.ts';
import { DuckDbWarehouse } from '../pipeline/warehouse/duckdb-warehouse.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    kills: { type: 'string', default: '10' },
    shards: { type: 'string', default: '8' },
    'failover-ms': { type: 'string', default: '2000' },
    'renewal-ms': { type: 'string', default: '500' },
    'timeout-s': { type: 'string', default: '900' },
    keep: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(values.events);
const MIN_KILLS = Number(values.kills);
const SHARDS = Number(values.shards);
const FAILOVER_MS = Number(values['failover-ms']);
const RENEWAL_MS = Number(values['renewal-ms']);
const STREAM = 'chaos';
const WORKERS = ['w1', 'w2', 'w3'];
const started = Date.now();
const deadline = started + Number(values['timeout-s']) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stderr.write(
    `${JSON.stringify({ t: ((Date.now() - started) / 1000).toFixed(1), msg, ...fields })}\n`,
  );

const dir = await mkdtemp(join(tmpdir(), 'shardline-chaos-'));
const kinesis = await startLocalKinesis({ dir, httpPort: 0, httpsPort: 0 });
const dynamo = await startLocalDynamo();
const kinesisClient = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
const dynamoClient = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
const leases = new LeaseTable({ client: dynamoClient, tableName: `shardline-leases-${STREAM}` });
await ensureStream(kinesisClient, STREAM, SHARDS);
await leases.ensureTable();
const configFile = join(dir, 'consume.json');
await writeFile(
  configFile,
  JSON.stringify({
    stream: {
      name: STREAM,
      endpoint: kinesis.httpEndpoint,
      maxRecordsPerCall: 2_000,
      shardSyncIntervalMs: 2_000,
    },
    checkpoints: {
      type: 'dynamodb',
      endpoint: dynamo.endpoint,
      failoverTimeMs: FAILOVER_MS,
      renewalIntervalMs: RENEWAL_MS,
    },
    lake: { type: 'local', dir: join(dir, 'lake') },
    warehouse: { type: 'none' },
    batch: { maxRows: 5_000, maxAgeMs: 1_000 },
    enrich: { geoIp: false },
  }),
);

const workers = new Map<string, WorkerProcess>();
const start = (id: string) => workers.set(id, spawnWorker({ configFile, workerId: id }));
const owners = async () => {
  const byOwner = new Map<string, string[]>();
  for (const lease of await leases.list()) {
    if (lease.leaseOwner)
      byOwner.set(lease.leaseOwner, [...(byOwner.get(lease.leaseOwner) ?? []), lease.leaseKey]);
  }
  return byOwner;
};
for (const id of WORKERS) start(id);

// The producer runs alongside the kills; it keeps every request id for the final comparison.
let producing = true;
const production = runDemoProducer({
  client: kinesisClient,
  streamName: STREAM,
  events: EVENTS,
  seed: 2026,
  collectRequestIds: true,
  concurrency: 2,
}).finally(() => {
  producing = false;
});

// One loader over the lake, as SingleStore's pipeline would be: each file once, anti-joined on request id.
const lake = new LocalDirStore(join(dir, 'lake'));
const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
const distinctLoaded = async () => {
  await warehouse.loadNewFiles(lake);
  const [row] = await warehouse.query('select count(distinct request_id)::INT as d from requests');
  return Number(row?.d ?? 0);
};

const takeovers: number[] = [];
let kills = 0;
const random = (min: number, max: number) => min + Math.random() * (max - min);
const killLoop = async () => {
  // Kills go on for as long as events are produced, and at least MIN_KILLS times.
  while ((kills < MIN_KILLS || producing) && Date.now() < deadline) {
    await sleep(random(500, 3_000));
    // Only while every worker is up and reading (holds a lease): a takeover needs a live taker,
    // and a worker still starting after the previous kill is not one.
    const holding = await owners();
    if (!WORKERS.every((w) => (holding.get(w)?.length ?? 0) > 0)) continue;
    const id = WORKERS[Math.floor(Math.random() * WORKERS.length)]!;
    const victim = workers.get(id)!;
    const orphaned = holding.get(id) ?? [];
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    kills++;
    // Its shards must be taken by the others before it comes back (it would take its own back at once).
    while (orphaned.length > 0 && Date.now() < deadline) {
      const now = await owners();
      if (orphaned.every((shard) => WORKERS.some((w) => w !== id && now.get(w)?.includes(shard)))) break;
      await sleep(25);
    }
    const takeoverMs = orphaned.length > 0 ? Date.now() - killedAt : undefined;
    if (takeoverMs !== undefined) takeovers.push(takeoverMs);
    log('killed and taken over', { worker: id, shards: orphaned.length, takeoverMs, kills });
    start(id);
  }
};
await killLoop();
const sent = await production;
const unique = sent.requestIds?.size ?? sent.uniqueValid;
log('produced', {
  sent: sent.sent,
  uniqueRequestIds: unique,
  duplicatesSent: sent.duplicates,
  malformed: sent.malformed,
});

// Drain: wait until the warehouse holds every request id, or nothing has arrived for a while.
let loaded = await distinctLoaded();
let lastGrowth = Date.now();
while (loaded < unique && Date.now() < deadline && Date.now() - lastGrowth < 60_000) {
  await sleep(2_000);
  const now = await distinctLoaded();
  if (now > loaded) lastGrowth = Date.now();
  loaded = now;
  log('draining', { loaded, unique });
}
for (const w of workers.values()) if (w.child.exitCode === null) w.child.kill('SIGTERM');
const codes = await Promise.all([...workers.values()].map((w) => w.exited));
await distinctLoaded();

const [totals] = await warehouse.query(
  `select count(*)::INT as n, count(distinct (project_id, request_id))::INT as d from requests`,
);
const ids = await warehouse.query('select distinct request_id as id from requests');
const inWarehouse = new Set(ids.map((r) => String(r.id)));
let lost = 0;
for (const id of sent.requestIds ?? []) if (!inWarehouse.has(id)) lost++;
let unexpected = 0;
for (const id of inWarehouse) if (!sent.requestIds?.has(id)) unexpected++;
const warehouseRows = Number(totals?.n ?? 0);
const duplicated = warehouseRows - Number(totals?.d ?? 0);
const lakeRows = await warehouse.query(
  `select count(*)::INT as n, count(distinct (project_id, request_id))::INT as d from read_parquet('${join(dir, 'lake', 'requests')}/**/*.parquet')`,
);
const leaseRows = await leases.list();
await warehouse.close();
const sorted = [...takeovers].sort((a, b) => a - b);
const summary = {
  sent: sent.sent,
  uniqueRequestIds: unique,
  warehouseRows,
  lost,
  duplicated,
  unexpected,
  kills,
  failoverTimeMs: FAILOVER_MS,
  renewalIntervalMs: RENEWAL_MS,
  takeoverMs: {
    count: sorted.length,
    min: sorted[0],
    median: sorted[Math.floor(sorted.length / 2)],
    p90: sorted[Math.floor(sorted.length * 0.9)],
    max: sorted[sorted.length - 1],
    budget: FAILOVER_MS + RENEWAL_MS,
  },
  duplicatesSent: sent.duplicates,
  malformedSent: sent.malformed,
  lakeRows: Number(lakeRows[0]?.n ?? 0),
  lakeDuplicateRows: Number(lakeRows[0]?.n ?? 0) - Number(lakeRows[0]?.d ?? 0),
  leasesAtEnd: leaseRows.length,
  workerExitCodes: codes,
  seconds: Math.round((Date.now() - started) / 1000),
};
kinesisClient.destroy();
dynamoClient.destroy();
await dynamo.close();
await kinesis.close();
if (values.keep) log('state kept', { dir });
else await rm(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exitCode = lost === 0 && duplicated === 0 && unexpected === 0 ? 0 : 1;
