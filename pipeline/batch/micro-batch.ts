import { RowKeys } from '../dedupe/row-keys.ts';
import type { DeadLetter } from '../types.ts';
import type { WorkerMemory } from './worker-memory.ts';

export interface BatchLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  /** Age at which a batch may land early, while the shard's file budget allows (default: never). */
  readonly freshAgeMs?: number;
}

/**
 * `memory`: the worker's open batches together passed `batch.maxWorkerBytes`. `fresh`: the batch
 * reached `freshAgeMs` while the shard's file budget allowed an early file (see `FileBudget`).
 */
export type FlushReason = 'rows' | 'bytes' | 'age' | 'fresh' | 'memory' | 'shard_end' | 'shutdown';

/**
 * What a row is counted at per byte of its log line, on top of the line's own bytes: 3x its line
 * in all. Measured first on row objects (20,000 generated rows, ~850-byte lines, after a forced
 * GC: 1,676 bytes of heap a row with its line). Rows are now held packed (`PackedRows`: ~730
 * bytes a row, ~0.9x its line, and no line), and the count is kept: the same setting lands the
 * same files, and encoding a batch takes DuckDB ~3-4 KB a row more while it runs (measured with a
 * staging table; now the row group the Parquet writer buffers and its pages), which the bound must
 * leave room for.
 */
export const ROW_HEAP_PER_LINE_BYTE = 2;

/**
 * The rows and dead letters of one shard that will land together, and the sequence range they came
 * from. A record is added whole (all its logs) so that the batch's last sequence number is a safe
 * checkpoint once the batch has landed.
 */
export class MicroBatch {
  /** The rows kept, by their ref in the record stage that holds them (see `pipeline/stages/`). */
  readonly refs: number[] = [];
  /** Each kept row's request identity (the hash of its `dedupeKey`), in step with `refs`. */
  readonly keys = new RowKeys();
  /** Each kept row's Kinesis arrival (ms), in step with `refs`. */
  readonly arrivals: number[] = [];
  /** The highest ref the batch's records produced, kept or left out as duplicates; -1 for none. */
  throughRef = -1;
  readonly deadLetters: DeadLetter[] = [];
  firstSequence: string | undefined;
  lastSequence: string | undefined;
  /** Newest ApproximateArrivalTimestamp in the batch: names the batch's files deterministically. */
  newestArrival = 0;
  /** Oldest ApproximateArrivalTimestamp: how long the batch's first record has waited to land. */
  oldestArrival = Number.POSITIVE_INFINITY;
  /**
   * Bytes the batch holds: per record, its Data as received or, when larger, its decompressed
   * lines and dead letters. Compressed records cannot make a batch outgrow `maxBytes` by their ratio.
   */
  bytes = 0;
  records = 0;
  /**
   * Estimated bytes in memory: `bytes` plus the heap of the rows' objects. Counted against the
   * worker's `maxWorkerBytes` until the batch has landed or been dropped (`detach`).
   */
  heldBytes = 0;
  /** Local time the batch took its first record. */
  openedAt = 0;
  private memory: WorkerMemory | undefined;

  constructor(
    private readonly limits: BatchLimits,
    memory?: WorkerMemory,
  ) {
    this.memory = memory;
  }

  /**
   * Notes that a record (all of whose rows and dead letters were already pushed) belongs to the
   * batch; `rowLineBytes` are the original lines of the rows it added.
   */
  addRecord(
    sequenceNumber: string,
    arrivedAtMs: number,
    dataBytes: number,
    nowMs: number,
    rowLineBytes = 0,
  ): void {
    if (this.records === 0) {
      this.firstSequence = sequenceNumber;
      this.openedAt = nowMs;
    }
    this.lastSequence = sequenceNumber;
    if (arrivedAtMs > this.newestArrival) this.newestArrival = arrivedAtMs;
    if (arrivedAtMs < this.oldestArrival) this.oldestArrival = arrivedAtMs;
    this.bytes += dataBytes;
    this.records += 1;
    const held = dataBytes + rowLineBytes * ROW_HEAP_PER_LINE_BYTE;
    this.heldBytes += held;
    this.memory?.add(held);
  }

  /** The batch has landed or been dropped: it no longer counts against the worker's bound. Idempotent. */
  detach(): void {
    this.memory?.release(this.heldBytes);
    this.memory = undefined;
  }

  get isEmpty(): boolean {
    return this.records === 0;
  }

  /**
   * Why the batch should be flushed now, or undefined while it may keep growing. `early`: the
   * shard's file budget allows a file before `maxAgeMs`, once its oldest record arrived in Kinesis
   * `freshAgeMs` ago (its wait is what freshness measures, reading included).
   */
  due(nowMs: number, early = false): FlushReason | undefined {
    if (this.records === 0) return undefined;
    if (this.refs.length >= this.limits.maxRows) return 'rows';
    if (this.bytes >= this.limits.maxBytes) return 'bytes';
    if (nowMs - this.openedAt >= this.limits.maxAgeMs) return 'age';
    if (this.memory?.over) return 'memory';
    if (early && this.limits.freshAgeMs !== undefined && nowMs - this.oldestArrival >= this.limits.freshAgeMs)
      return 'fresh';
    return undefined;
  }
}

/**
 * How many small files a shard may write early. Batches on a quiet stream land by age, and each
 * is a small file; landing them at `freshAgeMs` instead of `maxAgeMs` makes requests queryable
 * sooner but would multiply those files. The budget is a token bucket: `burst` early files, one
 * more each `maxAgeMs`. Traffic that comes and goes (a deploy, a burst, a demo) lands at
 * `freshAgeMs`; a steady trickle spends the bucket and falls back to one file per `maxAgeMs`, so a
 * shard never writes more age-cut files an hour than `3600 s / maxAgeMs` plus one burst, as it did
 * before there was a budget. Files cut by rows, bytes or memory are large and are not counted.
 */
export class FileBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.at = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + (nowMs - this.at) / this.refillMs);
      this.at = nowMs;
    }
  }

  /** Whether an early (fresh) file is allowed now. */
  allows(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= 1;
  }

  /** A file was cut by age (early or not): it takes a token when there is one. */
  spend(nowMs: number): void {
    this.refill(nowMs);
    this.tokens = Math.max(0, this.tokens - 1);
  }
}
