import { promisify } from 'node:util';
import { createGzip, type Gzip, gunzipSync, gzip } from 'node:zlib';
import { z } from 'zod';
import { ShardlineError } from '../errors.ts';
import type { SourceRecord } from '../types.ts';

const gzipAsync = promisify(gzip);

/** Top-level prefix of the raw archive, beside `requests/` and `dead_letters/`. */
export const ARCHIVE_TABLE = 'raw';
/** Extension of an archived batch: gzip of header lines, each followed by its record's Data. */
export const ARCHIVE_EXT = 'records.gz';

/**
 * The raw archive: every landed batch also lands the records it was cut from, exactly as Kinesis
 * delivered them, so anything older than the stream's retention can be replayed with today's
 * code (`shardline replay --source archive`).
 *
 * @example
 * {"enabled":true,"level":1}
 */
export const ArchiveConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        "Land each batch's original records under `raw/` with the batch's key (`raw/dt=…/hr=…/<batch>.records.gz`). On by default: without it, replays are limited to the stream's retention (24 h by default). Costs ~210 bytes per Fluent Bit record (about twice the Parquet row) and compression CPU on the thread pool: `npm run bench:pipeline -- --archive both` prints both.",
      ),
    level: z
      .number()
      .int()
      .min(1)
      .max(9)
      .default(1)
      .describe(
        "gzip level of the archive (on libuv's thread pool, not the event loop). 1: ~212 bytes per Fluent Bit record of ~850; 6 (gzip's default) makes it 14% smaller for ~40% more compression CPU (measured, pipeline/land/README.md).",
      ),
  })
  .strict();
export type ArchiveConfig = z.infer<typeof ArchiveConfig>;

/** One archived record. `skipThroughSubSequence`: the batch started inside this KPL aggregate. */
export interface ArchivedRecord extends SourceRecord {
  /** Sub-records at or below this landed in the previous batch (a resume inside an aggregate). */
  readonly skipThroughSubSequence?: number;
}

/**
 * The header line of one archived record; its `bytes` bytes of Data follow it, then a line break.
 * Data is written as is, never escaped or base64-encoded: Fluent Bit's JSON lines are most of an
 * archive, and escaping them cost more CPU than compressing them (measured, bench:pipeline). So
 * `zcat raw/….records.gz` shows each header and then the record as it was sent.
 *
 * @example
 * {"shardId":"shardId-000000000001","sequenceNumber":"4959…","partitionKey":"a1b2","arrivedAt":"2026-11-22T10:00:00.123Z","bytes":412}
 * {"project_id":"proj_storefront","request_id":"…",…}
 */
export const ArchiveHeader = z
  .object({
    shardId: z.string(),
    sequenceNumber: z.string().regex(/^\d+$/),
    partitionKey: z.string(),
    arrivedAt: z.iso.datetime(),
    bytes: z.number().int().nonnegative(),
    skipThroughSubSequence: z.number().int().nonnegative().optional(),
  })
  .strict();

const LF = 0x0a;
const LF_BYTES = Buffer.from([LF]);

/** The header line of one archived record, its line break included. */
const headerLine = (r: ArchivedRecord, quotedShardId: string): string => {
  // Built by hand rather than JSON.stringify of an object: this runs once per record on the
  // event loop. Strings from Kinesis are quoted with JSON.stringify; the rest are digits.
  const skip =
    r.skipThroughSubSequence === undefined ? '' : `,"skipThroughSubSequence":${r.skipThroughSubSequence}`;
  return `{"shardId":${quotedShardId},"sequenceNumber":"${r.sequenceNumber}","partitionKey":${JSON.stringify(r.partitionKey)},"arrivedAt":"${r.arrivedAt.toISOString()}","bytes":${r.data.byteLength}${skip}}\n`;
};

