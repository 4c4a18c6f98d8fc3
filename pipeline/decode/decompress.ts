import { gunzipSync, inflateSync } from 'node:zlib';
import { Decompress } from 'fzstd';
import { DecodeError } from '../errors.ts';
import { concatBytes } from './concat-bytes.ts';
import { isSnappyFramed, unframeSnappy } from './snappy-framed.ts';

export type Codec = 'none' | 'gzip' | 'zstd' | 'snappy' | 'zlib';

export interface Decompressed {
  readonly data: Uint8Array;
  readonly codec: Codec;
}

/**
 * A Kinesis record holds at most 1 MiB, and request logs compress ~5-20x; anything inflating past
 * this is a zip bomb or a bug, and is refused before it can exhaust memory.
 */
export const MAX_DECOMPRESSED_BYTES = 8 * 1024 * 1024;

const OPEN_BRACE = 0x7b;

/**
 * Detects the codec by magic bytes and inflates a record's Data. Fluent Bit compresses each
 * record on its own (`compression gzip|zstd|snappy`); snappy is the framed format. A zlib stream
 * (RFC 1950: what `deflate` gives in Node, Python and Go producers) is inflated too; its two header
 * bytes start `x` and may also start a text, so a zlib header whose stream does not inflate is read
 * as text when its second byte is printable (`x^2…`), else refused.
 *
 * Raw (unframed) snappy blocks are NOT accepted: Fluent Bit never writes them, they have no magic
 * bytes, and their first byte (a length varint) can be any value, including printable text, so
 * guessing would misread plain records. Data that matches no magic is passed through as 'none' when
 * it starts like text (JSON parsing then reports precisely what is wrong with each line), and is
 * refused as `decompress_failed` when it starts with a binary byte.
 */
export function decompress(data: Uint8Array, maxBytes: number = MAX_DECOMPRESSED_BYTES): Decompressed {
  const first = data[0];
  if (first === OPEN_BRACE) return { data, codec: 'none' };
  // A UTF-8 byte-order mark before text (Windows tools write one): plain text, stripped per line.
  if (first === 0xef && data[1] === 0xbb && data[2] === 0xbf && looksLikeText(data.subarray(3))) {
    return { data, codec: 'none' };
  }
  if (first === 0x1f && data[1] === 0x8b) return { data: gunzip(data, maxBytes), codec: 'gzip' };
  if (first === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd) {
    return { data: unzstd(data, maxBytes), codec: 'zstd' };
  }
  if (first === 0xff && isSnappyFramed(data)) return { data: unframeSnappy(data, maxBytes), codec: 'snappy' };
  if (first === 0x78 && isZlibHeader(data)) {
    try {
      return { data: inflateSync(data, { maxOutputLength: maxBytes }), codec: 'zlib' };
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('zlib', maxBytes, e);
      const second = data[1]!;
      if (second <= 0x20 || second >= 0x7f) throw corrupt('zlib', e);
      // A text that starts like a zlib header (`x^2…`): read on as text.
    }
  }
  if (looksLikeText(data)) return { data, codec: 'none' };
  const head = Array.from(data.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new DecodeError(
    'decompress_failed',
    `record Data starts with bytes ${head}: not JSON, gzip, zstd, framed snappy or zlib. Check the producer's compression setting (Fluent Bit: gzip, zstd or snappy).`,
  );
}

function looksLikeText(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b > 0x20 && b < 0x7f;
  }
  return true;
}

function gunzip(data: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('gzip', maxBytes, e);
    throw corrupt('gzip', e);
  }
}

/** RFC 1950's header: deflate with a window of at most 32 KiB, no preset dictionary, and its check. */
const isZlibHeader = (data: Uint8Array): boolean =>
  data.length >= 6 &&
  (data[0]! & 0x0f) === 8 &&
  data[0]! >> 4 <= 7 &&
  (data[1]! & 0x20) === 0 &&
  ((data[0]! << 8) | data[1]!) % 31 === 0;

