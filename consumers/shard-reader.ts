import type { _Record, GetShardIteratorInput } from '@aws-sdk/client-kinesis';
import {
  type Checkpoint,
  compareSequence,
  type ProcessorStart,
  type ShardRecordProcessor,
  type ShardRecordProcessorFactory,
  type SourceRecord,
} from '../pipeline/types.ts';
import { type CheckpointStore, isShardEnd, SHARD_END, type StoredCheckpoint } from './checkpoint-store.ts';
import { type ConsumerClock, systemClock } from './consumer-clock.ts';
import { type ConsumerLogger, silentLogger } from './consumer-logger.ts';
import { LeaseLostError } from './errors.ts';
import { ExponentialBackoff } from './exponential-backoff.ts';
import type { KinesisApi } from './kinesis-api.ts';
import { kinesisErrorKind } from './kinesis-error-kind.ts';
import type { StreamConsumerConfig } from './stream-consumer-config.ts';

/*
 * One shard, one polling loop, in KCL's shard-consumer states:
 *
 *   WAITING_ON_PARENT_SHARDS ──► INITIALIZING ──────► PROCESSING ─────────────► SHUTTING_DOWN ──► SHUTDOWN_COMPLETE
 *   until every parent has a     read checkpoint,     GetRecords → processor,   stop(): shutdownRequested(), checkpoint
 *   SHARD_END checkpoint         create processor,    store the checkpoint it   shard end: shardEnded(), checkpoint SHARD_END
 *                                get an iterator      returns                   lease lost: leaseLost(), no checkpoint
 *
 * Invariant: a checkpoint is stored only after the processor returned it, i.e. after everything
 * up to it landed; checkpoints only move forward. When the processor fails, its buffered work is
 * dropped (leaseLost) and a new processor re-reads the shard from the last durable checkpoint,
 * cutting its first batch where the failed one announced it (same object keys), so a failure
 * never loses a record. A LeaseLostError from the store (another worker owns the shard now)
 * stops the reader at once, without landing or checkpointing anything more.
 */

export type ShardReaderState =
  | 'WAITING_ON_PARENT_SHARDS'
  | 'INITIALIZING'
  | 'PROCESSING'
  | 'SHUTTING_DOWN'
  | 'SHUTDOWN_COMPLETE';

export interface ShardReaderStats {
  readonly shardId: string;
  readonly state: ShardReaderState;
  /** Records and Data bytes read from the shard, each record counted once however often it is re-read. */
  readonly records: number;
  readonly bytes: number;
  /** Records read again after a processor restart or an expired iterator (not in `records`). */
  readonly recordsReread: number;
  readonly getRecordsCalls: number;
  /** From the last GetRecords answer; 0 means at the tip of the shard. */
  readonly millisBehindLatest: number | undefined;
  /** Last checkpoint known to be durable. */
  readonly lastCheckpoint: StoredCheckpoint | undefined;
  readonly throttled: number;
  readonly errors: number;
  readonly processorRestarts: number;
  /** Processor restarts by what failed (bounded label set). */
  readonly processorRestartsByReason: Readonly<Record<string, number>>;
  /** Kinesis calls that failed (throttled included), by kind. */
  readonly kinesisErrorsByKind: Readonly<Record<string, number>>;
  /** Set while Kinesis calls for this shard keep failing (throttling included); cleared by a success. */
  readonly kinesisFailingSince: number | undefined;
  readonly lastError: string | undefined;
}

type ReadOutcome =
  | {
      readonly ok: true;
      readonly output: Awaited<ReturnType<KinesisApi['getRecords']>>;
      /** When the answer came (clock ms). */
      readonly answeredAt: number;
    }
  | { readonly ok: false; readonly error: unknown };

export type ShardReaderConfig = Pick<
  StreamConsumerConfig,
  | 'initialPosition'
  | 'initialTimestamp'
  | 'maxRecordsPerCall'
  | 'minPollIntervalMs'
  | 'idleTimeBetweenReadsMs'
  | 'backoffBaseMs'
  | 'backoffMaxMs'
  | 'parentPollIntervalMs'
