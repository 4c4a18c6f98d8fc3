import { ShardlineError } from '../errors.ts';

export interface BatchObjectKeyInput {
  /** Table (top-level folder): `requests`, `dead_letters`. */
  readonly table: string;
  readonly shardId: string;
  /** Sequence number of the batch's first and last record (decimal digits). */
  readonly firstSequence: string;
  readonly lastSequence: string;
  /**
   * Sub-sequence of the first/last log when the batch starts or ends inside a KPL-aggregated
   * record: two batches cut from one aggregated record share both sequence numbers.
   */
  readonly firstSubSequence?: number;
  readonly lastSubSequence?: number;
  /** The newest ApproximateArrivalTimestamp in the batch. */
  readonly time: Date;
  /** File extension without the leading dot: `parquet`, `jsonl`, `jsonl.gz`. */
  readonly ext: string;
}

/** Kinesis sequence numbers are 56 digits today; shorter ones (replays, tests) are left-padded. */
const SEQUENCE_DIGITS = 56;
const SUB_SEQUENCE_DIGITS = 6;

const NAME = /^[a-z][a-z0-9_]*$/;
const SHARD = /^[A-Za-z0-9_.-]+$/;
const DIGITS = /^\d+$/;
const EXT = /^[a-z0-9]+(\.[a-z0-9]+)*$/;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

const invalid = (what: string, value: unknown, fix: string): ShardlineError =>
  new ShardlineError(`object key: invalid ${what} ${JSON.stringify(String(value))}; ${fix}`);

const sequencePart = (sequence: string, sub: number | undefined, which: string): string => {
  if (!DIGITS.test(sequence))
    throw invalid(`${which} sequence number`, sequence, 'pass the Kinesis SequenceNumber');
  const padded = sequence.padStart(SEQUENCE_DIGITS, '0');
  if (sub === undefined) return padded;
  if (!Number.isInteger(sub) || sub < 0 || sub >= 10 ** SUB_SEQUENCE_DIGITS) {
    throw invalid(`${which} sub-sequence`, sub, `pass an integer from 0 to ${10 ** SUB_SEQUENCE_DIGITS - 1}`);
  }
  return `${padded}_${pad(sub, SUB_SEQUENCE_DIGITS)}`;
};

/**
 * The object key of one landed batch:
 * `<table>/dt=YYYY-MM-DD/hr=HH/<YYYYMMDDTHHMMSSmmmZ>-<shardId>-<firstSeq>-<lastSeq>.<ext>`.
 *
 * Invariants the landing and loading code rely on:
 * - Deterministic: every part comes from the batch's own records (its newest arrival time, its
 *   shard and sequence range), never from the clock or a counter. A batch re-landed after a crash
 *   gets the same key and overwrites the identical object instead of adding a second copy.
 * - Lexical order is time order: all fields are fixed-width and zero-padded (UTC, milliseconds,
 *   56-digit sequence numbers), so a listing sorted by key is sorted by arrival time, and within
 *   the same millisecond and shard by sequence number. The `dt=`/`hr=` folders are Hive-style
 *   partitions that loaders can prune on.
 * - Keys are only "roughly" append-only across shards: a shard that lags lands files whose time
 *   is older than files already landed by others, so a loader must not treat the last key it
 *   loaded as a watermark.
 */
export const batchObjectKey = (input: BatchObjectKeyInput): string => {
  const { table, shardId, time, ext } = input;
  if (!NAME.test(table)) throw invalid('table', table, 'use lower-case letters, digits and _');
  if (!SHARD.test(shardId)) throw invalid('shard id', shardId, 'pass the Kinesis ShardId (no "/")');
  if (!EXT.test(ext))
    throw invalid(
      'extension',
      ext,
      'use lower-case letters and digits (`jsonl.gz`), without the leading dot',
    );
  const ms = time.getTime();
  if (!Number.isFinite(ms) || ms < 0 || time.getUTCFullYear() > 9999) {
    throw invalid('time', time, 'pass the newest ApproximateArrivalTimestamp of the batch');
  }
  const first = sequencePart(input.firstSequence, input.firstSubSequence, 'first');
  const last = sequencePart(input.lastSequence, input.lastSubSequence, 'last');

  const yyyy = pad(time.getUTCFullYear(), 4);
  const mm = pad(time.getUTCMonth() + 1, 2);
  const dd = pad(time.getUTCDate(), 2);
  const hh = pad(time.getUTCHours(), 2);
  const stamp = `${yyyy}${mm}${dd}T${hh}${pad(time.getUTCMinutes(), 2)}${pad(time.getUTCSeconds(), 2)}${pad(time.getUTCMilliseconds(), 3)}Z`;
  return `${table}/dt=${yyyy}-${mm}-${dd}/hr=${hh}/${stamp}-${shardId}-${first}-${last}.${ext}`;
};

/** What a batch key says about its batch (see `batchObjectKey`). */
export interface ParsedBatchKey {
  readonly table: string;
  /** The batch's newest arrival, from the key's stamp. */
  readonly time: Date;
  readonly shardId: string;
  readonly firstSequence: string;
  readonly lastSequence: string;
  /** The file name without the extension: `<stamp>-<shard>-<first>-<last>`. */
  readonly stem: string;
  readonly ext: string;
}

const BATCH_KEY =
  /^([a-z][a-z0-9_]*)\/dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/((\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-([A-Za-z0-9_.-]+)-(\d{56})(?:_\d{6})?-(\d{56})(?:_\d{6})?)\.([a-z0-9.]+)$/;

/** The parts of a key made by `batchObjectKey`, or undefined for any other key (compacted files, manifests). */
export const parseBatchObjectKey = (key: string): ParsedBatchKey | undefined => {
  const m = BATCH_KEY.exec(key);
  if (m === null) return undefined;
  const [, table, stem, y, mo, d, h, mi, s, ms, shardId, first, last, ext] = m as unknown as string[];
  return {
    table: table!,
    time: new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, +ms!)),
    shardId: shardId!,
    firstSequence: first!.replace(/^0+(?=\d)/, ''),
    lastSequence: last!.replace(/^0+(?=\d)/, ''),
    stem: stem!,
    ext: ext!,
  };
};

/** `<table>/dt=YYYY-MM-DD/`: the day partition holding `time`. */
export const dayPrefix = (table: string, time: Date): string =>
  `${table}/dt=${time.toISOString().slice(0, 10)}/`;

/** `<table>/dt=YYYY-MM-DD/hr=HH/`: the hour partition holding `time`. */
export const hourPrefix = (table: string, time: Date): string =>
  `${dayPrefix(table, time)}hr=${time.toISOString().slice(11, 13)}/`;
