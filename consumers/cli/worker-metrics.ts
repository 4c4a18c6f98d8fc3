import type { Pipeline } from '../../pipeline/pipeline.ts';
import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import type { StreamConsumer } from '../stream-consumer.ts';

/** When /health turns unhealthy. */
export interface HealthThresholds {
  /** Landing, Kinesis or the lease table failing for longer than this. */
  readonly failingAfterMs: number;
  /** A shard whose oldest unlanded record has waited longer than this, with nothing landed. */
  readonly stallAfterMs: number;
  /** With leases: the lease table not read for longer than this (the failover time). */
  readonly maxLeaseScanAgeMs: number;
}

export interface Health {
  readonly ok: boolean;
  /** Why it is unhealthy, one sentence each; empty when ok. */
  readonly reasons: readonly string[];
  readonly detail: Record<string, unknown>;
}

interface Sample {
  readonly labels?: Record<string, string>;
  readonly value: number;
}

/**
 * One worker's figures in the Prometheus text format (version 0.0.4). Counters come from the
 * consumer, the lease coordinator and the pipeline; batches landed are counted as they land.
 */
export class WorkerMetrics {
  #batches = 0;
  #rowsLanded = 0;

  constructor(
    private readonly workerId: string,
    private readonly consumer: StreamConsumer,
    private readonly pipeline: Pick<Pipeline, 'counters' | 'landing' | 'shardActivity'>,
    private readonly thresholds: HealthThresholds,
    private readonly now: () => number = Date.now,
  ) {}

  private get counters() {
    return this.pipeline.counters;
  }

  /** Pass to the pipeline's `onLanded`. */
  readonly onLanded = (batch: LandedBatch): void => {
    this.#batches += 1;
    this.#rowsLanded += batch.rows;
  };

  render(): string {
    const stats = this.consumer.stats();
    const leases = this.consumer.leases?.stats();
    const out: string[] = [];
    const base = { worker: this.workerId, stream: stats.streamName };
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: readonly Sample[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const s of samples) out.push(`${name}${labels({ ...base, ...s.labels })} ${s.value}`);
    };
    metric(
      'shardline_records_processed_total',
      'counter',
      'Kinesis records read, each counted once however often it was read again.',
      [{ value: stats.records }],
    );
    metric(
      'shardline_bytes_processed_total',
      'counter',
      'Bytes of Kinesis record data read, each record counted once.',
      [{ value: stats.bytes }],
    );
    metric(
      'shardline_records_reread_total',
      'counter',
      'Records read again after a processor restart or an expired iterator (not in records_processed).',
      [{ value: stats.shards.reduce((n, s) => n + s.recordsReread, 0) }],
    );
    metric(
      'shardline_kinesis_errors_total',
      'counter',
      'Kinesis calls that failed, by kind (throttled included); each was retried after a back-off.',
      byLabel('kind', sumRecords(stats.shards.map((s) => s.kinesisErrorsByKind))),
    );
    metric(
      'shardline_processor_restarts_total',
      'counter',
      'Shard processors restarted after a failure (their batch is read again), by reason.',
      byLabel('reason', sumRecords(stats.shards.map((s) => s.processorRestartsByReason))),
    );
    metric(
      'shardline_landing_errors_total',
      'counter',
      'Failed attempts to land a batch (Parquet or dead letters), by kind; every one is retried.',
      byLabel('kind', Object.fromEntries(this.pipeline.landing.errors)),
    );
    const now = this.now();
    const failingSince = this.pipeline.landing.failingSince;
    metric(
      'shardline_landing_failing_seconds',
      'gauge',
      'How long landing has been failing without a success; 0 while it works.',
      [{ value: failingSince === undefined ? 0 : (now - failingSince) / 1000 }],
    );
    metric(
      'shardline_shard_oldest_unlanded_seconds',
      'gauge',
      'Per shard being processed: how long its oldest record not yet landed has waited.',
      [...this.pipeline.shardActivity()].map(([shard, a]) => ({
        labels: { shard },
        value: a.waitingSince === undefined ? 0 : (now - a.waitingSince) / 1000,
      })),
    );
    metric(
      'shardline_millis_behind_latest',
      'gauge',
      'MillisBehindLatest of the last GetRecords call, per shard being read.',
      stats.shards
        .filter((s) => s.state === 'PROCESSING' && s.millisBehindLatest !== undefined)
        .map((s) => ({ labels: { shard: s.shardId }, value: s.millisBehindLatest ?? 0 })),
    );
    metric(
      'shardline_kinesis_throttled_total',
      'counter',
      'Kinesis calls throttled (then retried after a back-off).',
      [{ value: stats.shards.reduce((n, s) => n + s.throttled, 0) }],
    );
    if (leases) {
      metric('shardline_leases_held', 'gauge', 'Shard leases this worker holds.', [
        { value: leases.held.length },
      ]);
      metric('shardline_leases_taken_total', 'counter', 'Leases taken (unowned, expired or stolen).', [
        { value: leases.taken },
      ]);
      metric('shardline_leases_stolen_total', 'counter', 'Leases taken from a live worker to balance load.', [
        { value: leases.stolen },
      ]);
      metric(
        'shardline_leases_lost_total',
        'counter',
        'Leases lost to another worker or to failed renewals.',
        [{ value: leases.lost }],
      );
      metric('shardline_leases_released_total', 'counter', 'Leases given up on graceful shutdown.', [
        { value: leases.released },
      ]);
      metric(
        'shardline_dynamodb_throttled_total',
        'counter',
        'Lease table calls throttled by DynamoDB (then retried after a back-off).',
        [{ value: leases.throttled }],
      );
      metric('shardline_lease_workers', 'gauge', 'Workers seen in the lease table at the last scan.', [
        { value: leases.workers },
      ]);
    }
    metric('shardline_batches_landed_total', 'counter', 'Batches landed (Parquet and dead letters).', [
      { value: this.#batches },
    ]);
    metric('shardline_rows_landed_total', 'counter', 'Rows written to landed Parquet files.', [
      { value: this.counters.landed },
    ]);
    metric('shardline_dead_letters_total', 'counter', 'Logs or records sent to the dead-letter sink.', [
      { value: this.counters.deadLettered },
    ]);
    metric('shardline_healthy', 'gauge', '1 while /health answers 200, else 0.', [
      { value: this.health().ok ? 1 : 0 },
    ]);
    metric(
      'shardline_duplicates_dropped_total',
      'counter',
      'Logs dropped as duplicates of an earlier request id.',
      [{ value: this.counters.deduplicated }],
    );
    return `${out.join('\n')}\n`;
  }

