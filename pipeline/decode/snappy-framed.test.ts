import { compress } from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors.ts';
import { maskedCrc32c } from './crc32c.ts';
import { frameSnappy, isSnappyFramed, SNAPPY_STREAM_HEADER, unframeSnappy } from './snappy-framed.ts';

const MiB = 1024 * 1024;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One chunk, assembled independently of `frameSnappy`. */
function chunk(type: number, body: Uint8Array, crcOf?: Uint8Array): Uint8Array {
  const withCrc = crcOf !== undefined;
  const len = body.length + (withCrc ? 4 : 0);
  const head = [type, len & 0xff, (len >> 8) & 0xff, len >> 16];
  if (withCrc) {
    const c = maskedCrc32c(crcOf);
    head.push(c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24);
  }
  return Uint8Array.from([...head, ...body]);
}

const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof DecodeError ? e.reason : 'other';
  }
  return undefined;
}

describe('framed snappy', () => {
  it('decodes a stream assembled by hand from compressed and stored chunks', () => {
    // Prepare
    const a = text('{"status":200,"status":200,"status":200}\n');
    const b = text('tail');
    const stream = cat(SNAPPY_STREAM_HEADER, chunk(0x00, compress(a), a), chunk(0x01, b, b));
    // Act
    const out = unframeSnappy(stream, MiB);
    // Assess
    expect(Buffer.from(out).toString()).toBe(`${Buffer.from(a)}tail`);
  });

  it('round-trips through frameSnappy across 64 KiB chunk boundaries and incompressible data', () => {
    const compressible = text('{"path":"/v1/users"}\n'.repeat(10_000));
    let seed = 1;
    const random = Uint8Array.from({ length: 70_000 }, () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 16;
    });
    for (const data of [compressible, random, text('x')]) {
      const framed = frameSnappy(data);
      expect(isSnappyFramed(framed)).toBe(true);
      expect(Buffer.from(unframeSnappy(framed, MiB)).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('skips padding and reserved skippable chunks and accepts a repeated stream identifier', () => {
    const a = text('hello');
    const stream = cat(
      SNAPPY_STREAM_HEADER,
      chunk(0xfe, new Uint8Array(3)),
      chunk(0x80, text('meta')),
      chunk(0x01, a, a),
      SNAPPY_STREAM_HEADER,
      chunk(0x01, a, a),
    );
    expect(Buffer.from(unframeSnappy(stream, MiB)).toString()).toBe('hellohello');
  });

  it('refuses corrupt streams with decompress_failed', () => {
    const a = text('hello');
    const good = cat(SNAPPY_STREAM_HEADER, chunk(0x01, a, a));
    const badCrc = good.slice();
    badCrc[good.length - 1]! ^= 1;
    const cases: Record<string, Uint8Array> = {
      badCrc,
      truncated: good.subarray(0, good.length - 2),
      unskippable: cat(SNAPPY_STREAM_HEADER, chunk(0x02, a)),
      badIdentifier: cat(SNAPPY_STREAM_HEADER, chunk(0xff, text('sNaPpX'))),
      noIdentifier: chunk(0x01, a, a),
      badBlock: cat(SNAPPY_STREAM_HEADER, chunk(0x00, Uint8Array.of(0x05, 0xff, 0xff), a)),
      shortChunk: cat(SNAPPY_STREAM_HEADER, chunk(0x01, Uint8Array.of(1, 2))),
    };
    for (const [name, data] of Object.entries(cases)) {
      expect({ name, reason: reasonOf(() => unframeSnappy(data, MiB)) }).toEqual({
        name,
        reason: 'decompress_failed',
      });
    }
  });

  it('stops at the size cap with too_large', () => {
    const framed = frameSnappy(new Uint8Array(300_000));
    expect(reasonOf(() => unframeSnappy(framed, 200_000))).toBe('too_large');
    expect(unframeSnappy(framed, 300_000)).toHaveLength(300_000);
  });
});