// The header line's fixed parts, for `ArchiveWriter.add`, which writes a header in place rather
// than building its string: the string and its pieces were ~570 of the ~1,180 bytes the event loop
// allocated per record in bench:pipeline (sampled), most of them promoted with the page.
const SHARD_ID_PART = Buffer.from('{"shardId":');
const SEQUENCE_PART = Buffer.from(',"sequenceNumber":"');
const PARTITION_KEY_PART = Buffer.from('","partitionKey":');
const ARRIVED_AT_PART = Buffer.from(',"arrivedAt":"');
const BYTES_PART = Buffer.from('","bytes":');
const SKIP_PART = Buffer.from(',"skipThroughSubSequence":');
const END_PART = Buffer.from('}\n');
/** The fixed parts' bytes, and room for two numbers (`String(n)` of any number is at most 24). */
const HEADER_FIXED_BYTES =
  [SHARD_ID_PART, SEQUENCE_PART, PARTITION_KEY_PART, ARRIVED_AT_PART, BYTES_PART, SKIP_PART, END_PART].reduce(
    (sum, part) => sum + part.length,
    0,
  ) +
  2 * 24;

/** Whether JSON.stringify would only quote `s`: printable ASCII without `"` or `\`. */
const isPlainJsonText = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
};

/** One record as the archive holds it: its header line, its Data, a line break. */
const archivedParts = (r: ArchivedRecord): [Buffer, Uint8Array, Buffer] => [
  Buffer.from(headerLine(r, JSON.stringify(r.shardId))),
  r.data,
  LF_BYTES,
];

/**
 * zlib's hash memory at its largest (9, not the default 8): the same gzip format, ~9% less CPU at
 * level 1 on Fluent Bit's lines and the same size (256 KiB more per open batch).
 */
const MEM_LEVEL = 9;

/** The archive object of a batch's records; the same records always give the same bytes. */
export const encodeArchive = async (records: readonly ArchivedRecord[], level = 1): Promise<Uint8Array> => {
  const gz = await gzipAsync(Buffer.concat(records.flatMap(archivedParts)), { level, memLevel: MEM_LEVEL });
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
};

/** Uncompressed bytes gathered before they are handed to gzip. */
const ARCHIVE_CHUNK_BYTES = 256 * 1024;
/** A batch's first chunk (it doubles as it fills, see `ArchiveWriter.grow`). */
const FIRST_CHUNK_BYTES = 16 * 1024;

/**
 * Whole chunks gzip has read, kept for the next ones (every ArchiveWriter of the thread shares
 * them): a fresh 256 KiB chunk per 300 records was ~1 GB of garbage per million records on the
 * event loop, where V8 frees such buffers only at a full collection, after tens of MB of them.
 * At most this many are kept (4 MiB); a chunk is taken back only once gzip's write of it is done.
 */
const SPARE_CHUNKS = 16;
const spareChunks: Buffer[] = [];
const takeChunk = (least: number): Buffer =>
  (least <= ARCHIVE_CHUNK_BYTES ? spareChunks.pop() : undefined) ??
  Buffer.allocUnsafe(Math.max(ARCHIVE_CHUNK_BYTES, least));
const giveBack = (chunk: Buffer): void => {
  if (chunk.byteLength === ARCHIVE_CHUNK_BYTES && spareChunks.length < SPARE_CHUNKS) spareChunks.push(chunk);
};

/**
 * The archive object of a batch, compressed while the batch fills rather than when it lands: the
 * records' Data is copied into chunks of 256 KiB handed to gzip (on libuv's thread pool) as they
 * fill, so a batch holds its compressed archive (~¼ of its Data) instead of every record it was
 * cut from, and landing does not copy the whole batch once more. Gives the bytes `encodeArchive`
 * gives for the same records: deflate's output does not depend on how its input is split. Chunks
 * waiting for gzip are not bounded apart: should compression fall behind, they hold at most the
 * batch's Data, as the batch's records did before, and that Data counts against
 * `batch.maxWorkerBytes` until the batch lands.
 */
export class ArchiveWriter {
  private gzip: Gzip | undefined;
  private readonly out: Buffer[] = [];
  /** The chunk being filled (header lines and Data written in place), and its bytes used. */
  private chunk: Buffer | undefined;
  private used = 0;
  /** The last record's shard id, JSON-quoted (a processor's records share one). */
  private shardId = '';
  private quotedShardId = '""';
  private failure: Error | undefined;
  private result: Promise<Uint8Array> | undefined;
  private dropped = false;
  /** Fails a `finish()` under way (a promise settles once: after it resolved, this does nothing). */
  private settle: ((error: Error) => void) | undefined;
  /** Records added. */
  records = 0;
  /** The last arrival time written, and its ISO text (a page's records often share one). */
  private arrivedMs = Number.NaN;
  private arrivedIso = '';

