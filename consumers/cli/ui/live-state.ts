import type { RunningPipeline } from '../run-pipeline.ts';

/** The pipeline's state right now, as the dashboard page shows it (GET /api/live). */
export interface LiveState {
  readonly at: string;
  readonly records: number;
  /** Records read per second since the previous call (0 on the first). */
  readonly recordsPerSecond: number;
  readonly rowsLanded: number;
  readonly duplicates: number;
  readonly deadLetters: number;
  readonly deadLettersByReason: Readonly<Record<string, number>>;
  /** Per shard being read: seconds behind the tip of the stream. */
  readonly shards: readonly { readonly shardId: string; readonly behindSeconds: number }[];
  readonly behindSeconds: number;
  /** Kinesis arrival → queryable, over the batches measured so far (null before the first). */
  readonly freshness: {
    readonly batches: number;
    readonly p50Seconds: number | null;
    readonly p95Seconds: number | null;
  };
  readonly warehouse: {
    readonly rows: number;
    readonly files: number;
    readonly pendingFiles: number;
    readonly lastError: string | null;
  };
  readonly healthy: boolean;
  readonly reasons: readonly string[];
}

/** Samples a running pipeline; each call measures the rate since the one before. */
export const liveStateOf = (running: RunningPipeline): (() => LiveState) => {
  let last: { at: number; records: number } | undefined;
  return () => {
    const now = Date.now();
    const { counters } = running.pipeline;
    const rate =
      last === undefined ? 0 : ((counters.records - last.records) * 1000) / Math.max(1, now - last.at);
    last = { at: now, records: counters.records };
    const shards = running.consumer
      .stats()
      .shards.filter((s) => s.state === 'PROCESSING')
      .map((s) => ({ shardId: s.shardId, behindSeconds: (s.millisBehindLatest ?? 0) / 1000 }));
    const fresh = running.freshness.stats();
    const wh = running.warehouseProgress;
    const health = running.metrics.health();
    return {
      at: new Date(now).toISOString(),
      records: counters.records,
      recordsPerSecond: Math.round(rate * 10) / 10,
      rowsLanded: counters.landed,
      duplicates: counters.deduplicated,
      deadLetters: counters.deadLettered,
      deadLettersByReason: { ...counters.deadLetteredByReason },
      shards,
      behindSeconds: Math.max(0, ...shards.map((s) => s.behindSeconds)),
      freshness: {
        batches: fresh.batches,
        p50Seconds: fresh.batches === 0 ? null : fresh.p50Ms / 1000,
        p95Seconds: fresh.batches === 0 ? null : fresh.p95Ms / 1000,
      },
      warehouse: {
        rows: wh.rows,
        files: wh.files,
        pendingFiles: Math.max(0, wh.landedFiles - wh.files),
        lastError: wh.lastError ?? null,
      },
      healthy: health.ok,
      reasons: health.reasons,
    };
  };
};
