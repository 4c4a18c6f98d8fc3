import type { LandedBatch } from '../../pipeline/shard-processor.ts';

export interface Percentiles {
  readonly p50Ms: number;
  readonly p95Ms: number;
}

export interface Freshness extends Percentiles {
  /** Batches measured. */
  readonly batches: number;
  /** Kinesis arrival of a batch's oldest record → the warehouse load that made it queryable. */
  readonly maxMs: number;
  /**
   * Where that time went, per batch: waiting in the stream (arrival → its first record read),
   * in the pipeline (→ landed in the lake), and in the warehouse (→ queryable). The three add up
   * to the whole for each batch, not for each percentile.
   */
  readonly split: {
    readonly inStream: Percentiles;
    readonly toLanded: Percentiles;
    readonly toQueryable: Percentiles;
  };
}

interface Sample {
  readonly total: number;
  readonly inStream: number;
  readonly toLanded: number;
  readonly toQueryable: number;
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * End-to-end freshness as a user sees it: from the moment Kinesis accepted a record to the moment
 * a warehouse query can return it. Each landed batch is measured by its oldest record (its worst
 * case) and becomes queryable when the next warehouse load that started after it landed finishes.
 */
export class FreshnessTracker {
  private pending: {
    oldestArrivalMs: number;
    firstReadMs: number;
    landedAt: number;
    keys: readonly string[];
  }[] = [];
  private readonly samples: Sample[] = [];

  constructor(
    private readonly maxSamples = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Landed batches no load has made queryable yet. */
  get pendingBatches(): number {
    return this.pending.length;
  }

  landed(batch: LandedBatch): void {
    if (batch.rows === 0) return;
    // Bounded like the samples: with no load draining it (loads failing for hours), the oldest go.
    if (this.pending.length >= this.maxSamples) this.pending.shift();
    this.pending.push({
      oldestArrivalMs: batch.oldestArrivalMs,
      firstReadMs: batch.firstReadMs,
      landedAt: this.now(),
      keys: batch.keys,
    });
  }

  /**
   * A warehouse load that started at `startedAt` has just finished; returns the latencies it
   * measured. A batch with an object in `notLoaded` (files the load could not read, retried at
   * the next load) is not queryable yet: it waits for a load that takes it.
   */
  loaded(startedAt: number, notLoaded: ReadonlySet<string> = new Set()): number[] {
    const done = this.now();
    const still: typeof this.pending = [];
    const measured: number[] = [];
    for (const p of this.pending) {
      if (p.landedAt <= startedAt && !p.keys.some((key) => notLoaded.has(key))) {
        if (this.samples.length >= this.maxSamples) this.samples.shift();
        // A first read before the oldest arrival (clocks apart) counts as no wait.
        const read = Math.max(p.oldestArrivalMs, Math.min(p.firstReadMs, p.landedAt));
        this.samples.push({
          total: done - p.oldestArrivalMs,
          inStream: read - p.oldestArrivalMs,
          toLanded: p.landedAt - read,
          toQueryable: done - p.landedAt,
        });
        measured.push(done - p.oldestArrivalMs);
      } else still.push(p);
    }
    this.pending = still;
    return measured;
  }

  stats(): Freshness {
    const of = (part: keyof Sample): number[] => this.samples.map((s) => s[part]).sort((a, b) => a - b);
    const percentiles = (sorted: readonly number[]): Percentiles => ({
      p50Ms: quantile(sorted, 0.5),
      p95Ms: quantile(sorted, 0.95),
    });
    const sorted = of('total');
    return {
      batches: sorted.length,
      ...percentiles(sorted),
      maxMs: sorted.at(-1) ?? 0,
      split: {
        inStream: percentiles(of('inStream')),
        toLanded: percentiles(of('toLanded')),
        toQueryable: percentiles(of('toQueryable')),
      },
    };
  }
}
