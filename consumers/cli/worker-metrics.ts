import type { Pipeline } from '../../pipeline/pipeline.ts';
import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import { DEAD_LETTER_REASONS } from '../../pipeline/types.ts';
import type { StreamConsumer } from '../stream-consumer.ts';
import { ProcessMetrics } from './process-metrics.ts';
import { byLabel, DURATION_BUCKETS, FRESHNESS_BUCKETS, Histogram, MetricsText } from './prometheus-text.ts';

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

/** Why a warehouse load failed; a bounded label. */
export type WarehouseErrorKind = 'locked' | 'other';

/** What one embedded-warehouse load did, as `run-pipeline` reports it. */
export interface WarehouseLoadReport {
  readonly seconds: number;
  readonly files: number;
  readonly rows: number;
  readonly duplicateRows: number;
  /** Files that could not be loaded (retried next time). */
  readonly failedFiles: number;
  /** Set when the whole load failed. */
  readonly error?: WarehouseErrorKind;
}

/**
 * One worker's figures in the Prometheus text format (version 0.0.4). Counters are read from the
 * consumer, the lease coordinator and the pipeline at scrape time; histograms are fed as batches
 * land and warehouse loads finish. Names follow Prometheus conventions: base units (`_seconds`,
 * `_bytes`), `_total` on counters, labels of bounded cardinality (shard, reason, kind, result).
 */
export class WorkerMetrics {
  #batches = 0;
  #rowsLanded = 0;
  readonly #landingSeconds = new Histogram(DURATION_BUCKETS);
  readonly #arrivalToLanded = new Histogram(FRESHNESS_BUCKETS);
  readonly #arrivalToQueryable = new Histogram(FRESHNESS_BUCKETS);
  readonly #warehouseLoadSeconds = new Histogram(DURATION_BUCKETS);
  readonly #warehouseLoads = { ok: 0, failed: 0 };
  /** Whole loads failed by kind, and single files that failed (`file`). */
  readonly #warehouseErrors: Record<WarehouseErrorKind | 'file', number> = { locked: 0, other: 0, file: 0 };
  #warehouseRows = 0;
  #warehouseDuplicateRows = 0;
  #warehouseFiles = 0;
  #warehouseLastSuccess: number | undefined;
  #snapshotSeconds = 0;
  #snapshotErrors = 0;
  readonly #process = new ProcessMetrics();

  constructor(
    private readonly workerId: string,
    private readonly consumer: StreamConsumer,
    private readonly pipeline: Pick<Pipeline, 'counters' | 'landing' | 'shardActivity'>,
    private readonly thresholds: HealthThresholds,
    private readonly now: () => number = Date.now,
    /** Whether this process loads the embedded warehouse (its metrics are served only then). */
    private readonly warehouse: { readonly pendingFiles: () => number } | undefined = undefined,
  ) {}

  private get counters() {
    return this.pipeline.counters;
  }

  /** Pass to the pipeline's `onLanded`. */
  readonly onLanded = (batch: LandedBatch): void => {
    this.#batches += 1;
    this.#rowsLanded += batch.rows;
    this.#landingSeconds.observe(batch.millis / 1000);
    if (batch.rows + batch.deadLetters > 0) {
      this.#arrivalToLanded.observe(Math.max(0, this.now() - batch.oldestArrivalMs) / 1000);
    }
  };

  /** Each Kinesis arrival → queryable latency measured by the freshness tracker, in ms. */
  readonly onQueryable = (millis: readonly number[]): void => {
    for (const ms of millis) this.#arrivalToQueryable.observe(ms / 1000);
  };

  readonly onWarehouseLoad = (report: WarehouseLoadReport): void => {
    this.#warehouseLoadSeconds.observe(report.seconds);
    if (report.error === undefined) {
      this.#warehouseLoads.ok += 1;
      this.#warehouseLastSuccess = this.now();
    } else {
      this.#warehouseLoads.failed += 1;
      this.#warehouseErrors[report.error] += 1;
    }
    this.#warehouseErrors.file += report.failedFiles;
    this.#warehouseFiles += report.files;
    this.#warehouseRows += report.rows;
    this.#warehouseDuplicateRows += report.duplicateRows;
  };

  /** A refresh of the readers' snapshot: the seconds its copy took, or undefined when it failed. */
  readonly onSnapshot = (seconds: number | undefined): void => {
    if (seconds === undefined) this.#snapshotErrors += 1;
    else this.#snapshotSeconds = seconds;
  };