  /**
   * Healthy while the consumer runs and can make progress. Unhealthy, with the reason, when
   * landing, Kinesis or the lease table has been failing for longer than `failingAfterMs`, or a
   * shard's oldest unlanded record has waited longer than `stallAfterMs` (a stuck shard).
   */
  health(): Health {
    const { failingAfterMs, stallAfterMs, maxLeaseScanAgeMs } = this.thresholds;
    const now = this.now();
    const stats = this.consumer.stats();
    const leases = this.consumer.leases?.stats();
    const reasons: string[] = [];
    const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
    if (stats.state !== 'running') reasons.push(`the stream consumer is ${stats.state}`);
    const scanAge = leases?.lastScanAt === undefined ? undefined : now - leases.lastScanAt;
    if (leases !== undefined && (scanAge === undefined || scanAge > maxLeaseScanAgeMs)) {
      reasons.push(
        scanAge === undefined
          ? 'the lease table has not been read yet'
          : `the lease table has not been read for ${secs(scanAge)} (DynamoDB failing or throttled?)`,
      );
    }
    const landing = this.pipeline.landing;
    if (landing.failingSince !== undefined && now - landing.failingSince > failingAfterMs) {
      const last = landing.lastFailure;
      reasons.push(
        `landing has failed for ${secs(now - landing.failingSince)}` +
          (last
            ? `: ${last.kind}${last.permanent ? ' (will not heal by itself)' : ''}: ${last.message}`
            : ''),
      );
    }
    for (const shard of stats.shards) {
      if (shard.kinesisFailingSince !== undefined && now - shard.kinesisFailingSince > failingAfterMs) {
        const kinds = Object.keys(shard.kinesisErrorsByKind).join(', ');
        reasons.push(
          `Kinesis calls for ${shard.shardId} have failed for ${secs(now - shard.kinesisFailingSince)} (${kinds})`,
        );
      }
    }
    for (const [shardId, activity] of this.pipeline.shardActivity()) {
      if (activity.waitingSince !== undefined && now - activity.waitingSince > stallAfterMs) {
        reasons.push(`${shardId} is stuck: records have waited ${secs(now - activity.waitingSince)} to land`);
      }
    }
    return {
      ok: reasons.length === 0,
      reasons,
      detail: {
        worker: this.workerId,
        state: stats.state,
        shards: stats.shards.filter((s) => s.state !== 'SHUTDOWN_COMPLETE').map((s) => s.shardId),
        leasesHeld: leases?.held,
        lastLeaseScanMsAgo: scanAge,
        rowsLanded: this.#rowsLanded,
        landingFailingMs: landing.failingSince === undefined ? undefined : now - landing.failingSince,
      },
    };
  }
}

/** Sums per-shard counts of the same labels. */
function sumRecords(records: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function byLabel(name: string, counts: Readonly<Record<string, number>>): Sample[] {
  return Object.entries(counts).map(([value, n]) => ({ labels: { [name]: value }, value: n }));
}

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(
    ([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}
