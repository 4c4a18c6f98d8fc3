import { REQUESTS_TABLE } from '../schemas/request-row.ts';
import { ARCHIVE_EXT, ARCHIVE_TABLE, ArchiveWriter } from './archive/raw-archive.ts';
import type { FlushReason } from './batch/micro-batch.ts';
import { FileBudget, MicroBatch } from './batch/micro-batch.ts';
import type { WorkerMemory } from './batch/worker-memory.ts';
import type { BatchConfig } from './config.ts';
import { deadLetterOf } from './dead-letter/dead-letter-of.ts';
import { encodeDeadLetters } from './dead-letter/dead-letter-sink.ts';
import type { Deduplicator } from './dedupe/deduplicator.ts';
import { hashString } from './dedupe/row-keys.ts';
import { EncodeError } from './errors.ts';
import type { LandingStatus } from './land/landing-status.ts';
import { batchObjectKey } from './land/object-key.ts';
import type { ObjectStore } from './land/object-store.ts';
import type { Logger } from './observability/logger.ts';
import type { PreparedChunk, PrepareOptions } from './stages/record-stage.ts';
import type { RecordStages } from './stages/record-stages.ts';
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

/** Failed encodes of one batch before it is searched for rows the encoder refuses. */
const ENCODE_ATTEMPTS = 3;
/** Landing retries back off up to this; a permanent error (no such bucket) waits this long between tries. */
const LANDING_BACKOFF_MAX_MS = 30_000;
/**
 * Records handed to the stages at a time. A chunk is ~10-30 ms of work: small enough that the
 * event loop gets a turn between chunks (health, metrics, SIGTERM) when the stages run in this
 * thread, large enough that the messages to a stage thread cost little per record.
 */
const CHUNK_RECORDS = 500;

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
  /** When this processor took in the batch's first record (its wait in the stream ends there). */
  readonly firstReadMs: number;
}

export interface ShardProcessorDeps {
  readonly batch: BatchConfig;
  /** Shared by the processors of one process: their batches' bytes (open or landing) against `batch.maxWorkerBytes`. */
  readonly memory?: WorkerMemory;
  readonly dedupe: Deduplicator;
  /** Decode → validate → enrich → encode, in worker threads or in this one; holds the rows. */
  readonly stages: RecordStages;
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
  /**
   * The shard's early-file budget, kept across processor restarts: a processor that fails or
   * loses and regains its lease must not start with a full burst again (more small files).
   */
  fileBudget?: FileBudget;
}

