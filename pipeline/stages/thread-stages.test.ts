import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRequestLogs, toFluentBitLine } from '../../fluent-bit/demo/traffic-generator.ts';
import { PipelineConfig } from '../config.ts';
import { loadRouteUpdates } from '../enrich/routes/route-store.ts';
import { MemoryStore } from '../land/memory-store.ts';
import type { Logger } from '../observability/logger.ts';
import { Pipeline } from '../pipeline.ts';
import type { SourceRecord } from '../types.ts';
import { StageThreadError, type ThreadStages } from './thread-stages.ts';

const START = Date.parse('2026-11-22T10:00:00Z');
const SHARDS = ['shardId-000000000000', 'shardId-000000000001'];
const text = new TextEncoder();

/**
 * Records of two shards as Fluent Bit sends them, with what a stream really carries besides:
 * resends of earlier lines on the other shard, lines that are not JSON, lines that break the
 * schema, and records of several lines.
 */
const recordsOf = (n: number): SourceRecord[][] => {
  const lines = [...generateRequestLogs(n, { seed: 7, startTime: START, ratePerSecond: 500 })].map((log) =>
    toFluentBitLine(log, String(log.timestamp)),
  );
  const perShard: SourceRecord[][] = SHARDS.map(() => []);
  for (let i = 0; i < n; i++) {
    let data = lines[i]!;
    if (i % 97 === 13) data = '{"method":"GET","path":\n';
    else if (i % 89 === 5) data = '{"method":42,"path":"/x","status":"ok"}\n';
    else if (i % 71 === 3) data = lines[i]! + lines[(i + 1) % n]! + lines[i - 1]!;
    else if (i % 50 === 49) data = lines[i - 20]!; // a resend, possibly on the other shard
    const shard = i % SHARDS.length;
    perShard[shard]!.push({
      shardId: SHARDS[shard]!,
      sequenceNumber: String(1_000_000 + i),
      partitionKey: `pk-${i % 7}`,
      arrivedAt: new Date(START + 1_000 + i * 2),
      data: text.encode(data),
    });
  }
  return perShard;
};

let dir: string;
let duck: DuckDBInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'thread-stages-'));
  duck = await DuckDBInstance.create(':memory:');
});

afterAll(async () => {
  duck.closeSync();
  await rm(dir, { recursive: true, force: true });
});

/** Every column of every landed row, in a fixed order. */
const readRows = async (bodies: readonly Uint8Array[]): Promise<string[]> => {
  const db = await duck.connect();
  const rows: string[] = [];
  try {
    for (const [i, body] of bodies.entries()) {
      const file = join(dir, `${Date.now()}-${i}.parquet`);
      await writeFile(file, body);
      const result = await db.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
      for (const row of result.getRowObjectsJson()) rows.push(JSON.stringify(row));
      await rm(file);
    }
  } finally {
    db.closeSync();
  }
  return rows.sort();
};

const run = async (threads: number, perShard: readonly SourceRecord[][]) => {
  const store = new MemoryStore();
  const config = PipelineConfig.parse({
    // Batches are cut inside the stages' chunks, so that cuts and look-ahead meet.
    batch: { maxRows: 333, maxAgeMs: 15 * 60_000 },
    enrich: { geoIp: false },
    stages: { threads },
  });
  const pipeline = await Pipeline.create(config, { store, routesWorker: 'host-a', routesSyncMs: 0 });
  expect(pipeline.stages.threads).toBe(threads);
  try {
    const processors = SHARDS.map((id) => pipeline.create(id));
    // Calls of 700 records: more than one chunk each. The shards take turns: which copy of a
    // request resent on the other shard is the first depends on that order, and so do the cuts.
    for (let at = 0; at < perShard[0]!.length; at += 700) {
      for (const [s, p] of processors.entries()) await p.processRecords(perShard[s]!.slice(at, at + 700));
    }
    await Promise.all(processors.map((p) => p.shutdownRequested()));
  } finally {
    await pipeline.close();
  }
  const landed = store.puts.filter((k) => !k.startsWith('_shardline/'));
  const parquet = await Promise.all(landed.filter((k) => k.endsWith('.parquet')).map((k) => store.get(k)));
  const other = await Promise.all(
    landed
      .filter((k) => !k.endsWith('.parquet'))
      .map(async (k) => [k, Buffer.from(await store.get(k)).toString('base64')]),
  );
  return {
    counters: { ...pipeline.counters },
    keys: [...landed].sort(),
    rows: await readRows(parquet),
    other: Object.fromEntries(other),
    routeObjects: store.puts.filter((k) => k.startsWith('_shardline/routes/')),
  };
};

