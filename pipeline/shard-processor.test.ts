import { describe, expect, it } from 'vitest';
import { generateRequestLogs, toFluentBitLine } from '../fluent-bit/demo/traffic-generator.ts';
import { PipelineConfig } from './config.ts';
import { aggregate } from './decode/kpl.ts';
import { MemoryStore } from './land/memory-store.ts';
import { Pipeline } from './pipeline.ts';
import type { LandedBatch } from './shard-processor.ts';
import type { BatchRange, SourceRecord } from './types.ts';

const SHARD = 'shardId-000000000001';
const encoder = new TextEncoder();

const lines = (n: number, firstIndex = 0) =>
  [...generateRequestLogs(n, { seed: 5, firstIndex, startTime: Date.parse('2026-11-22T10:00:00Z') })].map(
    (log) => encoder.encode(toFluentBitLine(log, String(log.timestamp))),
  );

const recordFactory = (data: Uint8Array, seq: number): SourceRecord => ({
  shardId: SHARD,
  sequenceNumber: String(1_000 + seq),
  partitionKey: 'pk',
  arrivedAt: new Date(Date.parse('2026-11-22T10:00:00Z') + seq),
  data,
});

const setup = async (maxRows: number, dedupeWindowMs?: number) => {
  const store = new MemoryStore();
  const landed: LandedBatch[] = [];
  const config = PipelineConfig.parse({
    batch: { maxRows, maxAgeMs: 60_000 },
    enrich: { geoIp: false },
    dedupe: dedupeWindowMs === undefined ? {} : { windowMs: dedupeWindowMs },
  });
  const pipeline = await Pipeline.create(config, { store, onLanded: (b) => landed.push(b) });
  return { store, landed, pipeline };
};

/**
 * A pipeline whose shards may write one early file (fresh after 1 s, aged at 5 s), on the test's
 * clock (`clock.now`), and records arriving at that clock's time.
 */
const withFileBudgetOfOne = async () => {
  const t0 = Date.parse('2026-11-22T10:00:10Z');
  const clock = { now: t0 };
  const landed: LandedBatch[] = [];
  const config = PipelineConfig.parse({
    batch: { maxRows: 1_000, maxAgeMs: 5_000, freshAgeMs: 1_000, freshBurst: 1 },
    enrich: { geoIp: false },
    stages: { threads: 0 },
  });
  const pipeline = await Pipeline.create(config, {
    store: new MemoryStore(),
    onLanded: (b) => landed.push(b),
    now: () => clock.now,
    routesSyncMs: 0,
  });
  const arriving = (seq: number) => ({
    ...recordFactory(lines(1, seq)[0]!, seq),
    arrivedAt: new Date(clock.now),
  });
  return { t0, clock, landed, pipeline, arriving };
};

