import { createHash } from 'node:crypto';
import type { RequestRow } from '../../schemas/request-row.ts';
import type { PipelineConfig } from '../config.ts';
import {
  DamagedLetterFile,
  decodeDeadLetterLines,
  encodeDeadLetters,
} from '../dead-letter/dead-letter-sink.ts';
import { ParquetEncoder } from '../encode/parquet-encoder.ts';
import { LAKE } from '../land/lake-layout.ts';
import { dayPrefix, hourPrefix, parseBatchObjectKey } from '../land/object-key.ts';
import type { ObjectStore } from '../land/object-store.ts';
import { DEAD_LETTERS_TABLE } from '../shard-processor.ts';
import type { DeadLetter } from '../types.ts';
import { followShards } from './follow-shards.ts';
import { Rederiver } from './rederive.ts';

/** One stored dead letter: where it is (`<file key>#<index>`) and what it says. */
export interface StoredLetter {
  readonly ref: string;
  readonly key: string;
  readonly index: number;
  readonly letter: DeadLetter;
  /** The stored JSON line, kept as is when the letter is kept unchanged. */
  readonly line: string;
  /** `redacted` or `omitted` when `deadLetters.originalBytes` was `redact`: not the bytes as sent. */
  readonly scrubbed?: 'redacted' | 'omitted';
}

export interface LetterFilter {
  readonly reason?: string;
  readonly stage?: string;
  readonly shard?: string;
  /** On arrival time, [from, to). */
  readonly from?: Date;
  readonly to?: Date;
  /** One letter, `<file key>#<index>`. */
  readonly ref?: string;
}

export const matches = (l: StoredLetter, f: LetterFilter): boolean =>
  (f.reason === undefined || l.letter.reason === f.reason) &&
  (f.stage === undefined || l.letter.stage === f.stage) &&
  (f.shard === undefined || l.letter.shardId === f.shard) &&
  (f.from === undefined || l.letter.arrivedAt >= f.from) &&
  (f.to === undefined || l.letter.arrivedAt < f.to) &&
  (f.ref === undefined || l.ref === f.ref);

/** The letters of one dead-letter file, in order. */
export const readLetterFile = async (store: ObjectStore, key: string): Promise<StoredLetter[]> =>
  decodeDeadLetterLines(await store.get(key), key).map((l, index) => ({
    ref: `${key}#${index}`,
    key,
    line: l.line,
    index,
    letter: l.letter,
    ...(l.scrubbed === undefined ? {} : { scrubbed: l.scrubbed }),
  }));

/** The dead-letter file a ref (`<file key>#<index>`) points into. */
export const refFile = (ref: string): string => {
  const hash = ref.lastIndexOf('#');
  return hash < 0 ? ref : ref.slice(0, hash);
};

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/**
 * A dead-letter file is keyed by its batch's newest arrival; a letter in it arrived at most a
 * batch's age earlier (unless the shard was far behind). Files up to this long after `to` are read.
 */
export const LETTER_LOOKAHEAD_MS = 2 * HOUR_MS;

/**
 * Dead-letter files of the live lake (`dead_letters/`) that may hold letters the filter selects,
 * in key order. With `ref`, only that file (when it exists); with `from`/`to`, only the `dt=`
 * (ranges over two days) or `dt=/hr=` prefixes the range and its look-ahead cover; else all.
 */
