import { createHash } from 'node:crypto';
import type { RequestRow } from '../../schemas/request-row.ts';
import type { PipelineConfig } from '../config.ts';
import { DeadLetterLine, encodeDeadLetters } from '../dead-letter/dead-letter-sink.ts';
import { ParquetEncoder } from '../encode/parquet-encoder.ts';
import { LAKE } from '../land/lake-layout.ts';
import type { ObjectStore } from '../land/object-store.ts';
import type { DeadLetter } from '../types.ts';
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
export const readLetterFile = async (store: ObjectStore, key: string): Promise<StoredLetter[]> => {
  const text = Buffer.from(await store.get(key)).toString('utf8');
  const out: StoredLetter[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const p = DeadLetterLine.parse(JSON.parse(line));
    const data = Buffer.from(p.data_base64, 'base64');
    out.push({
      ref: `${key}#${out.length}`,
      key,
      line,
      index: out.length,
      letter: {
        reason: p.reason,
        message: p.message,
        stage: p.stage,
        shardId: p.shardId,
        sequenceNumber: p.sequenceNumber,
        ...(p.subSequence === null ? {} : { subSequence: p.subSequence }),
        partitionKey: p.partitionKey,
        arrivedAt: new Date(p.arrivedAt),
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      },
      ...(p.data_scrubbed === undefined ? {} : { scrubbed: p.data_scrubbed }),
    });
  }
  return out;
};

/** Dead-letter files of the live lake (`dead_letters/`), in key order. */
export const letterFiles = async (store: ObjectStore): Promise<string[]> =>
  (await store.list(LAKE.deadLetters)).filter((k) => k.endsWith('.jsonl'));

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
}

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
  } = {},
): Promise<RedriveResult> => {
  const rederiver = await Rederiver.create(config, store);
  const encoder = await ParquetEncoder.create({ connections: 1 });
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
  };
  try {
    const files = await letterFiles(store);
    for (const [i, key] of files.entries()) {
      const letters = await readLetterFile(store, key);
      // Letters kept unchanged keep their stored line (a scrubbed one keeps its markers).
      const keep: Uint8Array[] = [];
      const keepLine = (l: StoredLetter) => keep.push(Buffer.from(`${l.line}\n`));
      const passed: DeadLetter[] = [];
      const rows: RequestRow[] = [];
      let changed = false;
      for (const stored of letters) {
        if (!matches(stored, filter)) {
          keepLine(stored);
          continue;
        }
        result.selected += 1;
        if (stored.scrubbed !== undefined) {
          result.notByteExact += 1;
          keepLine(stored);
          continue;
        }
        const again = rederiver.rederive(stored.letter);
        result.duplicates += again.duplicates;
        if (again.deadLetters.length === 0) {
          passed.push(stored.letter);
          rows.push(...again.rows);
          result.passed += 1;
          changed = true;
          continue;
        }
        result.stillBad += 1;
        // Part of a whole record may pass now: those rows land, the rest stay as letters.
        rows.push(...again.rows);
        const same = again.deadLetters.length === 1 && sameLetter(again.deadLetters[0]!, stored.letter);
        if (same) keepLine(stored);
        else {
          result.changed += 1;
          changed = true;
          keep.push(encodeDeadLetters(again.deadLetters, config.deadLetters.originalBytes));
          if (again.rows.length > 0) passed.push(stored.letter);
        }
      }
      options.onFile?.(i + 1, files.length, letters.length);
      if (!changed) continue;
      result.rows += rows.length;
      if (rows.length > 0) {
        const parquetKey = redriveKeyOf(key, passed);
        if (options.dryRun !== true) await store.put(parquetKey, await encoder.encode(rows));
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
    await encoder.close();
  }
  return result;
};
