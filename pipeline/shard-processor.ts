import type { RequestRow } from '../schemas/request-row.ts';
import { REQUESTS_TABLE } from '../schemas/request-row.ts';
import { ARCHIVE_EXT, ARCHIVE_TABLE, type ArchivedRecord, encodeArchive } from './archive/raw-archive.ts';
import type { FlushReason } from './batch/micro-batch.ts';
import { MicroBatch } from './batch/micro-batch.ts';
import type { WorkerMemory } from './batch/worker-memory.ts';
import type { BatchConfig } from './config.ts';
import { deadLetterOf } from './dead-letter/dead-letter-of.ts';
import { encodeDeadLetters } from './dead-letter/dead-letter-sink.ts';
import type { DecodeConfig } from './decode/decode-limits.ts';
import { decodeRecord } from './decode/decode-record.ts';
import type { Deduplicator } from './dedupe/deduplicator.ts';
import { dedupeKey, requestKey } from './dedupe/deduplicator.ts';
import type { ParquetEncoder } from './encode/parquet-encoder.ts';
import type { Enricher } from './enrich/enrich-log.ts';
import type { LandingStatus } from './land/landing-status.ts';
import { batchObjectKey } from './land/object-key.ts';
import type { ObjectStore } from './land/object-store.ts';
import type { Logger } from './observability/logger.ts';
import {
  type BatchRange,
  type Checkpoint,
  compareSequence,
  type DeadLetter,
  type PipelineCounters,
  type ProcessorStart,
  type ShardRecordProcessor,
  type SourceRecord,
} from './types.ts';
import { implausibleTime, type TimeWindowConfig } from './validate/plausible-time.ts';
import { validateLog } from './validate/validate-log.ts';

/** Failed encodes of one batch before it is searched for rows the encoder refuses. */
const ENCODE_ATTEMPTS = 3;
/** Landing retries back off up to this; a permanent error (no such bucket) waits this long between tries. */
const LANDING_BACKOFF_MAX_MS = 30_000;
/** Longest stretch of synchronous work before the event loop gets a turn (health, metrics, SIGTERM). */
const YIELD_EVERY_MS = 20;

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
  /** The raw archive object of the batch's records, when the archive is on (not in `keys`). */
  readonly archiveKey?: string;
  readonly checkpoint: Checkpoint;
  readonly millis: number;
  /** Kinesis arrival time of the batch's oldest record: landing time minus this is its worst latency. */
  readonly oldestArrivalMs: number;
}

export interface ShardProcessorDeps {
  readonly batch: BatchConfig;
  /** Shared by the processors of one process: their batches' bytes (open or landing) against `batch.maxWorkerBytes`. */
  readonly memory?: WorkerMemory;
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
  readonly decode: DecodeConfig;
  readonly timeWindow: TimeWindowConfig;
  /** gzip level of the raw archive (`raw/…records.gz`); undefined: the archive is off. */
  readonly archiveLevel?: number;
  /**
   * Maps every object key before it lands. A replay lands under its own prefix and generation
   * (`replays/requests/g=<generation>/…`), never over the live objects.
   */
  readonly keyOf?: (key: string) => string;
  /** Written into every row: 0 for live ingestion, the replay's run id for a replay. */
  readonly generation?: number;
  /** What dead letters keep of the original bytes (`keep` or `redact`). */
  readonly deadLetterBytes?: 'keep' | 'redact';
  /** Shared by the processors of one process: whether landing works, for health and metrics. */
  readonly landing: LandingStatus;
  /** This shard's activity, kept across processor restarts: since when records wait to land. */
  readonly activity: ShardActivity;
  readonly logger: Logger;
  readonly onLanded?: (batch: LandedBatch) => void;
  readonly now?: () => number;
}

/** What a shard's processors report for health: how long records have waited to land. */
export interface ShardActivity {
  /** Local time the oldest record not yet landed was taken in; undefined when nothing waits. */
  waitingSince: number | undefined;
  lastLandedAt: number | undefined;
  /** Set when this process stopped processing the shard (lease lost, shut down, shard ended). */
  inactiveSince: number | undefined;
}

/**
 * Runs one shard's records through decode → validate → deduplicate → enrich into a micro-batch,
 * and lands the batch (Parquet, then dead letters, then the raw archive) before handing back its
 * checkpoint.
 *
 * Invariant: the checkpoint returned by a flush is the last record of the landed batch, and every
 * log of every record up to it is in exactly one place: a landed Parquet row, a landed dead letter,
 * or the duplicate counter. A record is always added to a batch whole, so no checkpoint ever falls
 * inside a record.
 */