function unzstd(data: Uint8Array, maxBytes: number): Uint8Array {
  checkZstdFrames(data, maxBytes);
  const parts: Uint8Array[] = [];
  let total = 0;
  // Streaming, so that the size cap holds across any number of frames, not just the first.
  const stream = new Decompress((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge('zstd', maxBytes);
    if (chunk.length > 0) parts.push(chunk);
  });
  try {
    stream.push(data, true);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw corrupt('zstd', e);
  }
  return concatBytes(parts, total);
}

/**
 * Window bytes fzstd may move while decoding one record. Its streaming decoder keeps a window of
 * the frame's size (the content size of a single-segment frame, else the window descriptor's) and
 * shifts all of it after every block, so a record's work is Σ frames (blocks × window). Honest
 * frames cost little: Fluent Bit's one-shot frames hold ≤ 128 KiB a block, so 8 MiB of content (the
 * cap) is 64 blocks × 8 MiB = 512 MiB moved (~50 ms). A hostile record of 4-byte blocks under an
 * 8 MiB window moved 8 MiB per 4 bytes read: minutes for one record, a stalled shard.
 */
export const MAX_ZSTD_WINDOW_WORK = 640 * 1024 * 1024;

/**
 * Walks every frame and block header of zstd Data before anything is decoded (sizes are explicit,
 * so this reads a few bytes per block) and refuses, as `too_large`, a frame that declares more
 * content or a larger window than the cap (fzstd allocates it up front: a 28-byte record could ask
 * for 2 GB), and Data whose decoding would move more than `MAX_ZSTD_WINDOW_WORK` window bytes.
 * Truncated headers are left to the decoder, which reports them as corrupt.
 */
function checkZstdFrames(data: Uint8Array, maxBytes: number): void {
  let pos = 0;
  let work = 0;
  while (pos < data.length) {
    if (pos + 8 > data.length) return;
    const magic =
      (data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16) | (data[pos + 3]! << 24)) >>> 0;
    if (magic >>> 4 === 0x184d2a5) {
      // A skippable frame: a 4-byte length, then that many bytes nobody decodes.
      pos += 8 + (data[pos + 4]! | (data[pos + 5]! << 8) | (data[pos + 6]! << 16)) + data[pos + 7]! * 2 ** 24;
      continue;
    }
    if (magic !== 0xfd2fb528) return;
    const fhd = data[pos + 4]!;
    const singleSegment = (fhd >> 5) & 1;
    const fcsFlag = fhd >> 6;
    const checksum = (fhd >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    let at = pos + 5;
    let window = 0;
    if (!singleSegment) {
      const wd = data[at++]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    at += dictBytes;
    if (at + fcsBytes > data.length) return;
    let declared = 0;
    for (let i = 0; i < fcsBytes; i++) declared += data[at + i]! * 2 ** (8 * i);
    if (fcsBytes === 2) declared += 256;
    at += fcsBytes;
    if (fcsBytes > 0 && declared > maxBytes) throw tooLarge('zstd', maxBytes);
    if (window > maxBytes) throw tooLarge('zstd', maxBytes);
    // What fzstd's streaming decoder allocates for the frame and shifts after each block.
    const held = singleSegment ? declared : window;
    work += held;
    for (;;) {
      if (at + 3 > data.length) return;
      const header = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16);
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      at += 3 + (type === 1 ? 1 : size);
      work += held;
      if (work > MAX_ZSTD_WINDOW_WORK) {
        throw new DecodeError(
          'too_large',
          `zstd record Data would move over ${MAX_ZSTD_WINDOW_WORK} bytes of window to decode (many tiny blocks under a large window), far beyond any request log; it is refused to keep the shard moving. Check what the producer sends.`,
        );
      }
      if (header & 1) break;
    }
    pos = at + checksum * 4;
  }
}

function corrupt(codec: string, cause: unknown): DecodeError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DecodeError(
    'decompress_failed',
    `${codec} data could not be decompressed (${detail}). The record is kept in the dead-letter sink; check the producer's compression setting.`,
    { cause },
  );
}

function tooLarge(codec: string, maxBytes: number, cause?: unknown): DecodeError {
  return new DecodeError(
    'too_large',
    `${codec} record Data exceeds ${maxBytes} bytes once decompressed, far beyond any request log; it is refused to protect memory. Check what the producer sends.`,
    { cause },
  );
}
