import type { RequestRow } from '../schemas/request-row.ts';
import { REQUESTS_TABLE } from '../schemas/request-row.ts';
import type { FlushReason } from './batch/micro-batch.ts';
import { MicroBatch } from './batch/micro-batch.ts';
import type { BatchConfig } from './config.ts';
import { deadLetterOf } from './dead-letter/dead-letter-of.ts';
import { encodeDeadLetters } from './dead-letter/dead-letter-sink.ts';
import { decodeRecord } from './decode/decode-record.ts';
import type { Deduplicator } from './dedupe/deduplicator.ts';
import { dedupeKey, requestKey } from './dedupe/deduplicator.ts';
import type { ParquetEncoder } from './encode/parquet-encoder.ts';
import type { Enricher } from './enrich/enrich-log.ts';
import { batchObjectKey } from './land/object-key.ts';
import type { ObjectStore } from './land/object-store.ts';
import type { Logger } from './observability/logger.ts';
import type { RetryOptions } from './retry.ts';
import { retryForever } from './retry.ts';
import type {
  BatchRange,
  Checkpoint,
  DeadLetter,
  PipelineCounters,
  ProcessorStart,
  ShardRecordProcessor,
  SourceRecord,
} from './types.ts';
import { validateLog } from './validate/validate-log.ts';

/** Failed encodes of one batch before it is searched for rows the encoder refuses. */
const ENCODE_ATTEMPTS = 3;

export const DEAD_LETTERS_TABLE = 'dead_letters';

/** `recovery`: the batch re-lands the range an earlier owner of the shard announced. */
export type LandReason = FlushReason | 'recovery';

/** What a flush landed; observers use it for progress and metrics. */
export interface LandedBatch {
  readonly shardId: string;
  readonly reason: LandReason;
  readonly rows: number;
  readonly deadLetters: number;
  readonly keys: readonly string[];
  readonly checkpoint: Checkpoint;
  readonly millis: number;
  /** Kinesis arrival time of the batch's oldest record: landing time minus this is its worst latency. */
  readonly oldestArrivalMs: number;
}

export interface ShardProcessorDeps {
  readonly batch: BatchConfig;
  readonly dedupe: Deduplicator;
  readonly enrich: Enricher;
  readonly encoder: ParquetEncoder;
  readonly store: ObjectStore;
  readonly counters: PipelineCounters;
  /**
   * Request keys (→ arrival ms) whose first sighting was in a batch this process dropped without
   * landing (lease lost, processor failure). The deduplicator still remembers them, so the next
   * copy read must land after all: it may be the very same record read again. Shared by the
   * processors of one process, like the deduplicator.
   */
  readonly released: Map<string, number>;
  readonly dedupeWindowMs: number;
  readonly logger: Logger;
  readonly onLanded?: (batch: LandedBatch) => void;
  readonly now?: () => number;
}

/**
 * Runs one shard's records through decode → validate → deduplicate → enrich into a micro-batch,
 * and lands the batch (Parquet, then dead letters) before handing back its checkpoint.
 *
 * Invariant: the checkpoint returned by a flush is the last record of the landed batch, and every
 * log of every record up to it is in exactly one place: a landed Parquet row, a landed dead letter,
 * or the duplicate counter. A record is always added to a batch whole, so no checkpoint ever falls
 * inside a record.
 */
export class ShardProcessor implements ShardRecordProcessor {
  private batch: MicroBatch;
  private lost = false;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Until the announced batch of an earlier owner is cut again, only its end closes a batch. */
  private pendingBatch: BatchRange | undefined;
  /** Sub-records of this KPL aggregate at or below `skipThrough` landed before the restart. */
  private readonly resumeInside: Checkpoint | undefined;
  /** Request keys of the recovery batch being cut: it dedupes only within itself. */
  private readonly recoveryKeys = new Set<string>();
  /** Of the last batch landed: it may not be stored yet when the next batch is announced. */
  private lastLanded: Checkpoint | undefined;

