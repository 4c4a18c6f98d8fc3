import type { RequestRow } from '../../schemas/request-row.ts';
import type { DeadLetter } from '../types.ts';

export interface BatchLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

export type FlushReason = 'rows' | 'bytes' | 'age' | 'shard_end' | 'shutdown';

/**
 * The rows and dead letters of one shard that will land together, and the sequence range they came
 * from. A record is added whole (all its logs) so that the batch's last sequence number is a safe
 * checkpoint once the batch has landed.
 */
export class MicroBatch {
  readonly rows: RequestRow[] = [];
  /** The original bytes of each row's log line, in step with `rows`: a row refused later becomes a dead letter with them. */
  readonly lines: Uint8Array[] = [];
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
  /** Local time the batch took its first record. */
  openedAt = 0;

  constructor(private readonly limits: BatchLimits) {}

  /** Notes that a record (all of whose rows and dead letters were already pushed) belongs to the batch. */
  addRecord(sequenceNumber: string, arrivedAtMs: number, dataBytes: number, nowMs: number): void {
    if (this.records === 0) {
      this.firstSequence = sequenceNumber;
      this.openedAt = nowMs;
    }
    this.lastSequence = sequenceNumber;
    if (arrivedAtMs > this.newestArrival) this.newestArrival = arrivedAtMs;
    if (arrivedAtMs < this.oldestArrival) this.oldestArrival = arrivedAtMs;
    this.bytes += dataBytes;
    this.records += 1;
  }

  get isEmpty(): boolean {
    return this.records === 0;
  }

  /** Why the batch should be flushed now, or undefined while it may keep growing. */
  due(nowMs: number): FlushReason | undefined {
    if (this.records === 0) return undefined;
    if (this.rows.length >= this.limits.maxRows) return 'rows';
    if (this.bytes >= this.limits.maxBytes) return 'bytes';
    if (nowMs - this.openedAt >= this.limits.maxAgeMs) return 'age';
    return undefined;
  }
}
