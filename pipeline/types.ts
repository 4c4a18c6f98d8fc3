/**
 * The contract between `consumers/` (shards, leases, checkpoints) and `pipeline/` (decode → land).
 *
 * A consumer hands the pipeline records of one shard, in order, and gets back a checkpoint only
 * when everything up to it is durable (landed as Parquet or in the dead-letter sink). The
 * pipeline never sees leases or iterators; the consumer never sees rows.
 */

/** A record as read from a Kinesis shard (or replayed from an archive). */
export interface SourceRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Kinesis ApproximateArrivalTimestamp. */
  readonly arrivedAt: Date;
  /** The record's Data, exactly as stored in the stream. */
  readonly data: Uint8Array;
}

/** Where a shard's processing may resume. `subSequenceNumber` is set for KPL-aggregated records. */
export interface Checkpoint {
  readonly sequenceNumber: string;
  readonly subSequenceNumber?: number;
}

/** What the pipeline did with what it was given; every record ends up in exactly one bucket. */
export interface PipelineCounters {
  /** Kinesis records received. */
  records: number;
  /** Request logs decoded from them (one record may carry many). */
  logs: number;
  /** Rows written to Parquet and landed. */
  landed: number;
  /** Logs dropped as duplicates of an earlier request id. */
  deduplicated: number;
  /** Logs (or whole undecodable records) sent to the dead-letter sink. */
  deadLettered: number;
  /** `deadLettered` by reason (a metric label); a reason appears once something was sent for it. */
  deadLetteredByReason?: Partial<Record<DeadLetterReason, number>>;
  /** Health-check or other intentionally filtered logs. */
  filtered: number;
  /** Parquet files landed. */
  files: number;
}

/**
 * KCL's ShardRecordProcessor, reduced to what Shardline needs. One instance per shard lease.
 * Every method that may land data resolves with the checkpoint that is now safe to store, or
 * `undefined` when nothing new became durable.
 */
export interface ShardRecordProcessor {
  /** Records of this shard, in order. Resolves when the processor can take more (back-pressure). */
  processRecords(
    records: readonly SourceRecord[],
    millisBehindLatest?: number,
  ): Promise<Checkpoint | undefined>;
  /** Called on every poll, records or not, so that batches flush on age. */
  tick(now: number): Promise<Checkpoint | undefined>;
  /** The shard is closed (split/merge) and fully read: land everything. */
  shardEnded(): Promise<Checkpoint | undefined>;
  /** Graceful shutdown: land everything buffered. */
  shutdownRequested(): Promise<Checkpoint | undefined>;
  /** The lease is gone: drop buffered work without landing or checkpointing it. */
  leaseLost(): void;
}

/** The sequence range of one batch: its object keys are derived from it. */
export interface BatchRange {
  readonly firstSequence: string;
  readonly lastSequence: string;
}

/**
 * What a processor learns from the consumer when it starts on a shard. Everything is optional: a
 * single-process consumer with a checkpoint file passes nothing.
 */
export interface ProcessorStart {
  /**
   * Where the shard resumes. With a `subSequenceNumber` the consumer re-delivers that KPL
   * aggregate whole, and the processor skips its sub-records at or below the sub-sequence.
   */
  readonly checkpoint?: Checkpoint;
  /**
   * A batch an earlier owner announced but did not checkpoint: it may have landed. The processor
   * cuts its first batch at exactly this end, so that the batch lands under the same object keys
   * (replacing, never adding to, what the earlier owner landed).
   */
  readonly pendingBatch?: BatchRange;
  /**
   * Announces a batch's range before anything of it lands; rejects when the shard's lease is gone,
   * and then nothing of the batch lands. The consumer's lease store makes the announcement durable.
   * `landed` is the checkpoint of the batch this processor landed last, which the consumer may not
   * have stored yet (several batches can land in one call): the new announcement replaces that
   * batch's, so the consumer must make `landed` durable first or with it.
   */
  readonly beforeLanding?: (range: BatchRange, landed?: Checkpoint) => Promise<void>;
}

export interface ShardRecordProcessorFactory {
  create(shardId: string, start?: ProcessorStart): ShardRecordProcessor;
}

/** Why a record or log was sent to the dead-letter sink. Stable strings: they are metric labels. */
export const DEAD_LETTER_REASONS = [
  'decompress_failed',
  'kpl_corrupt',
  'not_utf8',
  'invalid_json',
  'not_an_object',
  'schema_violation',
  'too_large',
  'enrich_failed',
  'encode_failed',
  // Processing the record threw where no stage expected it: kept whole for a replay once fixed.
  'internal_error',
] as const;

export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/**
 * A record (or one log inside it) that can never be processed. It keeps its original bytes so
 * that a data engineer can fix and replay it, and everything needed to find it in the stream.
 */
export interface DeadLetter {
  readonly reason: DeadLetterReason;
  /** Human-readable detail: which field, what was expected. */
  readonly message: string;
  readonly stage: 'decode' | 'validate' | 'enrich' | 'encode';
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Index of the log inside the record, when the failure concerns one log of many. */
  readonly subSequence?: number;
  readonly partitionKey: string;
  readonly arrivedAt: Date;
  /** Original bytes: the log line when `subSequence` is set, else the record's whole Data. */
  readonly data: Uint8Array;
}

/** Orders Kinesis sequence numbers (decimal strings of up to 56 digits) without BigInt. */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