  constructor(private readonly level = 1) {}

  add(record: ArchivedRecord): void {
    if (this.result !== undefined) throw new Error('ArchiveWriter.add after finish');
    if (record.shardId !== this.shardId) {
      this.shardId = record.shardId;
      this.quotedShardId = JSON.stringify(record.shardId);
    }
    // The header line `headerLine` gives, written in place part by part (no line built: only the
    // numbers' short texts, which V8 mostly finds in its number-string cache).
    const { sequenceNumber, partitionKey, skipThroughSubSequence } = record;
    const quotedKey = isPlainJsonText(partitionKey) ? undefined : JSON.stringify(partitionKey);
    const ms = record.arrivedAt.getTime();
    if (ms !== this.arrivedMs) {
      // An invalid date throws here, as toISOString does in `headerLine`.
      this.arrivedIso = record.arrivedAt.toISOString();
      this.arrivedMs = ms;
    }
    const data = record.data;
    // At most 3 UTF-8 bytes per UTF-16 unit of a text (a surrogate pair: 4 for 2).
    const most =
      HEADER_FIXED_BYTES +
      3 * (this.quotedShardId.length + sequenceNumber.length + (quotedKey ?? partitionKey).length + 2) +
      this.arrivedIso.length +
      data.byteLength +
      1;
    if (this.chunk !== undefined && this.used + most > this.chunk.byteLength) {
      if (this.chunk.byteLength < ARCHIVE_CHUNK_BYTES) this.grow(this.used + most);
      else this.handOver();
    }
    // Written in place rather than as parts joined later: no Buffer per header, no second copy.
    // Only a batch's first chunk starts small: once one was handed to gzip the batch is a busy
    // one, and its later chunks start whole instead of growing (and being copied) again each time.
    this.chunk ??=
      this.gzip === undefined ? Buffer.allocUnsafe(Math.max(FIRST_CHUNK_BYTES, most)) : takeChunk(most);
    const chunk = this.chunk;
    let at = this.used;
    chunk.set(SHARD_ID_PART, at);
    at += SHARD_ID_PART.length;
    at += chunk.write(this.quotedShardId, at, 'utf8');
    chunk.set(SEQUENCE_PART, at);
    at += SEQUENCE_PART.length;
    at += chunk.write(sequenceNumber, at, 'utf8');
    chunk.set(PARTITION_KEY_PART, at);
    at += PARTITION_KEY_PART.length;
    if (quotedKey === undefined) {
      chunk[at++] = 0x22;
      at += chunk.write(partitionKey, at, 'latin1');
      chunk[at++] = 0x22;
    } else at += chunk.write(quotedKey, at, 'utf8');
    chunk.set(ARRIVED_AT_PART, at);
    at += ARRIVED_AT_PART.length;
    at += chunk.write(this.arrivedIso, at, 'latin1');
    chunk.set(BYTES_PART, at);
    at += BYTES_PART.length;
    at += chunk.write(String(data.byteLength), at, 'latin1');
    if (skipThroughSubSequence !== undefined) {
      chunk.set(SKIP_PART, at);
      at += SKIP_PART.length;
      at += chunk.write(String(skipThroughSubSequence), at, 'latin1');
    }
    chunk.set(END_PART, at);
    at += END_PART.length;
    chunk.set(data, at);
    at += data.byteLength;
    chunk[at++] = LF;
    this.used = at;
    this.records += 1;
    if (at >= ARCHIVE_CHUNK_BYTES) this.handOver();
  }

  private stream(): Gzip {
    if (this.gzip === undefined) {
      const gzip = createGzip({ level: this.level, memLevel: MEM_LEVEL });
      gzip.on('data', (piece: Buffer) => this.out.push(piece));
      gzip.on('error', (error) => {
        this.failure ??= error;
      });
      this.gzip = gzip;
    }
    return this.gzip;
  }

