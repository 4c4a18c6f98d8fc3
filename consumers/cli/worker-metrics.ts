import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import type { PipelineCounters } from '../../pipeline/types.ts';
import type { StreamConsumer } from '../stream-consumer.ts';

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
    private readonly counters: PipelineCounters,
  ) {}

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
    metric('shardline_records_processed_total', 'counter', 'Kinesis records handed to the pipeline.', [
      { value: stats.records },
    ]);
    metric(
      'shardline_bytes_processed_total',
      'counter',
      'Bytes of Kinesis record data handed to the pipeline.',
      [{ value: stats.bytes }],
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
    metric(
      'shardline_duplicates_dropped_total',
      'counter',
      'Logs dropped as duplicates of an earlier request id.',
      [{ value: this.counters.deduplicated }],
    );
    return `${out.join('\n')}\n`;
  }

  /** Healthy while the consumer runs and, with leases, the table was scanned recently. */
  health(maxScanAgeMs: number): { ok: boolean; detail: Record<string, unknown> } {
    const stats = this.consumer.stats();
    const leases = this.consumer.leases?.stats();
    const scanAge = leases?.lastScanAt === undefined ? undefined : Date.now() - leases.lastScanAt;
    const ok =
      stats.state === 'running' &&
      (leases === undefined || (scanAge !== undefined && scanAge <= maxScanAgeMs));
    return {
      ok,
      detail: {
        worker: this.workerId,
        state: stats.state,
        shards: stats.shards.filter((s) => s.state !== 'SHUTDOWN_COMPLETE').map((s) => s.shardId),
        leasesHeld: leases?.held,
        lastLeaseScanMsAgo: scanAge,
        rowsLanded: this.#rowsLanded,
      },
    };
  }
}

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(
    ([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}