>;

export interface ShardReaderOptions {
  readonly api: Pick<KinesisApi, 'getShardIterator' | 'getRecords'>;
  readonly streamName: string;
  readonly shardId: string;
  /** Parents still in the stream; this shard waits until each has a SHARD_END checkpoint. */
  readonly parentShardIds?: readonly string[];
  readonly checkpointStore: CheckpointStore;
  readonly processorFactory: ShardRecordProcessorFactory;
  /** Parsed with `streamConsumerConfigSchema`. */
  readonly config: ShardReaderConfig;
  readonly clock?: ConsumerClock;
  readonly random?: () => number;
  readonly logger?: ConsumerLogger;
}

/** Attempts at a final checkpoint once stop() was called, before giving up on it. */
const FINAL_CHECKPOINT_ATTEMPTS = 3;
const EMPTY = new Uint8Array(0);

export class ShardReader {
  readonly shardId: string;
  readonly #options: ShardReaderOptions;
  readonly #config: ShardReaderConfig;
  readonly #clock: ConsumerClock;
  readonly #log: ConsumerLogger;
  readonly #parents: readonly string[];
  readonly #readBackoff: ExponentialBackoff;
  /** Grows while the processor keeps failing (a lake that refuses writes); reset only by a landed batch. */
  readonly #processorBackoff: ExponentialBackoff;
  readonly #checkpointBackoff: ExponentialBackoff;
  readonly #abort = new AbortController();
  #stopReason: 'shutdown' | 'lease_lost' | undefined;
  #done: Promise<void> | undefined;
  #state: ShardReaderState = 'WAITING_ON_PARENT_SHARDS';
  #processor: ShardRecordProcessor | undefined;
  #iterator: string | undefined;
  /** Durable checkpoint. */
  #committed: StoredCheckpoint | undefined;
  /** Returned by the processor (so landed) but not yet stored. */
  #pending: Checkpoint | undefined;
  /** Last record handed to the current processor: where to resume after an expired iterator. */
  #lastSeen: string | undefined;
  #lastCallAt = Number.NEGATIVE_INFINITY;
  /** The GetRecords call made with the last answer's next iterator, while that answer is processed. */
  #ahead: { readonly iterator: string; readonly read: Promise<ReadOutcome> } | undefined;
  /** GetRecords calls out, read ahead or not (see `#read`); stopping waits for them. */
  readonly #calling = new Set<Promise<ReadOutcome>>();
  /** True once the loop is done with the processor and only waits for calls still out. */
  #draining = false;
  #stopWaitingForCalls: () => void = () => {};
  readonly #callsAbandoned = new Promise<void>((resolve) => (this.#stopWaitingForCalls = resolve));
  #records = 0;
  #bytes = 0;
  #calls = 0;
  #millisBehindLatest: number | undefined;
  #throttled = 0;
  #errors = 0;
  #processorRestarts = 0;
  readonly #restartsByReason: Record<string, number> = {};
  readonly #kinesisErrors: Record<string, number> = {};
  #kinesisFailingSince: number | undefined;
  /** Highest sequence number read so far: records at or below it are re-reads. */
  #highestRead: string | undefined;
  #reread = 0;
  #lastError: string | undefined;

  constructor(options: ShardReaderOptions) {
    this.#options = options;
    this.#config = options.config;
    this.shardId = options.shardId;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.#parents = options.parentShardIds ?? [];
    const backoff = {
      baseMs: options.config.backoffBaseMs,
      maxMs: options.config.backoffMaxMs,
      random: options.random,
    };
    this.#readBackoff = new ExponentialBackoff(backoff);
    this.#processorBackoff = new ExponentialBackoff(backoff);
    this.#checkpointBackoff = new ExponentialBackoff(backoff);
  }

  get state(): ShardReaderState {
    return this.#state;
  }

