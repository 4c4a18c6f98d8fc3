import type { LandedBatch } from '../../pipeline/shard-processor.ts';

export interface Freshness {
  /** Batches measured. */
  readonly batches: number;
  /** Kinesis arrival of a batch's oldest record → the warehouse load that made it queryable. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * End-to-end freshness as a user sees it: from the moment Kinesis accepted a record to the moment
 * a warehouse query can return it. Each landed batch is measured by its oldest record (its worst
 * case) and becomes queryable when the next warehouse load that started after it landed finishes.
 */
export class FreshnessTracker {
  private pending: { oldestArrivalMs: number; landedAt: number }[] = [];
  private readonly samples: number[] = [];

  constructor(
    private readonly maxSamples = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  landed(batch: LandedBatch): void {
    if (batch.rows > 0) this.pending.push({ oldestArrivalMs: batch.oldestArrivalMs, landedAt: this.now() });
  }

  /** A warehouse load that started at `startedAt` has just finished; returns the latencies it measured. */
  loaded(startedAt: number): number[] {
    const done = this.now();
    const still: typeof this.pending = [];
    const measured: number[] = [];
    for (const p of this.pending) {
      if (p.landedAt <= startedAt) {
        if (this.samples.length >= this.maxSamples) this.samples.shift();
        this.samples.push(done - p.oldestArrivalMs);
        measured.push(done - p.oldestArrivalMs);
      } else still.push(p);
    }
    this.pending = still;
    return measured;
  }

  stats(): Freshness {
    const sorted = [...this.samples].sort((a, b) => a - b);
    return {
      batches: sorted.length,
      p50Ms: quantile(sorted, 0.5),
      p95Ms: quantile(sorted, 0.95),
      maxMs: sorted.at(-1) ?? 0,
    };
  }
}
