import { compress, uncompress } from 'snappyjs';
import { DecodeError } from '../errors.ts';
import { concatBytes } from './concat-bytes.ts';
import { maskedCrc32c } from './crc32c.ts';

/**
 * The snappy framing format (google/snappy framing_format.txt), which is what Fluent Bit's AWS
 * outputs write for `compression snappy` (flb_snappy_compress_framed_data): a stream identifier
 * chunk, then chunks of at most 64 KiB of input, each compressed (0x00) or stored (0x01) with a
 * masked CRC-32C of its uncompressed bytes.
 */

/** `ff 06 00 00 "sNaPpY"`: chunk type, 24-bit length, then the identifier itself. */
export const SNAPPY_STREAM_HEADER = Uint8Array.of(0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59);

const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_STREAM_ID = 0xff;
const LAST_UNSKIPPABLE = 0x7f;
const MAX_BLOCK = 65_536;

export function isSnappyFramed(data: Uint8Array): boolean {
  if (data.length < SNAPPY_STREAM_HEADER.length) return false;
  for (let i = 0; i < SNAPPY_STREAM_HEADER.length; i++) if (data[i] !== SNAPPY_STREAM_HEADER[i]) return false;
  return true;
}

/** Decodes a framed snappy stream; throws `DecodeError` (`decompress_failed` or `too_large`). */
export function unframeSnappy(data: Uint8Array, maxBytes: number): Uint8Array {
  if (!isSnappyFramed(data)) throw failed('it does not start with the stream identifier chunk');
  const parts: Uint8Array[] = [];
  let total = 0;
  let pos = 0;
  while (pos < data.length) {
    if (data.length - pos < 4) throw failed(`chunk header at byte ${pos} is truncated`);
    const type = data[pos]!;
    const len = data[pos + 1]! | (data[pos + 2]! << 8) | (data[pos + 3]! << 16);
    const start = pos + 4;
    const end = start + len;
    if (end > data.length)
      throw failed(`chunk at byte ${pos} claims ${len} bytes but only ${data.length - start} remain`);
    pos = end;

    if (type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) {
      if (len < 4) throw failed(`data chunk at byte ${start - 4} is shorter than its checksum`);
      const expected =
        (data[start]! | (data[start + 1]! << 8) | (data[start + 2]! << 16) | (data[start + 3]! << 24)) >>> 0;
      const body = data.subarray(start + 4, end);
      let block: Uint8Array;
      if (type === CHUNK_UNCOMPRESSED) {
        block = body;
      } else {
        const declared = rawLength(body);
        if (declared === undefined || declared > MAX_BLOCK) {
          throw failed(`compressed chunk at byte ${start - 4} has an invalid length preamble`);
        }
        if (total + declared > maxBytes) throw tooLarge(maxBytes);
        try {
          block = uncompress(body, MAX_BLOCK);
        } catch (e) {
          throw failed(`compressed chunk at byte ${start - 4} is not a valid snappy block`, e);
        }
      }
      if (block.length > MAX_BLOCK) throw failed(`chunk at byte ${start - 4} holds more than 64 KiB`);
      if (maskedCrc32c(block) !== expected) throw failed(`checksum mismatch in chunk at byte ${start - 4}`);
      total += block.length;
      if (total > maxBytes) throw tooLarge(maxBytes);
      parts.push(block);
    } else if (type === CHUNK_STREAM_ID) {
      // Concatenated streams repeat the identifier; it must still be the right one.
      if (len !== 6 || !isSnappyFramed(data.subarray(start - 4, end))) {
        throw failed(`bad stream identifier chunk at byte ${start - 4}`);
      }
    } else if (type <= LAST_UNSKIPPABLE) {
      throw failed(`reserved unskippable chunk type 0x${type.toString(16)} at byte ${start - 4}`);
    }
    // 0x80..0xfe (padding and reserved skippable chunks) carry nothing to decode.
  }
  return concatBytes(parts, total);
}

/** Encodes bytes as a framed snappy stream, the way Fluent Bit does (for tests and benches). */
export function frameSnappy(data: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [SNAPPY_STREAM_HEADER];
  let total = SNAPPY_STREAM_HEADER.length;
  for (let off = 0; off < data.length; off += MAX_BLOCK) {
    const block = data.subarray(off, Math.min(off + MAX_BLOCK, data.length));
    const packed = compress(block);
    const useRaw = packed.length >= block.length;
    const payload = useRaw ? block : packed;
    const len = payload.length + 4;
    const crc = maskedCrc32c(block);
    const header = Uint8Array.of(
      useRaw ? CHUNK_UNCOMPRESSED : CHUNK_COMPRESSED,
      len & 0xff,
      (len >>> 8) & 0xff,
      (len >>> 16) & 0xff,
      crc & 0xff,
      (crc >>> 8) & 0xff,
      (crc >>> 16) & 0xff,
      crc >>> 24,
    );
    chunks.push(header, payload);
    total += header.length + payload.length;
  }
  return concatBytes(chunks, total);
}

/** The uncompressed length a raw snappy block starts with (a varint of at most 32 bits). */
function rawLength(block: Uint8Array): number | undefined {
  let result = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    result += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return result;
  }
  return undefined;
}

function failed(detail: string, cause?: unknown): DecodeError {
  return new DecodeError(
    'decompress_failed',
    `snappy (framed) data is corrupt: ${detail}. The record is kept in the dead-letter sink; check the producer's compression setting.`,
    { cause },
  );
}

function tooLarge(maxBytes: number): DecodeError {
  return new DecodeError(
    'too_large',
    `snappy data decompresses to more than ${maxBytes} bytes, far beyond any request log; the record is refused to protect memory. Check what the producer sends.`,
  );
}
