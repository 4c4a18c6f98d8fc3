import { gunzipSync } from 'node:zlib';
import { Decompress } from 'fzstd';
import { DecodeError } from '../errors.ts';
import { concatBytes } from './concat-bytes.ts';
import { isSnappyFramed, unframeSnappy } from './snappy-framed.ts';

export type Codec = 'none' | 'gzip' | 'zstd' | 'snappy';

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
 * record on its own (`compression gzip|zstd|snappy`); snappy is the framed format.
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
  if (looksLikeText(data)) return { data, codec: 'none' };
  const head = Array.from(data.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new DecodeError(
    'decompress_failed',
    `record Data starts with bytes ${head}: not JSON, gzip, zstd or framed snappy. Check the producer's compression setting (Fluent Bit: gzip, zstd or snappy).`,
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

function unzstd(data: Uint8Array, maxBytes: number): Uint8Array {
  checkZstdHeader(data, maxBytes);
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
 * fzstd allocates the declared content size (or the window) before decoding a frame; refuse a
 * header that declares more than the cap rather than let it allocate gigabytes.
 */
function checkZstdHeader(data: Uint8Array, maxBytes: number): void {
  if (data.length < 6) throw corrupt('zstd', new Error('frame header truncated'));
  const fhd = data[4]!;
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  let pos = 5;
  let window = 0;
  if (!singleSegment) {
    const wd = data[pos++]!;
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  pos += dictBytes;
  if (pos + fcsBytes > data.length) throw corrupt('zstd', new Error('frame header truncated'));
  let declared = 0;
  for (let i = 0; i < fcsBytes; i++) declared += data[pos + i]! * 2 ** (8 * i);
  if (fcsBytes === 2) declared += 256;
  if (fcsBytes > 0 && declared > maxBytes) throw tooLarge('zstd', maxBytes);
  if (fcsBytes === 0 && window > maxBytes) throw tooLarge('zstd', maxBytes);
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
