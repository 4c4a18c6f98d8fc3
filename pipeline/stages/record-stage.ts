import type { RequestRow } from '../../schemas/request-row.ts';
import { deadLetterOf } from '../dead-letter/dead-letter-of.ts';
import type { DecodeConfig } from '../decode/decode-limits.ts';
import { decodeRecord } from '../decode/decode-record.ts';
import { hashKey128 } from '../dedupe/key-hash.ts';
import { dedupeKey, requestKey } from '../dedupe/request-key.ts';
import { PackedRows, PackedStrings } from '../encode/packed-rows.ts';
import type { ParquetEncoder } from '../encode/parquet-encoder.ts';
import type { Enricher } from '../enrich/enrich-log.ts';
import type { DeadLetter, SourceRecord } from '../types.ts';
import { implausibleTime, type TimeWindowConfig } from '../validate/plausible-time.ts';
import { validateLog } from '../validate/validate-log.ts';

/** What the record stage needs besides its enricher and encoder. */
export interface StageSettings {
  readonly decode: DecodeConfig;
  readonly timeWindow: TimeWindowConfig;
  /**
   * Seed of the rows' key hashes (`hashKey128`): the same in every stage of a pipeline, so that a
   * request's copies read by different shards (and threads) meet in its deduplicator. Default 0.
   */
  readonly keySeed?: number;
}

/** Per-chunk options a shard processor passes along with its records. */
export interface PrepareOptions {
  /** Logs of this record at or below this sub-sequence landed before a restart: skip them. */
  readonly skipThrough?: { readonly sequenceNumber: string; readonly subSequence: number };
  /** Written into every row: 0 for live ingestion, a replay's run id for a replay. */
  readonly generation?: number;
}

/**
 * What the stage made of a chunk of one shard's records. Rows stay with the stage (in the thread
 * that made them) until they are encoded; the processor gets, per row, what it needs to decide
 * whether the row is kept (its request identity) and what it weighs, and refers to it by `ref`.
 * Rows of record `i` are `rowEnd[i - 1] … rowEnd[i] - 1` (from 0 for the first), and row `r`'s
 * ref is `firstRef + r`.
 */
export interface PreparedChunk {
  /**
   * Records prepared: the first `records` of those given. A chunk stops early once the lines it
   * decoded reach `PREPARE_MAX_BYTES` (compressed records may inflate ~1000x), so a thread holds
   * at most that plus one record of rows not yet admitted; the caller sends the rest again.
   */
  readonly records: number;
  readonly firstRef: number;
  /** Rows made: refs `firstRef … firstRef + rows - 1`. */
  readonly rows: number;
  /**
   * Per row, 4 words: the 128-bit hash (`hashKey128`, seeded with `keySeed`) of its request's
   * identity, `dedupeKey(project, request id, time)`, which is what deduplication compares.
   */
  readonly keyHashes: Int32Array;
  /** Per row: bytes of its original log line. */
  readonly lineBytes: Int32Array;
  /** Per record: the end (exclusive) of its rows. */
  readonly rowEnd: Int32Array;
  /** Per record: logs decoded from it (past a resume's skip), rows, dead letters and all. */
  readonly logs: Int32Array;
  /** Per record: bytes of its dead letters' data. */
  readonly deadLetterBytes: Float64Array;
  /** Per record: its dead letters (null: none). */
  readonly deadLetters: (DeadLetter[] | null)[];
  /**
   * Per record: null, or the name of the error its processing threw. Nothing of such a record is
   * kept: the processor dead-letters it whole (a poison pill must not fail the shard).
   */
  readonly failed: (string | null)[];
}

/**
 * Decoded bytes after which a chunk stops (see `PreparedChunk.records`). A chunk is prepared in
 * one go, and a stage thread serves several shards, so this also bounds how long another shard's
 * ready batch waits to be encoded (request-queue.ts): a page of 1,000 single-line records is under
 * it, ~2 of the sidecars' records (~540 lines each) reach it. 1 MiB instead of 8:
 * `npm start -- --demo-events 20000 --exit`, 4 interleaved pairs on a slow hour, p95 arrival →
 * queryable 4,736 / 4,373 / 4,730 / 4,299 ms against 5,504 / 4,720 / 4,305 / 4,865 (time in the
 * stream p95 3.2 s against 3.6 s); bench:pipeline at 300k, 2 pairs: 13,021 / 12,519 records/s
 * against 11,005 / 11,818.
 */