  constructor(
    readonly shardId: string,
    private readonly deps: ShardProcessorDeps,
    private readonly start: ProcessorStart = {},
  ) {
    this.batch = new MicroBatch(deps.batch);
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ shardId });
    this.pendingBatch = start.pendingBatch;
    this.resumeInside = start.checkpoint?.subSequenceNumber === undefined ? undefined : start.checkpoint;
  }

  async processRecords(records: readonly SourceRecord[]): Promise<Checkpoint | undefined> {
    let checkpoint: Checkpoint | undefined;
    for (const record of records) {
      const pending = this.pendingBatch;
      if (pending && compareSequence(record.sequenceNumber, pending.lastSequence) > 0) {
        // The announced end was not met exactly (it cannot be, short of a changed stream): cut here.
        this.pendingBatch = undefined;
        checkpoint = (await this.flush('recovery')) ?? checkpoint;
      }
      this.ingest(record);
      if (this.pendingBatch) {
        if (record.sequenceNumber === this.pendingBatch.lastSequence) {
          this.pendingBatch = undefined;
          checkpoint = (await this.flush('recovery')) ?? checkpoint;
        }
        continue;
      }
      const reason = this.batch.due(this.now());
      if (reason) checkpoint = (await this.flush(reason)) ?? checkpoint;
    }
    return checkpoint;
  }

  async tick(now: number): Promise<Checkpoint | undefined> {
    if (this.pendingBatch) return undefined;
    const reason = this.batch.due(now);
    return reason ? this.flush(reason) : undefined;
  }

  shardEnded(): Promise<Checkpoint | undefined> {
    return this.flush('shard_end');
  }

  shutdownRequested(): Promise<Checkpoint | undefined> {
    return this.flush('shutdown');
  }

  leaseLost(): void {
    this.lost = true;
    this.release(this.batch);
    this.batch = new MicroBatch(this.deps.batch);
  }

  /** The batch will not land from here: its first sightings must not make their next copy a duplicate. */
  private release(batch: MicroBatch): void {
    const { released, dedupeWindowMs } = this.deps;
    let newest = 0;
    for (const row of batch.rows) {
      const arrived = Number(row.ingest_ts / 1000n);
      const key = dedupeKey(row.project_id, row.request_id, row.ts);
      // Re-set at the end, so that trimming from the head still meets the oldest first.
      released.delete(key);
      released.set(key, arrived);
      if (arrived > newest) newest = arrived;
    }
    // Past the window the deduplicator has forgotten the key too.
    for (const [key, arrived] of released) {
      if (newest - arrived < dedupeWindowMs) break;
      released.delete(key);
    }
  }

  /**
   * A copy the deduplicator flags is a duplicate unless its first sighting was dropped unlanded.
   * Any sighting consumes a released key: kept past one, it would let a later genuine duplicate land.
   *
   * A recovery batch (the range an owner announced) ignores the cross-batch verdict and dedupes
   * only within itself: it may replace an object that already landed under the same key, and the
   * deduplicator may still remember rows of that very object (this process landed it, then lost
   * and took back the lease before the checkpoint). Dropping those would overwrite the object with
   * a subset and lose rows not yet loaded; a superset only adds rows the warehouse anti-joins away.
   */
  private isDuplicate(key: string, arrivedMs: number): boolean {
    const released = this.deps.released.delete(key);
    const remembered = this.deps.dedupe.isDuplicate(key, arrivedMs);
    if (this.pendingBatch) {
      if (this.recoveryKeys.has(key)) return true;
      this.recoveryKeys.add(key);
      return false;
    }
    return remembered && !released;
  }

  private ingest(record: SourceRecord): void {
    const { counters, enrich } = this.deps;
    const batch = this.batch;
    const arrivedMs = record.arrivedAt.getTime();
    counters.records += 1;
    const decoded = decodeRecord(record);
    const skipThrough =
      this.resumeInside?.sequenceNumber === record.sequenceNumber
        ? (this.resumeInside.subSequenceNumber ?? -1)
        : -1;
    for (const dl of decoded.deadLetters) {
      if (dl.subSequence === undefined || dl.subSequence > skipThrough) this.deadLetter(dl);
    }
    for (const line of decoded.logs) {
      if (line.subSequence !== undefined && line.subSequence <= skipThrough) continue;
      counters.logs += 1;
      const valid = validateLog(line.value);
      if (!valid.ok) {
        this.deadLetter(
          deadLetterOf(record, 'validate', 'schema_violation', valid.message, line.bytes, line.subSequence),
        );
        continue;
      }
      const log = valid.log;
      // A log with neither `timestamp` nor `fb_time` is dated by its arrival in Kinesis.
      const tsMicros = valid.tsMicros ?? BigInt(arrivedMs) * 1000n;
      const { requestId } = requestKey(log, line.bytes);
      if (this.isDuplicate(dedupeKey(log.project_id, requestId, tsMicros), arrivedMs)) {
        counters.deduplicated += 1;
        continue;
      }
      let row: RequestRow;
      try {
        row = enrich(log, {
          shardId: record.shardId,
          sequenceNumber: record.sequenceNumber,
          subSequence: line.subSequence,
          arrivedAt: record.arrivedAt,
          requestId,
          tsMicros,
        });
      } catch (e) {
        const message = `enrichment failed: ${e instanceof Error ? e.message : String(e)}`;
        this.deadLetter(
          deadLetterOf(record, 'enrich', 'enrich_failed', message, line.bytes, line.subSequence),
        );
        continue;
      }
      batch.rows.push(row);
      batch.lines.push(line.bytes);
    }
    batch.addRecord(record.sequenceNumber, arrivedMs, record.data.byteLength, this.now());
  }

  private deadLetter(dl: DeadLetter): void {
    this.batch.deadLetters.push(dl);
  }

  /**
   * Lands the current batch. Parquet first, then dead letters, then the checkpoint is returned to
   * the consumer to store. A crash anywhere before the checkpoint is stored re-reads the same
   * records; their object keys are derived from the records themselves, so the re-landed files
   * replace the earlier ones instead of adding to them.
   */
  private async flush(reason: LandReason): Promise<Checkpoint | undefined> {
    const batch = this.batch;
    if (batch.isEmpty || this.lost) return undefined;
    this.batch = new MicroBatch(this.deps.batch);
    this.recoveryKeys.clear();
    try {
      const checkpoint = await this.land(batch, reason);
      if (checkpoint === undefined) this.release(batch);
      else this.lastLanded = checkpoint;
      return checkpoint;
    } catch (error) {
      this.release(batch);
      throw error;
    }
  }

  /**
   * Encodes the batch's rows. A failure is retried with back-off (a full temp disk heals); after
   * `ENCODE_ATTEMPTS` failures in a row the batch is bisected for rows the encoder refuses on their
   * own, and those become dead letters with their original bytes, so one poison row cannot stall
   * the shard. When no row is at fault alone, the cause is the environment: keep retrying.
   */
  private async encode(batch: MicroBatch, retry: RetryOptions): Promise<Uint8Array> {
    const { encoder } = this.deps;
    for (let attempt = 1; ; attempt++) {
      try {
        return await encoder.encode(batch.rows);
      } catch (error) {
        if (this.lost) throw error;
        if (attempt % ENCODE_ATTEMPTS === 0) {
          const bad = await this.refusedRows(batch.rows, 0);
          if (bad.length > 0 && bad.length < batch.rows.length) {
            this.evict(batch, bad, error);
            continue;
          }
        }
        const delay = Math.min(10_000, 100 * 2 ** Math.min(attempt, 10)) * Math.random();
        retry.onRetry?.(error, attempt, delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Indexes (from `offset`) of rows that fail to encode even alone. */
  private async refusedRows(rows: readonly RequestRow[], offset: number): Promise<number[]> {
    try {
      await this.deps.encoder.encode(rows);
      return [];
    } catch {
      if (rows.length === 1) return [offset];
    }
    const mid = rows.length >> 1;
    return [
      ...(await this.refusedRows(rows.slice(0, mid), offset)),
      ...(await this.refusedRows(rows.slice(mid), offset + mid)),
    ];
  }

  private evict(batch: MicroBatch, indexes: readonly number[], error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    for (const i of indexes) {
      const row = batch.rows[i]!;
      batch.deadLetters.push({
        reason: 'encode_failed',
        stage: 'encode',
        message: `the Parquet encoder refuses this row on its own: ${reason}`,
        shardId: row.shard_id,
        sequenceNumber: row.sequence_number,
        subSequence: row.sub_sequence,
        partitionKey: '',
        arrivedAt: new Date(Number(row.ingest_ts / 1000n)),
        data: batch.lines[i]!,
      });
    }
    for (const i of [...indexes].reverse()) {
      batch.rows.splice(i, 1);
      batch.lines.splice(i, 1);
    }
    this.log.error('rows the Parquet encoder refuses were dead-lettered', {
      rows: indexes.length,
      err: error,
    });
  }

  private async land(batch: MicroBatch, reason: LandReason): Promise<Checkpoint | undefined> {
    await this.start.beforeLanding?.(
      { firstSequence: batch.firstSequence!, lastSequence: batch.lastSequence! },
      this.lastLanded,
    );
    const started = this.now();
    const { store, counters } = this.deps;
    const keyOf = (table: string, ext: string) =>
      batchObjectKey({
        table,
        shardId: this.shardId,
        firstSequence: batch.firstSequence!,
        lastSequence: batch.lastSequence!,
        time: new Date(batch.newestArrival),
        ext,
      });
    const retry = {
      cancelled: () => this.lost,
      onRetry: (err: unknown, attempt: number, delayMs: number) =>
        this.log.warn('landing failed, retrying', { err, attempt, delayMs: Math.round(delayMs) }),
    };
    const keys: string[] = [];
    if (batch.rows.length > 0) {
      const key = keyOf(REQUESTS_TABLE, 'parquet');
      const body = await this.encode(batch, retry);
      await retryForever(() => store.put(key, body), retry);
      keys.push(key);
    }
    if (batch.deadLetters.length > 0) {
      const key = keyOf(DEAD_LETTERS_TABLE, 'jsonl');
      const body = encodeDeadLetters(batch.deadLetters);
      await retryForever(() => store.put(key, body), retry);
      keys.push(key);
    }
    if (this.lost) return undefined;
    counters.landed += batch.rows.length;
    counters.deadLettered += batch.deadLetters.length;
    counters.files += keys.length;
    const checkpoint: Checkpoint = { sequenceNumber: batch.lastSequence! };
    const landed: LandedBatch = {
      shardId: this.shardId,
      reason,
      rows: batch.rows.length,
      deadLetters: batch.deadLetters.length,
      keys,
      checkpoint,
      millis: this.now() - started,
      oldestArrivalMs: batch.oldestArrival,
    };
    this.log.debug('batch landed', { ...landed });
    this.deps.onLanded?.(landed);
    return checkpoint;
  }
}

/** Orders Kinesis sequence numbers (decimal strings of up to 56 digits) without BigInt. */
function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