export const letterFiles = async (store: ObjectStore, filter: LetterFilter = {}): Promise<string[]> => {
  const isLetterFile = (k: string) => k.startsWith(LAKE.deadLetters) && k.endsWith('.jsonl');
  if (filter.ref !== undefined) {
    const key = refFile(filter.ref);
    if (!isLetterFile(key)) return [];
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    return (await store.list(dir)).includes(key) ? [key] : [];
  }
  if (filter.from === undefined && filter.to === undefined) {
    return (await store.list(LAKE.deadLetters)).filter(isLetterFile);
  }
  const to = (filter.to ?? new Date()).getTime() + LETTER_LOOKAHEAD_MS;
  const inRange = (k: string) => {
    const t = parseBatchObjectKey(k)?.time.getTime();
    return t === undefined || ((filter.from === undefined || t >= filter.from.getTime()) && t <= to);
  };
  if (filter.from === undefined) {
    return (await store.list(LAKE.deadLetters)).filter((k) => isLetterFile(k) && inRange(k));
  }
  const from = filter.from.getTime();
  const step = to - from > 2 * DAY_MS ? DAY_MS : HOUR_MS;
  const prefixes: string[] = [];
  for (let t = Math.floor(from / step) * step; t <= to; t += step) {
    prefixes.push((step === DAY_MS ? dayPrefix : hourPrefix)(DEAD_LETTERS_TABLE, new Date(t)));
  }
  const keys: string[] = [];
  for (const prefix of prefixes) {
    for (const k of await store.list(prefix)) if (isLetterFile(k) && inRange(k)) keys.push(k);
  }
  if (filter.to !== undefined) keys.push(...(await laterLetterFiles(store, to, filter.to, isLetterFile)));
  return keys.sort();
};

/** How far past the look-ahead a shard's dead-letter files are followed (see `laterLetterFiles`). */
const LETTER_FOLLOW_MS = 7 * DAY_MS;

/** Files past the look-ahead that may still hold letters that arrived before `to` (see `followShards`). */
const laterLetterFiles = async (
  store: ObjectStore,
  after: number,
  to: Date,
  isLetterFile: (key: string) => boolean,
): Promise<string[]> => {
  const keys: string[] = [];
  for (let day = Math.floor(after / DAY_MS) * DAY_MS; day <= after + LETTER_FOLLOW_MS; day += DAY_MS) {
    for (const k of await store.list(dayPrefix(DEAD_LETTERS_TABLE, new Date(day)))) {
      const t = parseBatchObjectKey(k)?.time.getTime();
      if (isLetterFile(k) && t !== undefined && t > after && t <= after + LETTER_FOLLOW_MS) keys.push(k);
    }
  }
  const out: string[] = [];
  await followShards(keys, to, async (k) => {
    // A damaged file is listed (reading it says so, where the caller reports it) and followed past.
    out.push(k);
    const letters = await readLetterFile(store, k).catch((error: unknown) => {
      if (error instanceof DamagedLetterFile) return undefined;
      throw error;
    });
    if (letters === undefined) return Number.NEGATIVE_INFINITY;
    const oldest = Math.min(...letters.map((l) => l.letter.arrivedAt.getTime()));
    if (oldest >= to.getTime()) out.pop();
    return oldest;
  });
  return out;
};

/** `dead_letters/dt=…/hr=…/<stem>.jsonl` → `requests/dt=…/hr=…/<stem>-redrive-<id>.parquet`. */
export const redriveKeyOf = (letterKey: string, passed: readonly DeadLetter[]): string => {
  const identity = passed
    .map((l) => `${l.shardId}/${l.sequenceNumber}/${l.subSequence ?? ''}`)
    .sort()
    .join('\n');
  const id = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return `${LAKE.requests}${letterKey.slice(LAKE.deadLetters.length).replace(/\.jsonl$/, '')}-redrive-${id}.parquet`;
};

export interface RedriveResult {
  readonly selected: number;
  /** Letters whose logs now pass, and the rows they landed as. */
  readonly passed: number;
  readonly rows: number;
  /** Letters still bad; `changed` of them with a new reason or message. */
  readonly stillBad: number;
  readonly changed: number;
  /** Logs of the selection that were the same request as one re-derived before them. */
  readonly duplicates: number;
  /** Letters stored with `data_scrubbed`: not the bytes as sent, so not re-driven. */
  readonly notByteExact: number;
  /** Objects written: Parquet files landed, dead-letter files replaced. */
  readonly parquetFiles: readonly string[];
  readonly letterFilesRewritten: readonly string[];
  /** Letters whose rows the Parquet encoder refuses on their own: kept as `encode_failed`. */
  readonly encodeFailed: number;
  /** Dead-letter files left unchanged because their rows would not encode, none at fault alone. */
  readonly filesFailed: readonly { readonly key: string; readonly error: string }[];
  /** Dead-letter files left unchanged because a line of theirs is not a dead letter (damaged). */
  readonly filesDamaged: readonly { readonly key: string; readonly error: string }[];
}