/** Latest time a Date can be written as an ISO string of 4-digit years (file keys, dead letters). */
const LAST_WRITABLE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Records with an arrival time the pipeline can use. Kinesis always sets one; a replay from a
 * damaged archive or a hand-made record may not, and an Invalid Date or one past year 9999 made
 * every later step throw (file keys, dead letters), failing the shard on every retry. Such a
 * record takes the arrival of the usable record before it in the page, else the first usable one
 * after it, else `fallbackMs` (the shard's last arrival, else now): the same page read again
 * gives the same times, so a log that takes its time from its arrival keeps its identity.
 */
const withUsableArrivals = (
  records: readonly SourceRecord[],
  fallbackMs: () => number,
): readonly SourceRecord[] => {
  const usable = (r: SourceRecord): boolean => {
    const ms = r.arrivedAt instanceof Date ? r.arrivedAt.getTime() : Number.NaN;
    return ms >= 0 && ms <= LAST_WRITABLE_MS;
  };
  if (records.every(usable)) return records;
  let previous: Date | undefined = records.find(usable)?.arrivedAt;
  previous ??= new Date(fallbackMs());
  return records.map((r) => {
    if (usable(r)) {
      previous = r.arrivedAt;
      return r;
    }
    return { ...r, arrivedAt: previous as Date };
  });
};

/**
 * Runs one shard's records through decode → validate → enrich (in its stage, usually a worker
 * thread: `pipeline/stages/`) and deduplicates them into a micro-batch here, then has the stage
 * encode the batch and lands it (Parquet, then dead letters, then the raw archive) before handing
 * back its checkpoint.
 *
 * Invariant: the checkpoint returned by a flush is the last record of the landed batch, and every
 * log of every record up to it is in exactly one place: a landed Parquet row, a landed dead letter,
 * or the duplicate counter. A record is always added to a batch whole, so no checkpoint ever falls
 * inside a record.
 */
export class ShardProcessor implements ShardRecordProcessor {
  private batch: MicroBatch;
  /** The records of `batch`, as delivered, compressed as they come: the raw archive lands them with it. */
  private raw: ArchiveWriter | undefined;
  /** Arrival (ms) of the last record taken in: the time of a later page's records that have none. */
  private lastArrivalMs: number | undefined;
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
  /** This processor's id in the stages, which hold its rows. */
  private readonly pid: number;
  private dropped = false;

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
    this.pid = deps.stages.open();
    this.budget = deps.activity.fileBudget ??= new FileBudget(
      deps.batch.freshBurst,
      deps.batch.maxAgeMs,
      this.now(),
    );
    this.prepareOptions = {
      ...(this.resumeInside?.subSequenceNumber === undefined
        ? {}
        : {
            skipThrough: {
              sequenceNumber: this.resumeInside.sequenceNumber,
              subSequence: this.resumeInside.subSequenceNumber,
            },
          }),
      ...(deps.generation ? { generation: deps.generation } : {}),
    };
  }

  private readonly prepareOptions: PrepareOptions;
  /** Early (fresh) files this shard may still write; see `FileBudget`. */
  private readonly budget: FileBudget;

  async processRecords(input: readonly SourceRecord[]): Promise<Checkpoint | undefined> {
    if (this.lost || input.length === 0) return undefined;
    const records = withUsableArrivals(input, () => this.lastArrivalMs ?? this.now());
    const { stages } = this.deps;
    let size = CHUNK_RECORDS;
    const prepare = (from: number): Promise<PreparedChunk> => {
      const chunk = stages.prepare(this.pid, records.slice(from, from + size), this.prepareOptions);
      // Awaited below, unless this call ends first (a failed flush, a lost lease): then it must
      // not be an unhandled rejection (a stage thread that died rejects every call), which would
      // end the process instead of failing this processor.
      chunk.catch(() => undefined);
      return chunk;
    };
    let checkpoint: Checkpoint | undefined;
    let start = 0;
    let prepared = await prepare(0);
    for (;;) {
      if (this.lost) return undefined;
      const end = start + prepared.records;
      // A chunk that stopped early (records that inflate) sets the size of the next: the rest is
      // not packed again whole for each record or two.
      if (end - start < Math.min(size, records.length - start)) size = Math.max(1, end - start);
      // The next chunk is prepared while this one is admitted. It is sent only now, once this
      // one is back: a chunk may stop early (PreparedChunk.records), and rows must be made in
      // record order, since landing a batch frees every row up to its last.
      const next = end < records.length ? prepare(end) : undefined;
      checkpoint = (await this.admitChunk(records.slice(start, end), prepared)) ?? checkpoint;
      if (next === undefined || this.lost) return this.lost ? undefined : checkpoint;
      // In this thread the stages never wait: give timers, health and SIGTERM their turn.
      if (stages.threads === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      start = end;
      prepared = await next;
    }
  }

  /** Takes a prepared chunk into batches, record by record, flushing where a batch is due. */
  private async admitChunk(
    records: readonly SourceRecord[],
    prepared: PreparedChunk,
  ): Promise<Checkpoint | undefined> {
    let checkpoint: Checkpoint | undefined;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const pending = this.pendingBatch;
      if (pending && compareSequence(record.sequenceNumber, pending.lastSequence) > 0) {
        // The announced end was not met exactly (it cannot be, short of a changed stream): cut here.
        this.pendingBatch = undefined;
        checkpoint = (await this.flush('recovery')) ?? checkpoint;
        if (this.lost) return checkpoint;
      }
      this.admit(record, prepared, i);
      if (this.deps.archiveLevel !== undefined) this.archive(record);
      if (this.pendingBatch) {
        if (record.sequenceNumber === this.pendingBatch.lastSequence) {
          this.pendingBatch = undefined;
          checkpoint = (await this.flush('recovery')) ?? checkpoint;
          // The lease went while landing: nothing more is taken in (it would never be released).
          if (this.lost) return checkpoint;
        }
        continue;
      }
      const reason = this.due(this.now(), false);
      if (reason) {
        checkpoint = (await this.flush(reason)) ?? checkpoint;
        if (this.lost) return checkpoint;
      }
    }
    return checkpoint;
  }

  /**
   * Why the open batch should land now; a batch cut by age spends the shard's file budget. Early
   * (fresh) cuts are only made between reads (`tick`), never inside a page of records: a page read
   * late would otherwise be cut at its first record.
   */
  private due(now: number, early: boolean): FlushReason | undefined {
    const reason = this.batch.due(now, early && this.budget.allows(now));
    if (reason === 'age' || reason === 'fresh') this.budget.spend(now);
    return reason;
  }

  async tick(now: number): Promise<Checkpoint | undefined> {
    if (this.pendingBatch) return undefined;
    const reason = this.due(now, true);
    return reason ? this.flush(reason) : undefined;
  }

  async shardEnded(): Promise<Checkpoint | undefined> {
    const checkpoint = await this.flush('shard_end');
    this.deps.activity.inactiveSince = this.now();
    this.dropRows();
    return checkpoint;
  }

  async shutdownRequested(): Promise<Checkpoint | undefined> {
    const checkpoint = await this.flush('shutdown');
    this.deps.activity.inactiveSince = this.now();
    this.dropRows();
    return checkpoint;
  }

  /** The processor is done: the stages forget its rows. */
  private dropRows(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.deps.stages.drop(this.pid);
  }

  leaseLost(): void {
    this.lost = true;
    // A landing retry waiting out its back-off gives up now, not after the delay.
    this.wake?.();
    this.deps.activity.inactiveSince = this.now();
    this.batch.detach();
    this.release(this.batch);
    this.batch = new MicroBatch(this.deps.batch, this.deps.memory);
    this.raw?.destroy();
    this.raw = undefined;
    this.dropRows();
  }

  /** Keeps the record for the batch's archive object, with where a resume inside it started. */
  private archive(record: SourceRecord): void {
    const inside = this.resumeInside;
    this.raw ??= new ArchiveWriter(this.deps.archiveLevel);
    this.raw.add(
      inside?.sequenceNumber === record.sequenceNumber && inside.subSequenceNumber !== undefined
        ? { ...record, skipThroughSubSequence: inside.subSequenceNumber }
        : record,
    );
  }

  /** The batch will not land from here: its first sightings must not make their next copy a duplicate. */
  private release(batch: MicroBatch): void {
    const { released, dedupeWindowMs } = this.deps;
    let newest = 0;
    for (let i = 0; i < batch.keys.length; i++) {
      const arrived = batch.arrivals[i]!;
      const key = batch.keys.key(i);
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
  private isDuplicate(hashes: Int32Array, at: number, arrivedMs: number): boolean {
    const { released: releasedKeys, dedupe } = this.deps;
    // Keys as strings only when a map holds some: most rows meet neither.
    const key = releasedKeys.size > 0 || this.pendingBatch ? hashString(hashes, at) : undefined;
    const released = key !== undefined && releasedKeys.delete(key);
    const remembered = dedupe.isDuplicateHash(hashes, at, arrivedMs);
    if (this.pendingBatch) {
      if (this.recoveryKeys.has(key!)) return true;
      this.recoveryKeys.add(key!);
      return false;
    }
    return remembered && !released;
  }

  private noteWaiting(): void {
    this.deps.activity.waitingSince ??= this.now();
  }

  /**
   * Takes record `i` of a prepared chunk into the batch: its dead letters, and its rows unless
   * their request was seen already. A record whose processing threw (a bug, or an input no stage
   * foresaw) is dead-lettered whole: a record that fails deterministically must not fail its
   * shard's every retry (a poison pill). Only landing is retried.
   */
  private admit(record: SourceRecord, prepared: PreparedChunk, i: number): void {
    const { counters } = this.deps;
    const batch = this.batch;
    const arrivedMs = record.arrivedAt.getTime();
    this.lastArrivalMs = arrivedMs;
    counters.records += 1;
    this.noteWaiting();
    const rowStart = i === 0 ? 0 : prepared.rowEnd[i - 1]!;
    const rowEnd = prepared.rowEnd[i]!;
    if (rowEnd > rowStart) batch.throughRef = prepared.firstRef + rowEnd - 1;
    const failed = prepared.failed[i];
    if (failed !== null && failed !== undefined) {
      this.log.error('a record could not be processed; it is dead-lettered whole and the shard moves on', {
        sequenceNumber: record.sequenceNumber,
        kind: failed,
      });
      this.deadLetter(
        deadLetterOf(
          record,
          'decode',
          'internal_error',
          `processing the record failed (${failed}); it is kept whole, unprocessed, for a replay once fixed`,
          record.data,
          undefined,
        ),
      );
      batch.addRecord(record.sequenceNumber, arrivedMs, record.data.byteLength, this.now());
      return;
    }
    counters.logs += prepared.logs[i]!;
    const deadLetters = prepared.deadLetters[i];
    if (deadLetters) for (const dl of deadLetters) this.deadLetter(dl);
    let rowLineBytes = 0;
    // Duplicates are left out of the batch, but their rows stay in the stage until it lands.
    let duplicateLineBytes = 0;
    for (let r = rowStart; r < rowEnd; r++) {
      if (this.isDuplicate(prepared.keyHashes, 4 * r, arrivedMs)) {
        counters.deduplicated += 1;
        duplicateLineBytes += prepared.lineBytes[r]!;
        continue;
      }
      batch.refs.push(prepared.firstRef + r);
      batch.keys.push(prepared.keyHashes, 4 * r);
      batch.arrivals.push(arrivedMs);
      rowLineBytes += prepared.lineBytes[r]!;
    }
    // A batch is bounded by what it holds in memory, not by what arrived compressed.
    const expanded = prepared.deadLetterBytes[i]! + rowLineBytes;
    batch.addRecord(
      record.sequenceNumber,
      arrivedMs,
      Math.max(record.data.byteLength, expanded),
      this.now(),
      rowLineBytes + duplicateLineBytes,
    );
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
    this.raw = undefined;
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
      // Landed (its object is stored) or given up: either way its gzip stream is done with.
      raw?.destroy();
    }
  }

  /**
   * Encodes the batch's rows. A failure is retried with back-off (a full temp disk heals); after
   * `ENCODE_ATTEMPTS` failures in a row the batch is bisected for rows the encoder refuses on their
   * own, and those become dead letters with their original bytes, so one poison row cannot stall
   * the shard. When no row is at fault alone, the cause is the environment: keep retrying.
   */
  private async encode(batch: MicroBatch): Promise<Uint8Array> {
    const { stages } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const outcome = await stages.encode(this.pid, batch.refs, batch.throughRef);
      if (outcome.ok) return outcome.bytes;
      const error = Object.assign(new EncodeError(outcome.message), { name: outcome.name });
      if (this.lost) throw error;
      if (attempt % ENCODE_ATTEMPTS === 0) {
        const refused = await stages.refused(this.pid, batch.refs, outcome.name);
        if (this.lost) throw error;
        if (refused.positions.length > 0 && refused.positions.length < batch.refs.length) {
          this.evict(batch, refused.positions, refused.deadLetters, outcome.name);
          continue;
        }
      }
      await this.landingFailed(error, attempt);
    }
  }

  /** Turns rows the encoder refuses on their own into dead letters (made by the stage, with their lines). */
  private evict(
    batch: MicroBatch,
    positions: readonly number[],
    deadLetters: readonly DeadLetter[],
    reason: string,
  ): void {
    batch.deadLetters.push(...deadLetters);
    for (const p of [...positions].sort((a, b) => b - a)) {
      batch.refs.splice(p, 1);
      batch.arrivals.splice(p, 1);
    }
    batch.keys.remove(positions);
    this.log.error('rows the Parquet encoder refuses were dead-lettered', { rows: positions.length, reason });
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
    raw: ArchiveWriter | undefined,
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
    if (batch.refs.length > 0) {
      const key = keyOf(REQUESTS_TABLE, 'parquet');
      const body = await this.encode(batch);
      await this.put(key, body);
      keys.push(key);
    } else if (batch.throughRef >= 0) {
      // Only duplicates: nothing to encode, but the stage still holds them.
      this.deps.stages.free(this.pid, batch.throughRef);
    }
    if (batch.deadLetters.length > 0) {
      const key = keyOf(DEAD_LETTERS_TABLE, 'jsonl');
      await this.put(key, encodeDeadLetters(batch.deadLetters, this.deps.deadLetterBytes));
      keys.push(key);
    }
    let archiveKey: string | undefined;
    if (raw !== undefined && raw.records > 0) {
      archiveKey = keyOf(ARCHIVE_TABLE, ARCHIVE_EXT);
      await this.put(archiveKey, await raw.finish());
    }
    if (this.lost) return undefined;
    this.deps.landing.succeeded(this.now());
    counters.landed += batch.refs.length;
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
      rows: batch.refs.length,
      deadLetters: batch.deadLetters.length,
      keys,
      ...(archiveKey === undefined ? {} : { archiveKey }),
      checkpoint,
      millis: this.now() - started,
      oldestArrivalMs: batch.oldestArrival,
      firstReadMs: batch.openedAt,
    };
    const activity = this.deps.activity;
    activity.lastLandedAt = this.now();
    activity.waitingSince = this.batch.isEmpty ? undefined : this.batch.openedAt;
    // readLagMs: how long the batch's first record waited in the stream before this processor took it in.
    this.log.debug('batch landed', { ...landed, readLagMs: landed.firstReadMs - landed.oldestArrivalMs });
    this.deps.onLanded?.(landed);
    return checkpoint;
  }
}

/** Thrown out of a landing retry loop once the processor lost its lease (or was told to give up). */
class LandingAbandoned extends Error {
  override readonly name = 'LandingAbandoned';
}