  /**
   * A batch's first chunk starts small and doubles up to ARCHIVE_CHUNK_BYTES: a worker holding
   * many quiet shards keeps a few KiB per open batch, not 256 KiB. Later chunks start whole.
   */
  private grow(least: number): void {
    const chunk = this.chunk as Buffer;
    const bigger = Buffer.allocUnsafe(Math.max(least, Math.min(ARCHIVE_CHUNK_BYTES, 2 * chunk.byteLength)));
    chunk.copy(bigger, 0, 0, this.used);
    this.chunk = bigger;
  }

  private handOver(): void {
    const chunk = this.chunk;
    if (chunk === undefined || this.used === 0) return;
    // gzip holds the chunk until it has read it: the next record starts a new one, and the chunk
    // is given back for another once that write is done (not after an error: zlib may still be
    // reading it when a destroyed stream reports one).
    this.stream().write(chunk.subarray(0, this.used), (error) => {
      if (error === null || error === undefined) giveBack(chunk);
    });
    this.chunk = undefined;
    this.used = 0;
  }

  /** The gzip object of every record added; the same promise however often it is asked. */
  finish(): Promise<Uint8Array> {
    this.result ??= new Promise<Uint8Array>((resolve, reject) => {
      // A stream that already failed (zlib destroys it) or was dropped ends no more: say so rather than wait.
      if (this.failure !== undefined || this.dropped) {
        return reject(this.failure ?? new Error('the archive stream was dropped before the batch landed'));
      }
      this.settle = reject;
      this.handOver();
      const gzip = this.stream();
      gzip.once('end', () => {
        if (this.failure !== undefined) return reject(this.failure);
        const gz = Buffer.concat(this.out);
        resolve(new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength));
      });
      gzip.once('error', reject);
      gzip.end();
    });
    return this.result;
  }

  /** Drops the batch's archive (a batch that will not land); a `finish()` still waiting fails. */
  destroy(): void {
    this.dropped = true;
    this.chunk = undefined;
    this.used = 0;
    this.gzip?.destroy();
    this.settle?.(new Error('the archive stream was dropped before the batch landed'));
  }
}

/** Reads an archive object back; throws naming the record when it is not one. */
/** An archive object that cannot be read back: not gzip, too large inflated, or a damaged record. */
export class DamagedArchiveObject extends ShardlineError {}

/**
 * Most bytes an archive object may inflate to. A batch holds at most `batch.maxBytes` of Data
 * (32 MiB by default) plus one record, and ~200 bytes of header per record: with the defaults an
 * object inflates to ~60 MiB at most. An object past this is damaged (or a bomb), not a batch.
 */
export const ARCHIVE_MAX_INFLATED_BYTES = 256 * 1024 * 1024;

export const decodeArchive = (bytes: Uint8Array, key = 'archive object'): ArchivedRecord[] => {
  let raw: Buffer;
  try {
    raw = gunzipSync(bytes, { maxOutputLength: ARCHIVE_MAX_INFLATED_BYTES });
  } catch (cause) {
    const tooLarge = (cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new DamagedArchiveObject(
      tooLarge
        ? `${key}: inflates past ${ARCHIVE_MAX_INFLATED_BYTES} bytes, more than any batch holds; the object is damaged or not a raw archive object`
        : `${key}: not gzip (${cause instanceof Error ? cause.message : String(cause)}); the object is damaged or not a raw archive object`,
      { cause },
    );
  }
  const records: ArchivedRecord[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf(LF, at);
    let header: z.output<typeof ArchiveHeader>;
    try {
      if (end < 0) throw new Error('no line break after a header');
      header = ArchiveHeader.parse(JSON.parse(raw.toString('utf8', at, end)));
      if (raw[end + 1 + header.bytes] !== LF) throw new Error('the data is cut short');
    } catch (cause) {
      throw new DamagedArchiveObject(
        `${key}: record ${records.length + 1} is not an archived record (${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}); the object is damaged`,
        { cause },
      );
    }
    const data = raw.subarray(end + 1, end + 1 + header.bytes);
    at = end + 1 + header.bytes + 1;
    records.push({
      shardId: header.shardId,
      sequenceNumber: header.sequenceNumber,
      partitionKey: header.partitionKey,
      arrivedAt: new Date(header.arrivedAt),
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      ...(header.skipThroughSubSequence === undefined
        ? {}
        : { skipThroughSubSequence: header.skipThroughSubSequence }),
    });
  }
  return records;
};
