import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { createDynamoClient } from '../../consumers/leases/dynamo-client.ts';
import { LeaseTable } from '../../consumers/leases/lease-table.ts';
import { type LocalDynamo, startLocalDynamo } from '../../consumers/local-stack/dynamo-server.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { spawnWorker, type WorkerProcess } from '../../consumers/testing/worker-process.ts';
import { runDemoProducer } from '../../fluent-bit/demo/demo-producer.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

/**
 * kinesis_to_lake with three `shardline consume` workers as separate processes sharing an 8-shard
 * stream through a DynamoDB (dynalite) lease table: the leases spread evenly, a SIGKILLed
 * worker's shards are taken over after the failover time, a SIGTERMed worker hands its leases
 * over at once, and every event still ends in the warehouse exactly once.
 */

const STREAM = 'lease-workers';
const SHARDS = 8;
const FAILOVER_MS = 1_500;
const RENEWAL_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('three shardline consume workers sharing a stream through leases', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  let dynamo: LocalDynamo;
  let dynamoClient: ReturnType<typeof createDynamoClient>;
  let leases: LeaseTable;
  let configFile: string;
  let uniqueValid = 0;
  const workers = new Map<string, WorkerProcess>();

  const owners = async () => {
    const byOwner = new Map<string, string[]>();
    for (const lease of await leases.list()) {
      const owner = lease.leaseOwner ?? '(none)';
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), lease.leaseKey]);
    }
    return byOwner;
  };
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) {
        const logs = [...workers.values()]
          .map((w) => `${w.workerId}: ${w.stderr().slice(-2_000)}`)
          .join('\n');
        throw new Error(
          `timed out waiting until ${what}; leases ${JSON.stringify([...(await owners())])}\n${logs}`,
        );
      }
      await sleep(50);
    }
  };
  const produce = async (events: number, seed: number) => {
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    try {
      const sent = await runDemoProducer({ client, streamName: STREAM, events, seed });
      uniqueValid += sent.uniqueValid;
    } finally {
      client.destroy();
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-leases-'));
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    dynamo = await startLocalDynamo();
    dynamoClient = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    leases = new LeaseTable({ client: dynamoClient, tableName: `shardline-leases-${STREAM}` });
    await leases.ensureTable();
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    await ensureStream(client, STREAM, SHARDS);
    client.destroy();
    configFile = join(dir, 'consume.json');
    await writeFile(
      configFile,
      JSON.stringify({
        stream: {
          name: STREAM,
          endpoint: kinesis.httpEndpoint,
          maxRecordsPerCall: 500,
          shardSyncIntervalMs: 1_000,
        },
        checkpoints: {
          type: 'dynamodb',
          endpoint: dynamo.endpoint,
          failoverTimeMs: FAILOVER_MS,
          renewalIntervalMs: RENEWAL_MS,
        },
        lake: { type: 'local', dir: join(dir, 'lake') },
        warehouse: { type: 'none' },
        batch: { maxRows: 500, maxAgeMs: 300 },
        enrich: { geoIp: false },
      }),
    );
    await produce(4_000, 11);
  });

  afterAll(async () => {
    for (const w of workers.values()) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all([...workers.values()].map((w) => w.exited));
    dynamoClient?.destroy();
    await dynamo?.close();
    await kinesis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('spreads the 8 leases evenly: none holds more than ceil(8/3)+1, as each worker’s metrics say', async () => {
    // Prepare
    const metricsPort = await freePort();

    // Act
    for (const id of ['w1', 'w2', 'w3']) {
      const extraArgs = id === 'w1' ? ['--metrics-port', String(metricsPort)] : [];
      workers.set(id, spawnWorker({ configFile, workerId: id, extraArgs }));
    }
    await waitFor('every worker holds a lease', async () => {
      const o = await owners();
      return ['w1', 'w2', 'w3'].every((id) => (o.get(id)?.length ?? 0) > 0) && !o.has('(none)');
    });
    await sleep(RENEWAL_MS * 3);

    // Assess
    const o = await owners();
    const counts = ['w1', 'w2', 'w3'].map((id) => o.get(id)?.length ?? 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(SHARDS);
    expect(Math.max(...counts)).toBeLessThanOrEqual(Math.ceil(SHARDS / 3) + 1);
    // The table and the worker's own figures agree once no steal is in flight.
    let metrics = '';
    await waitFor('w1 reports the leases the table gives it', async () => {
      metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const held = (await owners()).get('w1')?.length;
      return metrics.includes(`shardline_leases_held{worker="w1",stream="${STREAM}"} ${held}\n`);
    });
    const health = await fetch(`http://127.0.0.1:${metricsPort}/health`);
    expect(metrics).toMatch(
      /shardline_millis_behind_latest\{worker="w1",stream="lease-workers",shard="shardId-\d+"\} \d+/,
    );
    expect(health.status).toBe(200);
  });

  it('hands a SIGKILLed worker’s shards to the others once its leases expire', async () => {
    // Prepare
    const victim = workers.get('w3')!;
    const orphaned = (await owners()).get('w3') ?? [];
    expect(orphaned.length).toBeGreaterThan(0);

    // Act
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    await waitFor('the killed worker’s leases have new owners', async () => {
      const owned = await owners();
      return orphaned.every((shard) => owned.get('w1')?.includes(shard) || owned.get('w2')?.includes(shard));
    });
    const takeoverMs = Date.now() - killedAt;
    await produce(2_000, 12);

    // Assess: measured here, asserted nowhere (timing belongs to bench/chaos.ts).
    console.info(
      `takeover after SIGKILL: ${takeoverMs} ms (failover ${FAILOVER_MS} ms + renewal ${RENEWAL_MS} ms)`,
    );
    expect((await owners()).has('w3')).toBe(false);
  });

  it('moves a SIGTERMed worker’s leases without waiting for them to expire', async () => {
    // Prepare
    const leaving = workers.get('w2')!;
    const held = (await owners()).get('w2') ?? [];
    expect(held.length).toBeGreaterThan(0);

    // Act
    leaving.child.kill('SIGTERM');
    const code = await leaving.exited;
    const atExit = await owners();

    // Assess: released at exit (an expiring lease would still name w2), then taken by w1.
    expect(code, leaving.stderr()).toBe(0);
    expect(atExit.has('w2')).toBe(false);
    await waitFor('w1 holds every lease', async () => (await owners()).get('w1')?.length === SHARDS);
  });

  it('lands every event exactly once in the warehouse', async () => {
    // Prepare
    const lake = new LocalDirStore(join(dir, 'lake'));
    const countLake = async () => {
      const warehouse = await DuckDbWarehouse.open(join(dir, `count-${Date.now()}.duckdb`));
      try {
        await warehouse.loadNewFiles(lake);
        const [row] = await warehouse.query(
          `select count(*)::INT as n, count(distinct project_id || '/' || request_id)::INT as d from requests`,
        );
        return row as { n: number; d: number };
      } finally {
        await warehouse.close();
      }
    };

    // Act
    let counts = { n: 0, d: 0 };
    await waitFor(
      'every unique event is in the warehouse',
      async () => {
        counts = await countLake().catch(() => ({ n: 0, d: 0 }));
        return counts.d >= uniqueValid;
      },
      90_000,
    );

    // Assess
    expect(counts).toEqual({ n: uniqueValid, d: uniqueValid });
  });
});