export const PREPARE_MAX_BYTES = 1024 * 1024;

/** One encode attempt: the Parquet bytes, or the error (name and message) it failed with. */
export type EncodeOutcome =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly name: string; readonly message: string };

/**
 * Rows of one processor that the stage holds, by ref, in ref order, packed column by column
 * (`PackedRows`: ~730 bytes a row in buffers reused batch after batch, where a row object took
 * ~1,060 bytes of heap and its original line ~850 more). Refs are consecutive, so row `ref` is
 * packed row `ref - base`; rows freed at the head are dropped from the buffers at once.
 *
 * A row's original line is not held: every value is checked as the row is packed, with the checks
 * the encoder makes, so a row it could not hold is refused (and dead-lettered with its line) when
 * it is made. Of the record a row came from, its partition key is kept, for the dead letter of a
 * row the encoder refuses all the same (`RecordStage.refused`).
 */
class RowStore {
  readonly packed = new PackedRows();
  private readonly partitionKeys = new PackedStrings();
  /** Ref of packed row 0. */
  private base = 0;
  nextRef = 0;

  get size(): number {
    return this.packed.length;
  }

  /**
   * Holds `row` as ref `nextRef`. Throws a TypeError, holding nothing of it, when a value is not
   * one its column can hold.
   */
  add(row: RequestRow, partitionKey: string): number {
    this.packed.append(row);
    this.partitionKeys.push(partitionKey);
    return this.nextRef++;
  }

  /** Forgets the rows from `ref` on (they were just added) and makes `ref` the next one. */
  undoFrom(ref: number): void {
    const keep = Math.max(0, ref - this.base);
    this.packed.truncate(keep);
    this.partitionKeys.truncate(keep);
    this.nextRef = ref;
  }

  index(ref: number): number {
    const i = ref - this.base;
    if (!(i >= 0 && i < this.packed.length))
      throw new RangeError(`row ${ref} is not held (freed or never prepared)`);
    return i;
  }

  indices(refs: readonly number[]): Int32Array {
    const out = new Int32Array(refs.length);
    for (let i = 0; i < refs.length; i++) out[i] = this.index(refs[i]!);
    return out;
  }

  row(ref: number): RequestRow {
    return this.packed.row(this.index(ref));
  }

  partitionKey(ref: number): string {
    return this.partitionKeys.get(this.index(ref));
  }

  /** Forgets every row up to `ref`: encoded, or left out (duplicates). */
  freeThrough(ref: number): void {
    const n = Math.min(ref - this.base + 1, this.packed.length);
    if (n <= 0) return;
    this.packed.dropHead(n);
    this.partitionKeys.dropHead(n);
    this.base += n;
  }
}

/**
 * Decode → validate → request identity → enrich for chunks of shard records, and Parquet encoding
 * of the rows a processor keeps. It holds no shard state beyond the rows themselves: batching,
 * deduplication, landing and checkpoints stay with the shard processor (see `shard-processor.ts`),
 * so one stage can run in a worker thread (`stage-thread.ts`) or in the processor's own thread
 * (`InProcessStages`) with the same results.
 */
export class RecordStage {
  private readonly stores = new Map<number, RowStore>();
  /** Key hashes of the chunk being prepared (4 words a row), reused chunk after chunk. */
  private keyHashes = new Int32Array(4 * 1_024);
  private readonly keyHash = new Int32Array(4);

  constructor(
    private readonly enrich: Enricher,
    private readonly encoder: ParquetEncoder,
    private readonly settings: StageSettings,
  ) {}

  private store(pid: number): RowStore {
    let store = this.stores.get(pid);
    if (store === undefined) {
      store = new RowStore();
      this.stores.set(pid, store);
    }
    return store;
  }

  /** The rows of a processor that prepared some; a dropped one has none left to encode. */
  private held(pid: number): RowStore {
    const store = this.stores.get(pid);
    if (store === undefined)
      throw new RangeError(`stage processor ${pid} holds no rows (dropped, or never prepared)`);
    return store;
  }

  /** Rows held (all processors): a figure for tests and metrics. */
  get heldRows(): number {
    let n = 0;
    for (const s of this.stores.values()) n += s.size;
    return n;
  }