  /** Runs the loop; the promise settles at SHUTDOWN_COMPLETE (shard end or stop) and never rejects. */
  start(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  /** Graceful: the processor lands what it buffered and the checkpoint is stored. */
  stop(): Promise<void> {
    return this.#halt('shutdown');
  }

  /** Another worker owns the shard now: drop buffered work, store nothing. */
  loseLease(): Promise<void> {
    return this.#halt('lease_lost');
  }

  stats(): ShardReaderStats {
    return {
      shardId: this.shardId,
      state: this.#state,
      records: this.#records,
      bytes: this.#bytes,
      recordsReread: this.#reread,
      getRecordsCalls: this.#calls,
      millisBehindLatest: this.#millisBehindLatest,
      lastCheckpoint: this.#committed,
      throttled: this.#throttled,
      errors: this.#errors,
      processorRestarts: this.#processorRestarts,
      processorRestartsByReason: { ...this.#restartsByReason },
      kinesisErrorsByKind: { ...this.#kinesisErrors },
      kinesisFailingSince: this.#kinesisFailingSince,
      lastError: this.#lastError,
    };
  }

  /**
   * Stop now, whatever the processor is doing (a landing that keeps failing, say): its buffered
   * work is dropped as on a lost lease, and nothing more is checkpointed than what already landed.
   * The records are read again by whoever holds the shard next.
   */
  abandon(): void {
    if (this.#state === 'SHUTDOWN_COMPLETE') return;
    this.#stopWaitingForCalls();
    // Done with the processor: only a GetRecords call is still being waited for.
    if (this.#draining) return;
    this.#log.warn('shard reader did not stop in time; dropping its unlanded batch, it will be read again', {
      shardId: this.shardId,
    });
    this.#stopReason = 'lease_lost';
    this.#abort.abort();
    this.#processor?.leaseLost();
  }

  #halt(reason: 'shutdown' | 'lease_lost'): Promise<void> {
    this.#stopReason ??= reason;
    this.#abort.abort();
    if (!this.#done) this.#state = 'SHUTDOWN_COMPLETE';
    return this.#done ?? Promise.resolve();
  }

  async #run(): Promise<void> {
    try {
      if (!(await this.#waitForParents())) return;
      this.#state = 'INITIALIZING';
      const checkpoint = await this.#retry('read the checkpoint', () =>
        this.#options.checkpointStore.get(this.shardId),
      );
      if (this.#stopReason || isShardEnd(checkpoint)) return;
      this.#committed = checkpoint;
      this.#processor = this.#createProcessor();
      this.#state = 'PROCESSING';
      if (await this.#process()) return;
      this.#state = 'SHUTTING_DOWN';
      await this.#shutdown(this.#processor);
    } catch (error) {
      this.#recordError(error);
      this.#log.error('shard reader stopped on an unexpected error', { shardId: this.shardId, err: error });
      this.#processor?.leaseLost();
    } finally {
      // A call read ahead may still be out (the loop ended on stop or a lost lease, or a failed
      // processor's answer was dropped): wait for it (it never rejects; its pause ends on abort),
      // so that no call of this reader outlives it and two readers of one shard never have calls
      // out at once; unless `abandon` says to stop waiting (a call that never answers).
      this.#draining = true;
      await Promise.race([Promise.all(this.#calling), this.#callsAbandoned]);
      this.#ahead = undefined;
      this.#state = 'SHUTDOWN_COMPLETE';
    }
  }

  async #waitForParents(): Promise<boolean> {
    for (const parent of this.#parents) {
      while (!this.#stopReason) {
        const checkpoint = await this.#retry('read a parent checkpoint', () =>
          this.#options.checkpointStore.get(parent),
        );
        if (isShardEnd(checkpoint)) break;
        await this.#sleep(this.#config.parentPollIntervalMs);
      }
    }
    return !this.#stopReason;
  }

  /** The PROCESSING loop. Resolves true once the shard ended and SHARD_END is stored. */
  async #process(): Promise<boolean> {
    while (!this.#stopReason) {
      this.#iterator ??= await this.#getIterator();
      if (this.#iterator === undefined) break;
      const ahead = this.#ahead;
      this.#ahead = undefined;
      // The answer read ahead is used only if the processor took the previous one: after a
      // failure the iterator was reset to the checkpoint and that answer is dropped.
      const read = ahead?.iterator === this.#iterator ? await ahead.read : await this.#read(this.#iterator);
      if (this.#stopReason) break;
      if (!read.ok) {
        await this.#onReadError(read.error);
        continue;
      }
      const output = read.output;
      this.#readBackoff.reset();
      this.#kinesisFailingSince = undefined;
      const records = output.Records ?? [];
      this.#millisBehindLatest = output.MillisBehindLatest;

      // Read ahead: the next call goes out while this answer is processed and landed, so the
      // stream's latency and the pipeline's overlap instead of adding up. One answer at most is
      // held ahead per shard (≤ maxRecordsPerCall records).
      if (records.length > 0 && output.NextShardIterator) {
        this.#ahead = { iterator: output.NextShardIterator, read: this.#read(output.NextShardIterator) };
      }

      const processor = this.#processor!;
      try {
        let checkpoint: Checkpoint | undefined;
        if (records.length > 0) {
          const batch = this.#toSourceRecords(records);
          this.#lastSeen = batch[batch.length - 1]!.sequenceNumber;
          checkpoint = await processor.processRecords(batch, output.MillisBehindLatest);
        }
        this.#offer(checkpoint);
        this.#offer(await processor.tick(this.#clock.now()));
        if (!output.NextShardIterator) {
          this.#state = 'SHUTTING_DOWN';
          this.#offer(await processor.shardEnded());
          // Everything of the shard is durable now; SHARD_END supersedes any pending checkpoint.
          const pending = this.#pending;
          if (!(await this.#storeUntilDurable(SHARD_END)) && pending) await this.#storeUntilDurable(pending);
          return true;
        }
      } catch (error) {
        await this.#onProcessorError(error);
        continue;
      }
      this.#iterator = output.NextShardIterator;
      await this.#storePending();
      if (records.length === 0 && (output.MillisBehindLatest ?? 0) === 0) {
        // Counted from the answer: one read ahead may have waited while the previous was processed.
        await this.#sleep(read.answeredAt + this.#config.idleTimeBetweenReadsMs - this.#clock.now());
      }
    }
    return false;
  }

  async #shutdown(processor: ShardRecordProcessor): Promise<void> {
    if (this.#stopReason === 'lease_lost') {
      processor.leaseLost();
      return;
    }
    try {
      this.#offer(await processor.shutdownRequested());
    } catch (error) {
      this.#recordError(error);
      this.#log.error(
        'processor failed to land its buffer at shutdown; those records will be read again from the last checkpoint',
        { shardId: this.shardId, err: error },
      );
      processor.leaseLost();
      return;
    }
    if (this.#pending) await this.#storeUntilDurable(this.#pending);
  }

  /** A processor that knows where the shard resumes and, with a lease store, announces its batches. */
  #createProcessor(): ShardRecordProcessor {
    const store = this.#options.checkpointStore;
    const resumeFrom = this.#pending ?? this.#committed;
    const start: ProcessorStart = {
      checkpoint: resumeFrom === undefined || isShardEnd(resumeFrom) ? undefined : resumeFrom,
      pendingBatch: store.pendingBatch?.(this.shardId),
      beforeLanding: store.announceBatch
        ? async (range, landed) => {
            await this.#storeBeforeAnnouncing(landed);
            await store.announceBatch!(this.shardId, range);
          }
        : undefined,
    };
    return this.#options.processorFactory.create(this.shardId, start);
  }

  /**
   * An announcement replaces the previous one. If that batch landed but its checkpoint is not
   * stored yet (a second batch landing in the same processRecords call, or a failed store), a
   * new owner would resume before it with the new range announced and land it again under another
   * key, beside the first. So its checkpoint is stored first: fenced like every write.
   */
  async #storeBeforeAnnouncing(landed: Checkpoint | undefined): Promise<void> {
    this.#offer(landed);
    const checkpoint = this.#pending;
    if (checkpoint === undefined) return;
    await this.#options.checkpointStore.put(this.shardId, checkpoint);
    this.#committed = checkpoint;
    if (this.#pending === checkpoint) this.#pending = undefined;
  }

  #toSourceRecords(records: readonly _Record[]): SourceRecord[] {
    const shardId = this.shardId;
    const batch = new Array<SourceRecord>(records.length);
    // Kinesis always sets the arrival time; the fallback only keeps the field total.
    const polledAt = new Date(this.#clock.now());
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const data = record.Data ?? EMPTY;
      batch[i] = {
        shardId,
        sequenceNumber: record.SequenceNumber ?? '',
        partitionKey: record.PartitionKey ?? '',
        arrivedAt: record.ApproximateArrivalTimestamp ?? polledAt,
        data,
      };
    }
    const last = batch[batch.length - 1]?.sequenceNumber;
    if (
      this.#highestRead === undefined ||
      last === undefined ||
      compareSequence(last, this.#highestRead) > 0
    ) {
      // Kinesis returns records in order: only a prefix of the answer can be a re-read.
      let fresh = 0;
      let freshBytes = 0;
      for (let i = batch.length - 1; i >= 0; i--) {
        const record = batch[i]!;
        if (this.#highestRead !== undefined && compareSequence(record.sequenceNumber, this.#highestRead) <= 0)
          break;
        fresh++;
        freshBytes += record.data.byteLength;
      }
      this.#records += fresh;
      this.#bytes += freshBytes;
      this.#reread += batch.length - fresh;
      if (last !== undefined) this.#highestRead = last;
    } else {
      this.#reread += batch.length;
    }
    return batch;
  }

  async #getIterator(): Promise<string | undefined> {
    const input: GetShardIteratorInput = {
      StreamName: this.#options.streamName,
      ShardId: this.shardId,
      ...this.#startingPosition(),
    };
    return this.#retry(
      'get a shard iterator',
      async () => {
        const { ShardIterator } = await this.#options.api.getShardIterator(input);
        if (!ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${this.shardId}`);
        return ShardIterator;
      },
      true,
    );
  }

  /**
   * Where to resume: after the last record this processor saw, else after the durable
   * checkpoint. A checkpoint inside a KPL-aggregated record (subSequenceNumber set) resumes AT
   * that record; the processor, told the checkpoint, skips the sub-records already landed.
   * Without a checkpoint but with a batch an earlier owner announced, the shard resumes at the
   * batch's first record, whatever the initial position (a LATEST start must not skip it).
   */
  #startingPosition(): Pick<
    GetShardIteratorInput,
    'ShardIteratorType' | 'StartingSequenceNumber' | 'Timestamp'
  > {
    if (this.#lastSeen !== undefined) {
      return { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: this.#lastSeen };
    }
    const resumeFrom = this.#pending ?? this.#committed;
    if (resumeFrom !== undefined && !isShardEnd(resumeFrom)) {
      const type =
        resumeFrom.subSequenceNumber === undefined ? 'AFTER_SEQUENCE_NUMBER' : 'AT_SEQUENCE_NUMBER';
      return { ShardIteratorType: type, StartingSequenceNumber: resumeFrom.sequenceNumber };
    }
    const announced = this.#options.checkpointStore.pendingBatch?.(this.shardId);
    if (resumeFrom === undefined && announced !== undefined) {
      return { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: announced.firstSequence };
    }
    // A child shard holds exactly what its parents did not: reading it from its start loses nothing.
    if (this.#parents.length > 0) return { ShardIteratorType: 'TRIM_HORIZON' };
    if (this.#config.initialPosition === 'AT_TIMESTAMP') {
      return { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: this.#config.initialTimestamp };
    }
    return { ShardIteratorType: this.#config.initialPosition };
  }

  #kinesisFailed(kind: string): void {
    this.#kinesisErrors[kind] = (this.#kinesisErrors[kind] ?? 0) + 1;
    this.#kinesisFailingSince ??= this.#clock.now();
  }

  async #onReadError(error: unknown): Promise<void> {
    const kind = kinesisErrorKind(error);
    if (kind !== 'expired_iterator') this.#kinesisFailed(kind);
    if (kind === 'expired_iterator') {
      this.#iterator = undefined;
      return;
    }
    if (kind === 'throttled') {
      this.#throttled++;
    } else {
      this.#recordError(error);
      this.#log.warn('GetRecords failed; backing off', { shardId: this.shardId, kind, err: error });
      // The iterator itself may be what was rejected: start from a fresh one.
      if (kind === 'rejected') this.#iterator = undefined;
    }
    await this.#sleep(this.#readBackoff.next());
  }

  async #onProcessorError(error: unknown): Promise<void> {
    if (this.#leaseLost(error)) return;
    this.#recordError(error);
    this.#processorRestarts++;
    const reason = restartReason(error);
    this.#restartsByReason[reason] = (this.#restartsByReason[reason] ?? 0) + 1;
    this.#log.error('processor failed; dropping its buffer and reading again from the last checkpoint', {
      shardId: this.shardId,
      err: error,
    });
    try {
      this.#processor?.leaseLost();
    } catch (leaseLostError) {
      this.#log.warn('processor failed to drop its buffer', { shardId: this.shardId, err: leaseLostError });
    }
    this.#processor = this.#createProcessor();
    this.#state = 'PROCESSING';
    this.#iterator = undefined;
    this.#lastSeen = undefined;
    await this.#sleep(this.#processorBackoff.next());
  }

  /** Keeps the newest landed checkpoint; older or equal ones (e.g. repeated by tick) change nothing. */
  #offer(checkpoint: Checkpoint | undefined): void {
    if (checkpoint !== undefined && isAfter(checkpoint, this.#pending ?? this.#committed)) {
      this.#pending = checkpoint;
      this.#processorBackoff.reset();
    }
  }

  /** One attempt per loop; a failed write is retried on the next loop, after a back-off. */
  async #storePending(): Promise<void> {
    const checkpoint = this.#pending;
    if (checkpoint === undefined) return;
    try {
      await this.#options.checkpointStore.put(this.shardId, checkpoint);
      this.#committed = checkpoint;
      if (this.#pending === checkpoint) this.#pending = undefined;
      this.#checkpointBackoff.reset();
    } catch (error) {
      if (this.#leaseLost(error)) return;
      this.#recordError(error);
      this.#log.warn('checkpoint write failed; retrying', { shardId: this.shardId, err: error });
      await this.#sleep(this.#checkpointBackoff.next());
    }
  }

  async #storeUntilDurable(checkpoint: StoredCheckpoint): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#options.checkpointStore.put(this.shardId, checkpoint);
        this.#committed = checkpoint;
        this.#pending = undefined;
        return true;
      } catch (error) {
        if (this.#leaseLost(error)) return false;
        this.#recordError(error);
        this.#log.warn('checkpoint write failed; retrying', { shardId: this.shardId, err: error, attempt });
        if (this.#stopReason && attempt >= FINAL_CHECKPOINT_ATTEMPTS) return false;
        await this.#clock.sleep(this.#checkpointBackoff.next());
      }
    }
  }

  /** Retries `action` with back-off until it succeeds; undefined once stop() was called. */
  async #retry<T>(what: string, action: () => Promise<T>, kinesis = false): Promise<T | undefined> {
    const backoff = new ExponentialBackoff({
      baseMs: this.#config.backoffBaseMs,
      maxMs: this.#config.backoffMaxMs,
      random: this.#options.random,
    });
    while (!this.#stopReason) {
      try {
        const result = await action();
        if (kinesis) this.#kinesisFailingSince = undefined;
        return result;
      } catch (error) {
        if (this.#leaseLost(error)) return undefined;
        const kind = kinesisErrorKind(error);
        if (kinesis) this.#kinesisFailed(kind);
        if (kind === 'throttled') this.#throttled++;
        else this.#recordError(error);
        this.#log.warn(`could not ${what}; backing off`, { shardId: this.shardId, kind, err: error });
        await this.#sleep(backoff.next());
      }
    }
    return undefined;
  }

  /** True (and the reader is stopping without landing more) when `error` says the lease is gone. */
  #leaseLost(error: unknown): boolean {
    if (!(error instanceof LeaseLostError)) return false;
    this.#log.warn('lease lost; dropping buffered work, landing and checkpointing nothing more', {
      shardId: this.shardId,
      reason: error.message,
    });
    this.#stopReason ??= 'lease_lost';
    this.#abort.abort();
    return true;
  }

  /**
   * One GetRecords call, no sooner than minPollIntervalMs after the previous one; never rejects
   * (a read ahead may be dropped unawaited), the failure is in the result.
   */
  /** One GetRecords (after its pause), tracked in `#calling` until it answers. */
  #read(iterator: string): Promise<ReadOutcome> {
    const read = this.#readOnce(iterator);
    this.#calling.add(read);
    void read.then(() => this.#calling.delete(read));
    return read;
  }

  async #readOnce(iterator: string): Promise<ReadOutcome> {
    // The call's slot is booked before waiting for it: a read ahead that is dropped while it
    // waits (the processor failed) still holds its slot, so the re-read keeps the spacing.
    const at = Math.max(this.#clock.now(), this.#lastCallAt + this.#config.minPollIntervalMs);
    this.#lastCallAt = at;
    await this.#sleep(at - this.#clock.now());
    if (this.#stopReason) return { ok: false, error: new Error('stopped') };
    this.#calls++;
    try {
      const output = await this.#options.api.getRecords({
        ShardIterator: iterator,
        Limit: this.#config.maxRecordsPerCall,
      });
      return { ok: true, output, answeredAt: this.#clock.now() };
    } catch (error) {
      return { ok: false, error };
    }
  }

  #sleep(ms: number): Promise<void> {
    return ms > 0 && !this.#stopReason ? this.#clock.sleep(ms, this.#abort.signal) : Promise.resolve();
  }

  #recordError(error: unknown): void {
    this.#errors++;
    this.#lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

/** Orders sequence numbers (decimal strings) without BigInt. */
/** A bounded label for why a processor failed. */
function restartReason(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'LandError') return 'landing';
  if (name === 'EncodeError') return 'encode';
  // A stage thread (pipeline/stages/) died: out of heap, or a crash in native code.
  if (name === 'StageThreadError') return 'stage_thread';
  if (/ConditionalCheck|ProvisionedThroughput|ResourceNotFound|DynamoDB|Lease/i.test(name))
    return 'lease_table';
  if (name === 'RangeError' || name === 'TypeError') return 'bug';
  return 'other';
}

/** Whether `a` is further along the shard than `b`. A whole record is past any part of it. */
function isAfter(a: Checkpoint, b: StoredCheckpoint | undefined): boolean {
  if (b === undefined) return true;
  if (isShardEnd(b)) return false;
  if (a.sequenceNumber !== b.sequenceNumber) {
    try {
      return BigInt(a.sequenceNumber) > BigInt(b.sequenceNumber);
    } catch {
      return a.sequenceNumber > b.sequenceNumber;
    }
  }
  if (a.subSequenceNumber === b.subSequenceNumber) return false;
  if (a.subSequenceNumber === undefined) return true;
  if (b.subSequenceNumber === undefined) return false;
  return a.subSequenceNumber > b.subSequenceNumber;
}