/** One stage thread, batches cut by rows and memory only, no geo-IP. */
const oneThreadConfig = () =>
  PipelineConfig.parse({
    batch: { maxAgeMs: 15 * 60_000 },
    enrich: { geoIp: false },
    stages: { threads: 1 },
  });

describe('stage threads', () => {
  it('land the same objects, rows, dead letters and archive as stages in the calling thread', async () => {
    // Prepare
    const perShard = recordsOf(3_000);

    // Act
    const inThread = await run(0, perShard);
    const threaded = await run(2, perShard);

    // Assess
    expect(threaded.counters).toEqual(inThread.counters);
    expect(inThread.counters.deduplicated).toBeGreaterThan(0);
    expect(inThread.counters.deadLettered).toBeGreaterThan(0);
    expect(inThread.counters.records).toBe(3_000);
    expect(threaded.keys).toEqual(inThread.keys);
    expect(threaded.rows.length).toBe(inThread.counters.landed);
    expect(threaded.rows).toEqual(inThread.rows);
    // Dead letters and the raw archive, byte for byte.
    expect(threaded.other).toEqual(inThread.other);
    // Each thread learns routes as a worker of its own and stores them under its own name.
    expect(new Set(threaded.routeObjects.map((k) => k.replace(/^.*\/learned-/, '')))).toEqual(
      new Set(['host-a.t0.json', 'host-a.t1.json']),
    );
  }, 120_000);

  it('land a path of thousands of segments and still close: the learned routes it sends back stay shallow', async () => {
    // Prepare: valid under the path limit; learned, it nested the route trie 2,000 deep, a tree
    // the thread could not send back, and close() waited for it for ever.
    const generated = [...generateRequestLogs(1, { seed: 3, startTime: START })][0]!;
    const log = JSON.parse(toFluentBitLine(generated, String(generated.timestamp)));
    const path = '/a'.repeat(4_000);
    const record: SourceRecord = {
      shardId: SHARDS[0]!,
      sequenceNumber: '1000',
      partitionKey: 'pk',
      arrivedAt: new Date(START + 1_000),
      data: text.encode(`${JSON.stringify({ ...log, path })}\n`),
    };
    const store = new MemoryStore();
    const pipeline = await Pipeline.create(
      PipelineConfig.parse({ enrich: { geoIp: false }, stages: { threads: 1 } }),
      // Routes are taken from the thread and stored every 100 ms, as every 60 s in a worker.
      { store, routesWorker: 'host-a', routesSyncMs: 100 },
    );

    // Act
    const processor = pipeline.create(SHARDS[0]!);
    await processor.processRecords([record]);
    await processor.shutdownRequested();
    await new Promise((r) => setTimeout(r, 500));
    const closed = await Promise.race([
      pipeline.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open after 10 s'), 10_000).unref()),
    ]);

    // Assess
    expect(closed).toBe('closed');
    expect(pipeline.counters).toMatchObject({ landed: 1, deadLettered: 0 });
  });

  it('fail the processors of a thread that dies, and serve their replacements from a new thread', async () => {
    // Prepare
    const store = new MemoryStore();
    const config = oneThreadConfig();
    const errors: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (msg) => errors.push(msg),
      child: () => logger,
    };
    const pipeline = await Pipeline.create(config, { store, routesSyncMs: 0, logger });
    const [records] = recordsOf(400);
    try {
      const first = pipeline.create(SHARDS[0]!);
      await first.processRecords(records!.slice(0, 100));
      const stages = pipeline.stages as ThreadStages;

      // Act
      await stages.stopThread(0);
      const failed = await first.processRecords(records!.slice(100)).then(
        () => undefined,
        (e: unknown) => e,
      );
      first.leaseLost();
      const second = pipeline.create(SHARDS[0]!);
      await second.processRecords(records!);
      const checkpoint = await second.shutdownRequested();

      // Assess
      expect(failed).toBeInstanceOf(StageThreadError);
      expect(errors).toContain(
        'a stage thread stopped; its shards re-read from their checkpoints, a new thread starts',
      );
      expect(checkpoint).toEqual({ sequenceNumber: records!.at(-1)!.sequenceNumber });
      const files = store.puts.filter((k) => k.endsWith('.parquet'));
      expect(files).toHaveLength(1);
      // Every record of the shard is in the one file the replacement landed (less the bad lines).
      const rows = await readRows([await store.get(files[0]!)]);
      expect(rows.length).toBe(pipeline.counters.landed);
      expect(rows.length).toBeGreaterThan(180);
    } finally {
      await pipeline.close();
    }
  }, 60_000);

  it('replace a thread whose reply could not be read (messageerror), as one that dies', async () => {
    // Prepare: a reply that cannot be deserialised ends no call; the thread must go.
    const pipeline = await Pipeline.create(oneThreadConfig(), { store: new MemoryStore(), routesSyncMs: 0 });
    const [records] = recordsOf(200);
    type Slot = { worker: { emit(event: string, error: Error): void } };
    const slots = (pipeline.stages as unknown as { slots: Slot[] }).slots;
    try {
      const before = slots[0]!;

      // Act
      before.worker.emit('messageerror', new Error('reply could not be deserialised'));
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && slots[0] === before) await new Promise((r) => setTimeout(r, 50));
      const processor = pipeline.create(SHARDS[0]!);
      await processor.processRecords(records!);
      const checkpoint = await processor.shutdownRequested();

      // Assess
      expect(slots[0]).not.toBe(before);
      expect(checkpoint).toEqual({ sequenceNumber: records!.at(-1)!.sequenceNumber });
    } finally {
      await pipeline.close();
    }
  }, 60_000);

  it('start a replacement thread without the routes it stored before: the next sync adds them in', async () => {
    // Prepare: one thread learns from 150 records, and a sync stores what it learned.
    const store = new MemoryStore();
    const config = oneThreadConfig();
    const pipeline = await Pipeline.create(config, { store, routesWorker: 'host-a', routesSyncMs: 0 });
    /** Requests counted in the thread's stored learning, all projects. */
    const stored = async () => {
      let n = 0;
      for (const u of await loadRouteUpdates(store))
        for (const s of u.learned) if (s.worker === 'host-a.t0') for (const e of s.endpoints) n += e.count;
      return n;
    };
    const [records] = recordsOf(400);
    try {
      await pipeline.create(SHARDS[0]!).processRecords(records!.slice(0, 150));
      await pipeline.syncRoutes();
      const before = await stored();

      // Act: the thread dies; its replacement learns from 20 records, then a sync.
      await (pipeline.stages as ThreadStages).stopThread(0);
      const second = pipeline.create(SHARDS[0]!);
      await second.processRecords(records!.slice(150, 170));
      await pipeline.syncRoutes();
      const after = await stored();

      // Assess: the 150 records' learning is kept (the start-up copy held none of it) and added to.
      expect(before).toBeGreaterThan(100);
      expect(after).toBeGreaterThan(before);
    } finally {
      await pipeline.close();
    }
  }, 60_000);
});