/** What re-drive needs of the Parquet encoder. */
export interface RowEncoder {
  encode(rows: readonly RequestRow[]): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Indexes (from `offset`) of rows the encoder refuses even alone (pipeline/shard-processor.ts). */
const refusedRows = async (
  encoder: RowEncoder,
  rows: readonly RequestRow[],
  offset: number,
): Promise<number[]> => {
  try {
    await encoder.encode(rows);
    return [];
  } catch {
    if (rows.length === 1) return [offset];
  }
  const mid = rows.length >> 1;
  return [
    ...(await refusedRows(encoder, rows.slice(0, mid), offset)),
    ...(await refusedRows(encoder, rows.slice(mid), offset + mid)),
  ];
};

const sameLetter = (a: DeadLetter, b: DeadLetter): boolean =>
  a.reason === b.reason && a.stage === b.stage && a.message === b.message && a.subSequence === b.subSequence;

/**
 * Re-drives selected dead letters through today's pipeline. Per dead-letter file: the logs that
 * now pass land as one Parquet file whose key is derived from the file's key and the identities
 * of the letters that passed, so re-driving the same letters again (or after a crash) replaces
 * that object and the warehouse, which loads each key once, holds each row once; then the file
 * is rewritten without them, the others keeping their new reason. A file nothing changed in is
 * not written at all.
 */
export const redrive = async (
  store: ObjectStore,
  config: PipelineConfig,
  filter: LetterFilter,
  options: {
    readonly dryRun?: boolean;
    readonly onFile?: (done: number, total: number, letters: number) => void;
    /** The Parquet encoder (tests); closed at the end. Default: today's ParquetEncoder. */
    readonly encoder?: RowEncoder;
  } = {},
): Promise<RedriveResult> => {
  const rederiver = await Rederiver.create(config, store);
  let encoder: RowEncoder;
  try {
    encoder = options.encoder ?? (await ParquetEncoder.create({ connections: 1 }));
  } catch (error) {
    rederiver.close();
    throw error;
  }
  const result = {
    selected: 0,
    passed: 0,
    rows: 0,
    stillBad: 0,
    changed: 0,
    duplicates: 0,
    notByteExact: 0,
    parquetFiles: [] as string[],
    letterFilesRewritten: [] as string[],
    encodeFailed: 0,
    filesFailed: [] as { key: string; error: string }[],
    filesDamaged: [] as { key: string; error: string }[],
  };
  try {
    const files = await letterFiles(store, filter);
    for (const [i, key] of files.entries()) {
      let letters: StoredLetter[];
      try {
        letters = await readLetterFile(store, key);
      } catch (error) {
        // A damaged file is left as it is (rewriting it would drop its damaged line) and said;
        // the other files are re-driven.
        if (!(error instanceof DamagedLetterFile)) throw error;
        result.filesDamaged.push({ key, error: error.message });
        continue;
      }
      // Per letter, in order: kept as stored (a scrubbed one keeps its markers), replaced by its
      // new letters, or passed. Rows remember the letter they came from.
      const outcomes: ({ kind: 'keep' } | { kind: 'new'; letters: DeadLetter[] } | { kind: 'passed' })[] = [];
      const rows: RequestRow[] = [];
      const owners: number[] = [];
      let changed = false;
      for (const [n, stored] of letters.entries()) {
        if (!matches(stored, filter)) {
          outcomes.push({ kind: 'keep' });
          continue;
        }
        result.selected += 1;
        if (stored.scrubbed !== undefined) {
          result.notByteExact += 1;
          outcomes.push({ kind: 'keep' });
          continue;
        }
        const again = rederiver.rederive(stored.letter);
        result.duplicates += again.duplicates;
        // Part of a whole record may pass now: those rows land, the rest stay as letters.
        for (const row of again.rows) {
          rows.push(row);
          owners.push(n);
        }
        if (again.deadLetters.length === 0) {
          outcomes.push({ kind: 'passed' });
          changed = true;
          continue;
        }
        const same = again.deadLetters.length === 1 && sameLetter(again.deadLetters[0]!, stored.letter);
        if (same && again.rows.length === 0) outcomes.push({ kind: 'keep' });
        else {
          outcomes.push({ kind: 'new', letters: again.deadLetters });
          changed = true;
        }
      }
      // Re-derivation has no encode step: a letter dead-lettered as `encode_failed` passes it and
      // may be refused again here. Its rows are found by bisection (as the workers do) and the
      // letter stays; the rest land. When no row is refused alone, the file is left as it is.
      let body: Uint8Array | undefined;
      if (changed && rows.length > 0) {
        try {
          body = await encoder.encode(rows);
        } catch (error) {
          const refused = new Set((await refusedRows(encoder, rows, 0)).map((r) => owners[r]!));
          if (refused.size === 0) {
            result.filesFailed.push({ key, error: error instanceof Error ? error.message : String(error) });
            options.onFile?.(i + 1, files.length, letters.length);
            continue;
          }
          const name = error instanceof Error ? error.name : typeof error;
          for (const n of refused) {
            const stored = letters[n]!;
            result.encodeFailed += 1;
            outcomes[n] =
              stored.letter.reason === 'encode_failed'
                ? { kind: 'keep' }
                : {
                    kind: 'new',
                    letters: [
                      {
                        ...stored.letter,
                        reason: 'encode_failed',
                        stage: 'encode',
                        message: `the Parquet encoder refuses this row on its own (${name}); the log is kept for a replay once fixed`,
                      },
                    ],
                  };
          }
          const kept = rows.filter((_, r) => !refused.has(owners[r]!));
          const keptOwners = owners.filter((o) => !refused.has(o));
          rows.length = 0;
          rows.push(...kept);
          owners.length = 0;
          owners.push(...keptOwners);
          body = rows.length > 0 ? await encoder.encode(rows) : undefined;
          changed = outcomes.some((o) => o.kind !== 'keep');
        }
      }
      options.onFile?.(i + 1, files.length, letters.length);
      for (const [n, outcome] of outcomes.entries()) {
        const stored = letters[n]!;
        if (!matches(stored, filter) || stored.scrubbed !== undefined) continue;
        if (outcome.kind === 'passed') result.passed += 1;
        else {
          result.stillBad += 1;
          if (outcome.kind === 'new') result.changed += 1;
        }
      }
      if (!changed) continue;
      const keep: Uint8Array[] = [];
      const passed: DeadLetter[] = [];
      const landed = new Set(owners);
      for (const [n, outcome] of outcomes.entries()) {
        const stored = letters[n]!;
        if (outcome.kind === 'keep') keep.push(Buffer.from(`${stored.line}\n`));
        else if (outcome.kind === 'new') {
          keep.push(encodeDeadLetters(outcome.letters, config.deadLetters.originalBytes));
          if (landed.has(n)) passed.push(stored.letter);
        } else passed.push(stored.letter);
      }
      result.rows += rows.length;
      if (body !== undefined) {
        const parquetKey = redriveKeyOf(key, passed);
        if (options.dryRun !== true) await store.put(parquetKey, body);
        result.parquetFiles.push(parquetKey);
      }
      // Parquet first: a crash here re-drives the same letters into the same key next time.
      if (options.dryRun !== true) {
        if (keep.length > 0) await store.put(key, Buffer.concat(keep));
        else if (store.delete !== undefined) await store.delete(key);
        else await store.put(key, new Uint8Array(0));
      }
      result.letterFilesRewritten.push(key);
    }
  } finally {
    try {
      await encoder.close();
    } finally {
      rederiver.close();
    }
  }
  return result;
};