describe('ShardProcessor and the consumer contract', () => {
  it("gives a record without a usable arrival time its neighbour's, instead of failing the shard on it", async () => {
    // Prepare: Kinesis always sets one; a replay of a damaged archive or a hand-made record may not.
    const { pipeline, store } = await setup(10);
    const processor = pipeline.create(SHARD);
    const [a, b, c] = lines(3);
    const records = [
      { ...recordFactory(a!, 0), arrivedAt: new Date(Number.NaN) },
      { ...recordFactory(b!, 1), arrivedAt: new Date(Date.UTC(10_000, 0, 1)) },
      recordFactory(c!, 2),
    ];

    // Act
    await processor.processRecords(records);
    const checkpoint = await processor.shutdownRequested();
    await pipeline.close();

    // Assess
    expect(checkpoint?.sequenceNumber).toBe('1002');
    expect(pipeline.counters).toMatchObject({ records: 3, landed: 3, deadLettered: 0 });
    const files = store.puts.filter((k) => k.endsWith('.parquet'));
    expect(files).toHaveLength(1);
    // Named by the batch's newest arrival: the one usable arrival, the same on every retry.
    expect(files[0]).toContain('20261122T100000002Z');
  });

  it('lands early (fresh) between reads while the file budget allows, then at maxAgeMs', async () => {
    // Prepare: a budget of one early file; the processors' clock is the test's.
    const { t0, clock, landed, pipeline, arriving } = await withFileBudgetOfOne();
    const processor = pipeline.create(SHARD);

    // Act
    await processor.processRecords([arriving(0)]);
    const beforeFresh = await processor.tick(t0 + 999);
    clock.now = t0 + 1_000;
    const fresh = await processor.tick(clock.now);
    await processor.processRecords([arriving(1)]);
    clock.now = t0 + 2_000;
    const budgetSpent = await processor.tick(clock.now);
    clock.now = t0 + 5_999;
    const beforeAge = await processor.tick(clock.now);
    clock.now = t0 + 6_000;
    const aged = await processor.tick(clock.now);
    await pipeline.close();

    // Assess
    expect([beforeFresh, fresh, budgetSpent, beforeAge, aged]).toEqual([
      undefined,
      { sequenceNumber: '1000' },
      undefined,
      undefined,
      { sequenceNumber: '1001' },
    ]);
    expect(landed.map((b) => b.reason)).toEqual(['fresh', 'age']);
  });

  it('keeps the early-file budget of a shard across processor restarts', async () => {
    // Prepare: a budget of one early file, spent by the first processor.
    const { t0, clock, landed, pipeline, arriving } = await withFileBudgetOfOne();
    const first = pipeline.create(SHARD);
    await first.processRecords([arriving(0)]);
    clock.now = t0 + 1_000;
    await first.tick(clock.now);

    // Act: the processor fails; its replacement reads the next record, then the clock goes on.
    first.leaseLost();
    const second = pipeline.create(SHARD);
    await second.processRecords([arriving(1)]);
    clock.now = t0 + 2_000;
    const early = await second.tick(clock.now);
    clock.now = t0 + 6_000;
    const aged = await second.tick(clock.now);
    await pipeline.close();

    // Assess: no second early file right after the restart; the batch waits for maxAgeMs.
    expect(early).toBeUndefined();
    expect(aged).toEqual({ sequenceNumber: '1001' });
    expect(landed.map((b) => b.reason)).toEqual(['fresh', 'age']);
  });

  it('skips the sub-records of a KPL aggregate at or below a sub-sequence checkpoint', async () => {
    // Prepare: one aggregate of 5 logs, checkpointed after its sub-record 2.
    const { landed, pipeline } = await setup(1_000);
    const data = aggregate(lines(5).map((bytes) => ({ partitionKey: 'pk', data: bytes })));
    const processor = pipeline.create(SHARD, {
      checkpoint: { sequenceNumber: '1000', subSequenceNumber: 2 },
    });

    // Act
    await processor.processRecords([recordFactory(data, 0)]);
    await processor.shutdownRequested();

    // Assess: sub-records 3 and 4 only.
    expect(landed.map((b) => b.rows)).toEqual([2]);
    await pipeline.close();
  });

  it('cuts the first batch at an announced range, so that it lands under the same key again', async () => {
    // Prepare: a first owner lands batches of 3 records, announcing each range.
    const records = lines(9).map(recordFactory);
    const first = await setup(3);
    const announced: BatchRange[] = [];
    const owner = first.pipeline.create(SHARD, {
      beforeLanding: async (range) => {
        announced.push(range);
      },
    });
    await owner.processRecords(records.slice(0, 3));

    // Act: another owner with other batch limits resumes before that first batch was checkpointed.
    const second = await setup(1_000);
    const successor = second.pipeline.create(SHARD, { pendingBatch: announced[0] });
    await successor.processRecords(records);
    await successor.shutdownRequested();

    // Assess: the announced batch gets the same key; the rest lands as one more batch.
    expect(announced).toEqual([{ firstSequence: '1000', lastSequence: '1002' }]);
    expect(second.store.puts[0]).toBe(first.store.puts[0]);
    expect(second.landed.map((b) => [b.reason, b.rows])).toEqual([
      ['recovery', 3],
      ['shutdown', 6],
    ]);
    await first.pipeline.close();
    await second.pipeline.close();
  });

  it('lands nothing when the announcement is refused, and lands the records when read again', async () => {
    // Prepare
    const { landed, pipeline } = await setup(2);
    const records = lines(2).map(recordFactory);
    const lost = pipeline.create(SHARD, {
      beforeLanding: () => Promise.reject(new Error('lease lost')),
    });

    // Act: the first processor's batch is dropped; the same records are read again.
    await expect(lost.processRecords(records)).rejects.toThrow('lease lost');
    lost.leaseLost();
    const again = pipeline.create(SHARD);
    await again.processRecords(records);

    // Assess: not dropped as duplicates of their own unlanded first sighting.
    expect(landed.map((b) => b.rows)).toEqual([2]);
    expect(pipeline.counters.deduplicated).toBe(0);
    await pipeline.close();
  });

  it('re-lands a recovery batch whole, even when the deduplicator remembers its rows', async () => {
    // Prepare: this process lands a batch, loses the lease before its checkpoint, and takes it back.
    const { store, landed, pipeline } = await setup(3);
    const records = lines(3).map(recordFactory);
    const announced: BatchRange[] = [];
    const before = pipeline.create(SHARD, {
      beforeLanding: async (range) => {
        announced.push(range);
      },
    });
    await before.processRecords(records);
    before.leaseLost();

    // Act: read again with the announced range pending.
    const after = pipeline.create(SHARD, { pendingBatch: announced[0] });
    await after.processRecords(records);

    // Assess: the same key is replaced by the same rows, not by a subset.
    expect(landed.map((b) => [b.reason, b.rows])).toEqual([
      ['rows', 3],
      ['recovery', 3],
    ]);
    const parquet = store.puts.filter((k) => k.endsWith('.parquet'));
    expect(parquet).toHaveLength(2);
    expect(parquet[1]).toBe(parquet[0]);
    await pipeline.close();
  });

  it('still dedupes within a recovery batch', async () => {
    // Prepare: the announced range holds the same log twice.
    const { landed, pipeline } = await setup(1_000);
    const [line] = lines(1);
    const records = [recordFactory(line!, 0), recordFactory(line!, 1)];
    const processor = pipeline.create(SHARD, {
      pendingBatch: { firstSequence: '1000', lastSequence: '1001' },
    });

    // Act
    await processor.processRecords(records);

    // Assess
    expect(landed.map((b) => [b.reason, b.rows])).toEqual([['recovery', 1]]);
    expect(pipeline.counters.deduplicated).toBe(1);
    await pipeline.close();
  });

  it('passes the last landed checkpoint with the next announcement', async () => {
    // Prepare: two batches land in one call; the consumer stores checkpoints only after it.
    const { pipeline } = await setup(2);
    const calls: [BatchRange, string | undefined][] = [];
    const processor = pipeline.create(SHARD, {
      beforeLanding: async (range, landed) => {
        calls.push([range, landed?.sequenceNumber]);
      },
    });

    // Act
    await processor.processRecords(lines(4).map(recordFactory));

    // Assess: the second announcement carries the first batch's checkpoint, to be stored first.
    expect(calls).toEqual([
      [{ firstSequence: '1000', lastSequence: '1001' }, undefined],
      [{ firstSequence: '1002', lastSequence: '1003' }, '1001'],
    ]);
    await pipeline.close();
  });

  it('forgets a released key at its next sighting, even one the deduplicator no longer flags', async () => {
    // Prepare: a log's first sighting is dropped unlanded; it is read again after the window.
    const { landed, pipeline } = await setup(1_000, 1_000);
    const [line] = lines(1);
    const at = (ms: number): SourceRecord => ({
      ...recordFactory(line!, 0),
      arrivedAt: new Date(Date.parse('2026-11-22T10:00:00Z') + ms),
    });
    const lost = pipeline.create(SHARD, { beforeLanding: () => Promise.reject(new Error('lease lost')) });
    await lost.processRecords([at(0)]);
    await expect(lost.shutdownRequested()).rejects.toThrow('lease lost');
    lost.leaseLost();

    // Act: read again past the window, then a genuine duplicate of it arrives within the window.
    const again = pipeline.create(SHARD);
    await again.processRecords([at(5_000), { ...at(5_100), sequenceNumber: '1001' }]);
    await again.shutdownRequested();

    // Assess
    expect(landed.map((b) => b.rows)).toEqual([1]);
    expect(pipeline.counters.deduplicated).toBe(1);
    await pipeline.close();
  });

  it('lands two requests that reuse one request id at different times, and drops a resend of either', async () => {
    // Prepare: the same request_id, written by an app for two different requests.
    const { landed, pipeline } = await setup(1_000);
    const line = (ts: string) =>
      encoder.encode(
        `{"timestamp":"${ts}","request_id":"trace-7","project_id":"p","method":"POST","path":"/v1/orders","status":201,"latency_ms":3}`,
      );
    const first = line('2026-11-22T10:00:00.000Z');
    const second = line('2026-11-22T10:00:01.000Z');
    const processor = pipeline.create(SHARD);

    // Act
    await processor.processRecords([first, second, first, second].map(recordFactory));
    await processor.shutdownRequested();

    // Assess
    expect(landed.map((b) => b.rows)).toEqual([2]);
    expect(pipeline.counters.deduplicated).toBe(2);
    await pipeline.close();
  });
});