  prepare(
    pid: number,
    records: readonly SourceRecord[],
    options: PrepareOptions = {},
    maxBytes = PREPARE_MAX_BYTES,
  ): PreparedChunk {
    const store = this.store(pid);
    const n = records.length;
    const chunk: { -readonly [K in keyof PreparedChunk]: PreparedChunk[K] } = {
      records: n,
      firstRef: store.nextRef,
      rows: 0,
      keyHashes: new Int32Array(0),
      lineBytes: new Int32Array(0),
      rowEnd: new Int32Array(n),
      logs: new Int32Array(n),
      deadLetterBytes: new Float64Array(n),
      deadLetters: new Array<DeadLetter[] | null>(n).fill(null),
      failed: new Array<string | null>(n).fill(null),
    };
    const lineBytes: number[] = [];
    let decodedBytes = 0;
    for (let i = 0; i < n; i++) {
      const record = records[i]!;
      const rowsBefore = lineBytes.length;
      try {
        this.prepareRecord(store, record, i, chunk, lineBytes, options);
      } catch (error) {
        // Undo what the record added: it is dead-lettered whole by the processor.
        store.undoFrom(chunk.firstRef + rowsBefore);
        lineBytes.length = rowsBefore;
        chunk.logs[i] = 0;
        chunk.deadLetterBytes[i] = 0;
        chunk.deadLetters[i] = null;
        chunk.failed[i] = error instanceof Error ? error.name : typeof error;
      }
      chunk.rowEnd[i] = lineBytes.length;
      for (let r = rowsBefore; r < lineBytes.length; r++) decodedBytes += lineBytes[r]!;
      decodedBytes += chunk.deadLetterBytes[i]!;
      if (decodedBytes >= maxBytes && i + 1 < n) {
        chunk.records = i + 1;
        break;
      }
    }
    const rows = lineBytes.length;
    return {
      ...chunk,
      rows,
      keyHashes: this.keyHashes.slice(0, 4 * rows),
      lineBytes: Int32Array.from(lineBytes),
    };
  }

  /** Row `r` of the chunk being prepared: its key's hash at `keyHashes[4r … 4r + 3]`. */
  private hashKey(r: number, key: string): void {
    if (4 * r + 4 > this.keyHashes.length) {
      const next = new Int32Array(Math.max(4 * (r + 1), this.keyHashes.length * 2));
      next.set(this.keyHashes);
      this.keyHashes = next;
    }
    hashKey128(key, this.settings.keySeed ?? 0, this.keyHash);
    this.keyHashes.set(this.keyHash, 4 * r);
  }

