import type { RequestRow } from '../../schemas/request-row.ts';
import type { DeadLetter } from '../types.ts';
import type { WorkerMemory } from './worker-memory.ts';

export interface BatchLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

/** `memory`: the worker's open batches together passed `batch.maxWorkerBytes`. */
export type FlushReason = 'rows' | 'bytes' | 'age' | 'memory' | 'shard_end' | 'shutdown';

/**
 * Heap a row object takes per byte of its log line, on top of the line itself. Measured on 20,000
 * generated rows (~850-byte lines) after a forced GC: 1,676 bytes of heap per row, ~2x its line.
 * Without it a bound on line bytes would let the rows hold three times the bound.
 */
export const ROW_HEAP_PER_LINE_BYTE = 2;

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
  /**
   * Estimated bytes in memory: `bytes` plus the heap of the rows' objects. Counted against the
   * worker's `maxWorkerBytes` until the batch has landed or been dropped (`detach`).
   */
  heldBytes = 0;
  /** Local time the batch took its first record. */
  openedAt = 0;
  private rowsCounted = 0;
  private memory: WorkerMemory | undefined;

  constructor(
    private readonly limits: BatchLimits,
    memory?: WorkerMemory,
  ) {
    this.memory = memory;
  }

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
    let rowLineBytes = 0;
    for (let i = this.rowsCounted; i < this.lines.length; i++) rowLineBytes += this.lines[i]!.byteLength;
    this.rowsCounted = this.lines.length;
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

  /** Why the batch should be flushed now, or undefined while it may keep growing. */
  due(nowMs: number): FlushReason | undefined {
    if (this.records === 0) return undefined;
    if (this.rows.length >= this.limits.maxRows) return 'rows';
    if (this.bytes >= this.limits.maxBytes) return 'bytes';
    if (nowMs - this.openedAt >= this.limits.maxAgeMs) return 'age';
    if (this.memory?.over) return 'memory';
    return undefined;
  }
}
