import { describe, expect, it } from 'vitest';
import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import { FreshnessTracker } from './freshness-tracker.ts';

const batch = (oldestArrivalMs: number, rows = 10, firstReadMs = oldestArrivalMs): LandedBatch => ({
  shardId: 's',
  reason: 'age',
  rows,
  deadLetters: 0,
  keys: [],
  checkpoint: { sequenceNumber: '1' },
  millis: 1,
  oldestArrivalMs,
  firstReadMs,
});

describe('FreshnessTracker', () => {
  it('measures arrival to the end of the first load that started after landing', () => {
    // Prepare
    let now = 1_000;
    const tracker = new FreshnessTracker(100, () => now);
    tracker.landed(batch(0)); // landed at 1000
    now = 1_500;
    tracker.landed(batch(900)); // landed at 1500, after the load below started

    // Act
    now = 2_000;
    tracker.loaded(1_200);
    const afterFirst = tracker.stats();
    now = 3_000;
    tracker.loaded(2_500);

    // Assess
    expect(afterFirst).toMatchObject({ batches: 1, p50Ms: 2_000, p95Ms: 2_000, maxMs: 2_000 });
    expect(tracker.stats()).toMatchObject({ batches: 2, maxMs: 2_100 });
  });

  it('holds at most as many landed batches waiting for a load as it keeps samples', () => {
    // Prepare: no load ever comes (it keeps failing).
    let now = 0;
    const tracker = new FreshnessTracker(3, () => now);

    // Act
    for (let i = 0; i < 10; i++) {
      now = 1_000 * i;
      tracker.landed(batch(now - 100));
    }
    const waiting = tracker.pendingBatches;
    now = 20_000;
    tracker.loaded(19_000);

    // Assess: the newest three were kept and measured.
    expect(waiting).toBe(3);
    expect(tracker.pendingBatches).toBe(0);
    expect(tracker.stats()).toMatchObject({ batches: 3, maxMs: 20_000 - 6_900 });
  });

  it('keeps a batch whose file the load could not read until a load takes it', () => {
    // Prepare
    let now = 1_000;
    const tracker = new FreshnessTracker(100, () => now);
    tracker.landed({ ...batch(0), keys: ['requests/a.parquet', 'dead_letters/a.jsonl'] });
    tracker.landed({ ...batch(500), keys: ['requests/b.parquet'] });

    // Act: the first load fails to read a.parquet; the next one loads it.
    now = 2_000;
    tracker.loaded(1_500, new Set(['requests/a.parquet']));
    const afterFailed = tracker.stats();
    now = 4_000;
    tracker.loaded(3_000);

    // Assess
    expect(afterFailed).toMatchObject({ batches: 1, maxMs: 1_500 });
    expect(tracker.stats()).toMatchObject({ batches: 2, maxMs: 4_000 });
    expect(tracker.pendingBatches).toBe(0);
  });

  it('ignores batches that landed only dead letters', () => {
    const tracker = new FreshnessTracker(100, () => 10);
    tracker.landed(batch(0, 0));
    tracker.loaded(10);
    expect(tracker.stats().batches).toBe(0);
  });

  it("splits each batch's time into its wait in the stream, in the pipeline and in the warehouse", () => {
    // Prepare: arrived at 0, first read at 700, landed at 1,000, made queryable at 1,600.
    let now = 1_000;
    const tracker = new FreshnessTracker(100, () => now);
    tracker.landed(batch(0, 10, 700));
    // A worker clock behind Kinesis: read "before" arrival counts as no wait.
    tracker.landed(batch(900, 10, 850));

    // Act
    now = 1_600;
    tracker.loaded(1_100);

    // Assess: each batch's parts add up to its whole.
    const stats = tracker.stats();
    expect(stats).toMatchObject({ batches: 2, maxMs: 1_600 });
    expect(stats.split).toEqual({
      inStream: { p50Ms: 700, p95Ms: 700 },
      toLanded: { p50Ms: 300, p95Ms: 300 },
      toQueryable: { p50Ms: 600, p95Ms: 600 },
    });
  });
});