export class ShardProcessor implements ShardRecordProcessor {
  private batch: MicroBatch;
  /** The records of `batch`, as delivered: the raw archive lands them with it. */
  private raw: ArchivedRecord[] = [];
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
  /** Ends a landing back-off early (lease lost). */
  private wake: (() => void) | undefined;

  constructor(
    readonly shardId: string,
    private readonly deps: ShardProcessorDeps,
    private readonly start: ProcessorStart = {},
  ) {
    this.batch = new MicroBatch(deps.batch, deps.memory);
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ shardId });
    this.pendingBatch = start.pendingBatch;
    this.resumeInside = start.checkpoint?.subSequenceNumber === undefined ? undefined : start.checkpoint;
  }

  async processRecords(records: readonly SourceRecord[]): Promise<Checkpoint | undefined> {
    let checkpoint: Checkpoint | undefined;
    let yieldedAt = Date.now();
    for (const record of records) {
      if (Date.now() - yieldedAt >= YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yieldedAt = Date.now();
        if (this.lost) return undefined;
      }
      const pending = this.pendingBatch;
      if (pending && compareSequence(record.sequenceNumber, pending.lastSequence) > 0) {
        // The announced end was not met exactly (it cannot be, short of a changed stream): cut here.
        this.pendingBatch = undefined;
        checkpoint = (await this.flush('recovery')) ?? checkpoint;
      }
      this.ingestWhole(record);
      if (this.deps.archiveLevel !== undefined) this.archive(record);
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

  async shardEnded(): Promise<Checkpoint | undefined> {
    const checkpoint = await this.flush('shard_end');
    this.deps.activity.inactiveSince = this.now();
    return checkpoint;
  }

  async shutdownRequested(): Promise<Checkpoint | undefined> {
    const checkpoint = await this.flush('shutdown');
    this.deps.activity.inactiveSince = this.now();
    return checkpoint;
  }

  leaseLost(): void {
    this.lost = true;
    // A landing retry waiting out its back-off gives up now, not after the delay.
    this.wake?.();
    this.deps.activity.inactiveSince = this.now();
    this.batch.detach();
    this.release(this.batch);
    this.batch = new MicroBatch(this.deps.batch, this.deps.memory);
    this.raw = [];
  }

  /** Keeps the record for the batch's archive object, with where a resume inside it started. */
  private archive(record: SourceRecord): void {
    const inside = this.resumeInside;
    this.raw.push(
      inside?.sequenceNumber === record.sequenceNumber && inside.subSequenceNumber !== undefined
        ? { ...record, skipThroughSubSequence: inside.subSequenceNumber }
        : record,
    );
  }

  /** The batch will not land from here: its first sightings must not make their next copy a duplicate. */
  private release(batch: MicroBatch): void {
    this.releaseRows(batch.rows);
  }

  private releaseRows(rows: readonly RequestRow[]): void {
    const { released, dedupeWindowMs } = this.deps;
    let newest = 0;
    for (const row of rows) {
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

  /**
   * Ingests a record, or, when processing it throws (a bug, or an input no stage foresaw), undoes
   * what it added and dead-letters the record whole: a record that fails deterministically must
   * not fail its shard's every retry (a poison pill). Only landing is retried.
   */
  private ingestWhole(record: SourceRecord): void {
    const batch = this.batch;
    const { counters } = this.deps;
    const before = {
      rows: batch.rows.length,
      deadLetters: batch.deadLetters.length,
      logs: counters.logs,
      deduplicated: counters.deduplicated,
      records: counters.records,
    };
    try {
      this.ingest(record);
    } catch (error) {
      const added = batch.rows.splice(before.rows);
      batch.lines.splice(before.rows);
      batch.deadLetters.splice(before.deadLetters);
      this.releaseRows(added);
      counters.logs = before.logs;
      counters.deduplicated = before.deduplicated;
      counters.records = before.records + 1;
      const kind = error instanceof Error ? error.name : typeof error;
      this.log.error('a record could not be processed; it is dead-lettered whole and the shard moves on', {
        sequenceNumber: record.sequenceNumber,
        err: error,
      });
      this.deadLetter(
        deadLetterOf(
          record,
          'decode',
          'internal_error',
          `processing the record failed (${kind}); it is kept whole, unprocessed, for a replay once fixed`,
          record.data,
          undefined,
        ),
      );
      this.noteWaiting();
      batch.addRecord(record.sequenceNumber, record.arrivedAt.getTime(), record.data.byteLength, this.now());
    }
  }

  private noteWaiting(): void {
    this.deps.activity.waitingSince ??= this.now();
  }

  private ingest(record: SourceRecord): void {
    const { counters, enrich } = this.deps;
    const batch = this.batch;
    const arrivedMs = record.arrivedAt.getTime();
    counters.records += 1;
    this.noteWaiting();
    const decoded = decodeRecord(record, this.deps.decode);
    let expanded = 0;
    const skipThrough =
      this.resumeInside?.sequenceNumber === record.sequenceNumber
        ? (this.resumeInside.subSequenceNumber ?? -1)
        : -1;
    for (const dl of decoded.deadLetters) {
      if (dl.subSequence === undefined || dl.subSequence > skipThrough) {
        this.deadLetter(dl);
        expanded += dl.data.byteLength;
      }
    }
    for (const line of decoded.logs) {
      if (line.subSequence !== undefined && line.subSequence <= skipThrough) continue;
      counters.logs += 1;
      const valid = validateLog(line.value);
      if (!valid.ok) {
        this.deadLetter(
          deadLetterOf(record, 'validate', 'schema_violation', valid.message, line.raw, line.subSequence),
        );
        expanded += line.raw.byteLength;
        continue;
      }
      const log = valid.log;
      // A log with neither `timestamp` nor `fb_time` is dated by its arrival in Kinesis.
      const tsMicros = valid.tsMicros ?? BigInt(arrivedMs) * 1000n;
      const implausible = implausibleTime(tsMicros, arrivedMs, this.deps.timeWindow);
      if (implausible !== undefined) {
        this.deadLetter(
          deadLetterOf(record, 'validate', 'schema_violation', implausible, line.raw, line.subSequence),
        );
        expanded += line.raw.byteLength;
        continue;
      }
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
        // The error's name only: its message may repeat a value of the log.
        const message = `enrichment failed (${e instanceof Error ? e.name : typeof e}); the log is kept for a replay once fixed`;
        this.deadLetter(deadLetterOf(record, 'enrich', 'enrich_failed', message, line.raw, line.subSequence));
        expanded += line.raw.byteLength;
        continue;
      }
      if (this.deps.generation) row.generation = this.deps.generation;
      batch.rows.push(row);
      batch.lines.push(line.raw);
      expanded += line.raw.byteLength;
    }
    // A batch is bounded by what it holds in memory, not by what arrived compressed.
    batch.addRecord(record.sequenceNumber, arrivedMs, Math.max(record.data.byteLength, expanded), this.now());
  }

  private deadLetter(dl: DeadLetter): void {
    this.batch.deadLetters.push(dl);
  }

  /**
   * Lands the current batch. Parquet first, then dead letters and the raw archive, then the
   * checkpoint is returned to
   * the consumer to store. A crash anywhere before the checkpoint is stored re-reads the same
   * records; their object keys are derived from the records themselves, so the re-landed files
   * replace the earlier ones instead of adding to them.
   */
  private async flush(reason: LandReason): Promise<Checkpoint | undefined> {
    const batch = this.batch;
    if (batch.isEmpty || this.lost) return undefined;
    this.batch = new MicroBatch(this.deps.batch, this.deps.memory);
    const raw = this.raw;
    this.raw = [];
    this.recoveryKeys.clear();
    try {
      const checkpoint = await this.land(batch, reason, raw);
      if (checkpoint === undefined) this.release(batch);
      else this.lastLanded = checkpoint;
      return checkpoint;
    } catch (error) {
      this.release(batch);
      // Given up because the lease is gone: nothing landed that counts, nothing to report.
      if (this.lost) return undefined;
      throw error;
    } finally {
      // Counted against the worker's bound until landed: a batch being encoded is still in memory.
      batch.detach();
    }
  }

  /**
   * Encodes the batch's rows. A failure is retried with back-off (a full temp disk heals); after
   * `ENCODE_ATTEMPTS` failures in a row the batch is bisected for rows the encoder refuses on their
   * own, and those become dead letters with their original bytes, so one poison row cannot stall
   * the shard. When no row is at fault alone, the cause is the environment: keep retrying.
   */
  private async encode(batch: MicroBatch): Promise<Uint8Array> {
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
        await this.landingFailed(error, attempt);
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
    // The error's name, not its message: an encoder's message may quote the value it refused.
    const reason = error instanceof Error ? error.name : typeof error;
    for (const i of indexes) {
      const row = batch.rows[i]!;
      batch.deadLetters.push({
        reason: 'encode_failed',
        stage: 'encode',
        message: `the Parquet encoder refuses this row on its own (${reason}); the log is kept for a replay once fixed`,
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
    this.log.error('rows the Parquet encoder refuses were dead-lettered', { rows: indexes.length, reason });
  }

  /**
   * Puts an object until it is stored. Every failure is retried, permanent ones too (no such
   * bucket, access denied): the batch holds its checkpoint back, and the fix (creating the bucket,
   * granting the role) heals it without a restart or a re-read. Permanent failures are logged as
   * errors with what to fix, and health reports them; only losing the lease stops the retries.
   */
  private async put(key: string, body: Uint8Array): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.lost) throw new LandingAbandoned(`landing ${key} abandoned: the shard's lease is gone`);
      try {
        await this.deps.store.put(key, body);
        return;
      } catch (error) {
        await this.landingFailed(error, attempt);
      }
    }
  }

  private async landingFailed(error: unknown, attempt: number): Promise<void> {
    const failure = this.deps.landing.failed(error, this.now());
    const delay = Math.random() * Math.min(LANDING_BACKOFF_MAX_MS, 100 * 2 ** Math.min(attempt, 20));
    const fields = { kind: failure.kind, attempt, delayMs: Math.round(delay), err: error };
    if (failure.permanent)
      this.log.error('landing failed and will not heal by itself; retrying until fixed', fields);
    else this.log.warn('landing failed, retrying', fields);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    if (this.lost) throw new LandingAbandoned("landing abandoned: the shard's lease is gone");
  }

  /**
   * Lands a batch: its Parquet, its dead letters, then its raw archive object, all under keys
   * derived from the batch's range; the batch is landed (and its checkpoint handed back) only when
   * every one of them is stored. A re-land after a crash replaces each with the same bytes.
   */
  private async land(
    batch: MicroBatch,
    reason: LandReason,
    raw: readonly ArchivedRecord[],
  ): Promise<Checkpoint | undefined> {
    await this.start.beforeLanding?.(
      { firstSequence: batch.firstSequence!, lastSequence: batch.lastSequence! },
      this.lastLanded,
    );
    const started = this.now();
    const { counters } = this.deps;
    const mapKey = this.deps.keyOf ?? ((key: string) => key);
    const keyOf = (table: string, ext: string) =>
      mapKey(
        batchObjectKey({
          table,
          shardId: this.shardId,
          firstSequence: batch.firstSequence!,
          lastSequence: batch.lastSequence!,
          time: new Date(batch.newestArrival),
          ext,
        }),
      );
    const keys: string[] = [];
    if (batch.rows.length > 0) {
      const key = keyOf(REQUESTS_TABLE, 'parquet');
      const body = await this.encode(batch);
      await this.put(key, body);
      keys.push(key);
    }
    if (batch.deadLetters.length > 0) {
      const key = keyOf(DEAD_LETTERS_TABLE, 'jsonl');
      await this.put(key, encodeDeadLetters(batch.deadLetters, this.deps.deadLetterBytes));
      keys.push(key);
    }
    let archiveKey: string | undefined;
    if (this.deps.archiveLevel !== undefined && raw.length > 0) {
      archiveKey = keyOf(ARCHIVE_TABLE, ARCHIVE_EXT);
      await this.put(archiveKey, await encodeArchive(raw, this.deps.archiveLevel));
    }
    if (this.lost) return undefined;
    this.deps.landing.succeeded(this.now());
    counters.landed += batch.rows.length;
    counters.deadLettered += batch.deadLetters.length;
    if (batch.deadLetters.length > 0) {
      counters.deadLetteredByReason ??= {};
      const byReason = counters.deadLetteredByReason;
      for (const dl of batch.deadLetters) byReason[dl.reason] = (byReason[dl.reason] ?? 0) + 1;
    }
    counters.files += keys.length;
    const checkpoint: Checkpoint = { sequenceNumber: batch.lastSequence! };
    const landed: LandedBatch = {
      shardId: this.shardId,
      reason,
      rows: batch.rows.length,
      deadLetters: batch.deadLetters.length,
      keys,
      ...(archiveKey === undefined ? {} : { archiveKey }),
      checkpoint,
      millis: this.now() - started,
      oldestArrivalMs: batch.oldestArrival,
    };
    const activity = this.deps.activity;
    activity.lastLandedAt = this.now();
    activity.waitingSince = this.batch.isEmpty ? undefined : this.batch.openedAt;
    this.log.debug('batch landed', { ...landed });
    this.deps.onLanded?.(landed);
    return checkpoint;
  }
}

/** Thrown out of a landing retry loop once the processor lost its lease (or was told to give up). */
class LandingAbandoned extends Error {
  override readonly name = 'LandingAbandoned';
}