  render(): string {
    const stats = this.consumer.stats();
    const leases = this.consumer.leases?.stats();
    const out = new MetricsText({ worker: this.workerId, stream: stats.streamName });
    const now = this.now();
    const reading = stats.shards.filter(
      (s) => s.state === 'PROCESSING' && s.millisBehindLatest !== undefined,
    );
    out
      .counter(
        'shardline_records_processed_total',
        'Kinesis records read (records in), each counted once however often it was read again.',
        [{ value: stats.records }],
      )
      .counter(
        'shardline_bytes_processed_total',
        'Bytes of Kinesis record data read (bytes in), each record counted once.',
        [{ value: stats.bytes }],
      )
      .counter(
        'shardline_records_reread_total',
        'Records read again after a processor restart or an expired iterator (not in records_processed).',
        [{ value: stats.shards.reduce((n, s) => n + s.recordsReread, 0) }],
      )
      .counter(
        'shardline_logs_processed_total',
        'Request logs decoded from the records (one record may carry many); the denominator of the dead-letter rate.',
        [{ value: this.counters.logs }],
      )
      .counter('shardline_rows_landed_total', 'Rows written to landed Parquet files.', [
        { value: this.counters.landed },
      ])
      .counter(
        'shardline_dead_letters_total',
        'Logs or records sent to the dead-letter sink, by reason; sum them for the old unlabelled total.',
        DEAD_LETTER_REASONS.map((reason) => ({
          labels: { reason },
          value: this.counters.deadLetteredByReason?.[reason] ?? 0,
        })),
      )
      .counter('shardline_duplicates_dropped_total', 'Logs dropped as duplicates of an earlier request id.', [
        { value: this.counters.deduplicated },
      ])
      .counter('shardline_logs_filtered_total', 'Logs filtered on purpose (health checks).', [
        { value: this.counters.filtered },
      ])
      .counter('shardline_batches_landed_total', 'Batches landed (Parquet and dead letters).', [
        { value: this.#batches },
      ])
      .counter(
        'shardline_files_landed_total',
        'Objects landed in the lake (Parquet and dead-letter files).',
        [{ value: this.counters.files }],
      )
      .histogram(
        'shardline_batch_landing_duration_seconds',
        'Time to encode and write one batch to the lake, retries included.',
        this.#landingSeconds,
      )
      .histogram(
        'shardline_arrival_to_landed_seconds',
        "Kinesis arrival of a batch's oldest record to the batch landed in the lake.",
        this.#arrivalToLanded,
      )
      .gauge(
        'shardline_iterator_age_seconds',
        'Per shard being read: how far behind the tip of the stream the last GetRecords was (MillisBehindLatest / 1000).',
        reading.map((s) => ({ labels: { shard: s.shardId }, value: (s.millisBehindLatest ?? 0) / 1000 })),
      )
      .gauge(
        'shardline_millis_behind_latest',
        'Deprecated, use shardline_iterator_age_seconds: MillisBehindLatest per shard being read.',
        reading.map((s) => ({ labels: { shard: s.shardId }, value: s.millisBehindLatest ?? 0 })),
      )
      .gauge(
        'shardline_shard_oldest_unlanded_seconds',
        'Per shard being processed: how long its oldest record not yet landed has waited.',
        [...this.pipeline.shardActivity()].map(([shard, a]) => ({
          labels: { shard },
          value: a.waitingSince === undefined ? 0 : (now - a.waitingSince) / 1000,
        })),
      )
      .counter(
        'shardline_kinesis_errors_total',
        'Kinesis calls that failed, by kind (throttled included); each was retried after a back-off.',
        byLabel('kind', sumRecords(stats.shards.map((s) => s.kinesisErrorsByKind))),
      )
      .counter(
        'shardline_kinesis_throttled_total',
        'Deprecated, use shardline_kinesis_errors_total{kind="throttled"} (the same count): Kinesis calls throttled.',
        [{ value: stats.shards.reduce((n, s) => n + s.throttled, 0) }],
      )
      .counter(
        'shardline_processor_restarts_total',
        'Shard processors restarted after a failure (their batch is read again), by reason.',
        byLabel('reason', sumRecords(stats.shards.map((s) => s.processorRestartsByReason))),
      )
      .counter(
        'shardline_landing_errors_total',
        'Failed attempts to land a batch (Parquet or dead letters), by kind; every one is retried.',
        byLabel('kind', Object.fromEntries(this.pipeline.landing.errors)),
      );
    const failingSince = this.pipeline.landing.failingSince;
    out.gauge(
      'shardline_landing_failing_seconds',
      'How long landing has been failing without a success; 0 while it works.',
      [{ value: failingSince === undefined ? 0 : (now - failingSince) / 1000 }],
    );
    if (leases) {
      out
        .gauge('shardline_leases_held', 'Shard leases this worker holds.', [{ value: leases.held.length }])
        .counter('shardline_leases_taken_total', 'Leases taken (unowned, expired or stolen).', [
          { value: leases.taken },
        ])
        .counter('shardline_leases_stolen_total', 'Leases taken from a live worker to balance load.', [
          { value: leases.stolen },
        ])
        .counter('shardline_leases_lost_total', 'Leases lost to another worker or to failed renewals.', [
          { value: leases.lost },
        ])
        .counter('shardline_leases_released_total', 'Leases given up on graceful shutdown.', [
          { value: leases.released },
        ])
        .counter(
          'shardline_dynamodb_throttled_total',
          'Lease table calls throttled by DynamoDB (then retried after a back-off).',
          [{ value: leases.throttled }],
        )
        .gauge('shardline_lease_workers', 'Workers seen in the lease table at the last scan.', [
          { value: leases.workers },
        ]);
    }
    if (this.warehouse) {
      out
        .counter('shardline_warehouse_loads_total', 'Embedded warehouse loads, by result (ok, failed).', [
          { labels: { result: 'ok' }, value: this.#warehouseLoads.ok },
          { labels: { result: 'failed' }, value: this.#warehouseLoads.failed },
        ])
        .counter(
          'shardline_warehouse_load_errors_total',
          'Embedded warehouse load errors, by kind: locked (another process held the file), file (one file failed, retried), other.',
          [
            { labels: { kind: 'locked' }, value: this.#warehouseErrors.locked },
            { labels: { kind: 'file' }, value: this.#warehouseErrors.file },
            { labels: { kind: 'other' }, value: this.#warehouseErrors.other },
          ],
        )
        .histogram(
          'shardline_warehouse_load_duration_seconds',
          'Time of one embedded warehouse load (every new Parquet file), including waiting for the file.',
          this.#warehouseLoadSeconds,
        )
        .counter(
          'shardline_warehouse_files_loaded_total',
          'Parquet files loaded into the embedded warehouse.',
          [{ value: this.#warehouseFiles }],
        )
        .counter('shardline_warehouse_rows_loaded_total', 'Rows inserted into the embedded warehouse.', [
          { value: this.#warehouseRows },
        ])
        .counter(
          'shardline_warehouse_duplicate_rows_total',
          'Rows the warehouse skipped because their request id was already loaded.',
          [{ value: this.#warehouseDuplicateRows }],
        )
        .gauge(
          'shardline_warehouse_files_pending',
          'Parquet files waiting to load: those the loader listed and could not load at its last load (stuck files stay counted), plus those this process landed since that listing.',
          [{ value: this.warehouse.pendingFiles() }],
        )
        .gauge(
          'shardline_warehouse_last_success_timestamp_seconds',
          'When the last warehouse load succeeded (Unix seconds); 0 before the first.',
          [{ value: this.#warehouseLastSuccess === undefined ? 0 : this.#warehouseLastSuccess / 1000 }],
        )
        .gauge(
          'shardline_warehouse_snapshot_seconds',
          "How long the last copy of the warehouse to the readers' snapshot took (O(size); refreshed at most every max(loadInterval, 10 × this)); 0 before the first.",
          [{ value: this.#snapshotSeconds }],
        )
        .counter(
          'shardline_warehouse_snapshot_errors_total',
          "Refreshes of the readers' snapshot that failed (readers keep the previous one).",
          [{ value: this.#snapshotErrors }],
        )
        .histogram(
          'shardline_arrival_to_queryable_seconds',
          "Kinesis arrival of a batch's oldest record to the refresh of the readers' snapshot that made it queryable.",
          this.#arrivalToQueryable,
        );
    }
    out.gauge('shardline_healthy', '1 while /health answers 200, else 0.', [
      { value: this.health().ok ? 1 : 0 },
    ]);
    out.raw(this.#process.render());
    return out.text();
  }

  /** Stops the event-loop monitor. */
  close(): void {
    this.#process.close();
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