  private prepareRecord(
    store: RowStore,
    record: SourceRecord,
    i: number,
    chunk: PreparedChunk,
    lineBytes: number[],
    options: PrepareOptions,
  ): void {
    const arrivedMs = record.arrivedAt.getTime();
    const decoded = decodeRecord(record, this.settings.decode);
    const skipThrough =
      options.skipThrough?.sequenceNumber === record.sequenceNumber ? options.skipThrough.subSequence : -1;
    // Pushed to directly: a closure made per record cost ~0.8% of a stage thread's CPU (tsx
    // wraps every function it creates to keep its name).
    const deadLetters: DeadLetter[] = [];
    for (const dl of decoded.deadLetters) {
      if (dl.subSequence === undefined || dl.subSequence > skipThrough) deadLetters.push(dl);
    }
    let logs = 0;
    for (const line of decoded.logs) {
      if (line.subSequence !== undefined && line.subSequence <= skipThrough) continue;
      logs += 1;
      const valid = validateLog(line.value);
      if (!valid.ok) {
        deadLetters.push(
          deadLetterOf(record, 'validate', 'schema_violation', valid.message, line.raw, line.subSequence),
        );
        continue;
      }
      const log = valid.log;
      // A log with neither `timestamp` nor `fb_time` is dated by its arrival in Kinesis.
      const tsMicros = valid.tsMicros ?? BigInt(arrivedMs) * 1000n;
      const implausible = implausibleTime(tsMicros, arrivedMs, this.settings.timeWindow);
      if (implausible !== undefined) {
        deadLetters.push(
          deadLetterOf(record, 'validate', 'schema_violation', implausible, line.raw, line.subSequence),
        );
        continue;
      }
      const { requestId } = requestKey(log, line.bytes);
      let row: RequestRow;
      try {
        row = this.enrich(log, {
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
        deadLetters.push(
          deadLetterOf(record, 'enrich', 'enrich_failed', message, line.raw, line.subSequence),
        );
        continue;
      }
      if (options.generation) row.generation = options.generation;
      try {
        store.add(row, record.partitionKey);
      } catch (e) {
        // A value its column cannot hold (checked as the encoder would): refused now, while the
        // line is at hand. The message names the column and the value's type, never the value.
        const message = `the Parquet encoder cannot hold this row (${e instanceof Error ? e.message : typeof e}); the log is kept for a replay once fixed`;
        deadLetters.push(
          deadLetterOf(record, 'encode', 'encode_failed', message, line.raw, line.subSequence),
        );
        continue;
      }
      this.hashKey(lineBytes.length, dedupeKey(log.project_id, requestId, tsMicros));
      lineBytes.push(line.raw.byteLength);
    }
    chunk.logs[i] = logs;
    let deadLetterBytes = 0;
    for (let d = 0; d < deadLetters.length; d++) deadLetterBytes += deadLetters[d]!.data.byteLength;
    chunk.deadLetterBytes[i] = deadLetterBytes;
    chunk.deadLetters[i] = deadLetters.length > 0 ? deadLetters : null;
  }

  private rowsOf(store: RowStore, refs: readonly number[]): RequestRow[] {
    return refs.map((ref) => store.row(ref));
  }

  /**
   * Encodes the rows `refs` (in that order) into one Parquet file. On success every row up to
   * `through` is forgotten (the batch's rows and the duplicates left out of it); on failure nothing
   * is, so the processor can retry or look for refused rows.
   */
  async encode(pid: number, refs: readonly number[], through: number): Promise<EncodeOutcome> {
    try {
      const store = this.held(pid);
      const bytes = await this.encoder.encodePacked(store.packed, store.indices(refs));
      store.freeThrough(through);
      return { ok: true, bytes };
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      return { ok: false, name: e.name, message: e.message };
    }
  }

  /**
   * Positions (in `refs`) of rows the encoder refuses even alone, bisecting the batch, and their
   * dead letters. `because` names the batch's error (never its message: it may quote a value).
   * A value the encoder cannot hold is refused when its row is packed, with the row's original
   * line; a row that passed those checks and is refused all the same (nothing known does this)
   * has no line any more, so its dead letter holds the row as enriched, and says so.
   */
  async refused(
    pid: number,
    refs: readonly number[],
    because: string,
  ): Promise<{ positions: number[]; deadLetters: DeadLetter[] }> {
    const store = this.held(pid);
    const positions = await this.bisect(this.rowsOf(store, refs), 0);
    const deadLetters = positions.map((p): DeadLetter => {
      const ref = refs[p]!;
      const row = store.row(ref);
      return {
        reason: 'encode_failed',
        stage: 'encode',
        message: `the Parquet encoder refuses this row on its own (${because}), though its values passed the checks made when it was packed; its original line is not held after that, so this is the row as enriched (JSON), for a replay once fixed`,
        shardId: row.shard_id,
        sequenceNumber: row.sequence_number,
        subSequence: row.sub_sequence,
        partitionKey: store.partitionKey(ref),
        arrivedAt: new Date(Number(row.ingest_ts / 1000n)),
        data: new TextEncoder().encode(
          JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
        ),
      };
    });
    return { positions, deadLetters };
  }

  private async bisect(rows: readonly RequestRow[], offset: number): Promise<number[]> {
    try {
      await this.encoder.encode(rows);
      return [];
    } catch {
      if (rows.length === 1) return [offset];
    }
    const mid = rows.length >> 1;
    return [
      ...(await this.bisect(rows.slice(0, mid), offset)),
      ...(await this.bisect(rows.slice(mid), offset + mid)),
    ];
  }

  /** Forgets rows up to `through` without encoding them (a batch of dead letters and duplicates only). */
  free(pid: number, through: number): void {
    this.stores.get(pid)?.freeThrough(through);
  }

  /**
   * Forgets every row of a processor: it is done (shut down, shard ended, lease lost, failed).
   * Its calls reach the stage in the order made, and it makes none after this one.
   */
  drop(pid: number): void {
    this.stores.delete(pid);
  }

  async close(): Promise<void> {
    this.stores.clear();
    await this.encoder.close();
  }
}
