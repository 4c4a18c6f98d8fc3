import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readDecodedRecords } from '../../test/fixtures/fluent-bit/fluent-bit-captures.ts';
import { DecodeError } from '../errors.ts';
import { decompress } from './decompress.ts';
import { frameSnappy } from './snappy-framed.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => Buffer.from(b).toString();

/** The first two records of the kinesis_tail capture, compressed with the zstd CLI (`zstd -19`). */
const ZSTD_TWO_LINES = Buffer.from(
  'KLUv/WR6Au0LAGYXSiAgkx78byb0K23qacIj+qOBndsD1LzGl2vMyYzqAJAEiD4AQQBBAFs7dM297qbZmbJdJQsGzvZrDr1m+dYLew3mskOXEvWLvbb+jvOcQ69IKaOkckqsKU0pWZSknHrW6tav2e2i07YOy0/+5px4ggHhIhg+79Nt9vEQc1ICT0ZrqvfaEIY49b19pl4OfcZqzihjZR1aUVLX2gXCtt/1OpSSoq67XQMVszd/Bm1pb783jDl0DWPxb9bq56PNVePMRfRSP3PolquYGnkyEqg5vYa5TPEEeIM94/3G3gcfEEnDEXiEKhYqK4CRNalomC7XYYYBNZj2W2ahmoDRZcE4pKZFfXdYUt/spX+DLA5H0oxSzjitaDhMp375C1c9HMZIH4e+Ya2ZNmx3IiCAjEiV9m1koHiK7FCG5VJgwEaufTRjh3HSI92f2B7qdzAYDowbPphQ0ZEpA6Yr3coSJjnXgK+EHWXz8LJ0lwy6wbGFm4ZCAJ083xicZblSJ76TLgc=',
  'base64',
);

/** A zstd frame without a declared size, made of RLE blocks: tiny input, `blocks` x 128 KiB output. */
function zstdRleBomb(blocks: number): Uint8Array {
  const header = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]; // no content size, window 2 MiB
  const body: number[] = [];
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    const h = (131_072 << 3) | (1 << 1) | last; // RLE block of 128 KiB
    body.push(h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, 0x61);
  }
  return Uint8Array.from([...header, ...body]);
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof DecodeError ? e.reason : 'other';
  }
  return undefined;
}

describe('decompress', () => {
  it('passes plain JSON through untouched, without copying', () => {
    const data = text('{"a":1}\n');
    const out = decompress(data);
    expect(out.codec).toBe('none');
    expect(out.data).toBe(data);
  });

  it('passes text that is not an object through, so that JSON parsing can say what is wrong', () => {
    expect(decompress(text('  [1,2]\n')).codec).toBe('none');
    expect(decompress(text('hello\n')).codec).toBe('none');
  });

  it('inflates gzip', () => {
    const out = decompress(gzipSync('{"a":1}\n'));
    expect(out.codec).toBe('gzip');
    expect(str(out.data)).toBe('{"a":1}\n');
  });

  it('inflates zstd written by the reference implementation, one frame or several', () => {
    // Prepare
    const expected = readDecodedRecords('kinesis_tail')
      .slice(0, 2)
      .map((r) => r.data)
      .join('');
    const twoFrames = Buffer.concat([ZSTD_TWO_LINES, ZSTD_TWO_LINES]);
    // Act
    const one = decompress(ZSTD_TWO_LINES);
    const two = decompress(twoFrames);
    // Assess
    expect(one.codec).toBe('zstd');
    expect(str(one.data)).toBe(expected);
    expect(str(two.data)).toBe(expected + expected);
  });

  it('inflates framed snappy, the format Fluent Bit writes', () => {
    const out = decompress(frameSnappy(text('{"a":1}\n')));
    expect(out.codec).toBe('snappy');
    expect(str(out.data)).toBe('{"a":1}\n');
  });

  it('inflates a zlib stream (deflate in Node, Python and Go), and reads text that only starts like one as text', () => {
    // Prepare: deflate at every level writes 78 01, 78 5e, 78 9c or 78 da; `x^2` starts a zlib header.
    const lines = '{"a":1}\n{"b":2}\n';
    const levels = [1, 5, 6, 9].map((level) => deflateSync(text(lines), { level }));
    const formula = text('x^2 + y^2 = z^2\n');

    // Act
    const outs = levels.map((z) => decompress(z));
    const plain = decompress(formula);

    // Assess
    expect(levels.map((z) => z[1]!.toString(16))).toEqual(['1', '5e', '9c', 'da']);
    for (const out of outs) {
      expect(out.codec).toBe('zlib');
      expect(str(out.data)).toBe(lines);
    }
    expect(plain).toEqual({ data: formula, codec: 'none' });
  });

  it('refuses a damaged zlib stream as decompress_failed', () => {
    const z = deflateSync(text('{"a":1}\n'));
    z[z.length - 1]! ^= 1;
    expect(reasonOf(() => decompress(z))).toBe('decompress_failed');
  });

  it('refuses zip bombs in every codec with too_large', () => {
    const zeros = new Uint8Array(9 * 1024 * 1024);
    expect(reasonOf(() => decompress(gzipSync(zeros)))).toBe('too_large');
    expect(reasonOf(() => decompress(frameSnappy(zeros)))).toBe('too_large');
    expect(reasonOf(() => decompress(deflateSync(zeros)))).toBe('too_large');
    expect(reasonOf(() => decompress(zstdRleBomb(80)))).toBe('too_large');
    expect(decompress(zstdRleBomb(8)).data).toHaveLength(8 * 131_072);
  });

  it('refuses a zstd header that declares more than the cap, before allocating it', () => {
    // single segment, 4-byte content size of 1 GiB, then a 1-byte raw block
    const frame = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0x40, 0x09, 0, 0, 0x61);
    expect(reasonOf(() => decompress(frame))).toBe('too_large');
  });

  it('refuses a later zstd frame that declares a window past the cap, not only the first frame', () => {
    // A valid 1-byte frame, then a frame whose window descriptor asks for 256 MiB.
    const first = [0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x01, 0x09, 0x00, 0x00, 0x61];
    const second = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x90, 0x09, 0x00, 0x00, 0x61];
    expect(decompress(Uint8Array.from(first)).data).toEqual(Uint8Array.of(0x61));
    expect(reasonOf(() => decompress(Uint8Array.from([...first, ...second])))).toBe('too_large');
  });

  it('refuses at once zstd Data made of many tiny blocks under a large window (minutes of window moves)', () => {
    // 8 MiB window, 1,000 RLE blocks of 4 bytes each: fzstd shifts the whole window per block.
    const header = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x68];
    const tiny = (blocks: number, window: number[]) => {
      const body: number[] = [];
      for (let i = 0; i < blocks; i++)
        body.push((4 << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0), 0, 0, 0x20);
      return Uint8Array.from([...window, ...body]);
    };
    const started = performance.now();
    expect(reasonOf(() => decompress(tiny(1_000, header)))).toBe('too_large');
    expect(performance.now() - started).toBeLessThan(1_000);
    // The same blocks under a 1 KiB window are cheap, and decode.
    expect(decompress(tiny(1_000, [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00])).data).toHaveLength(4_000);
  });

  it('refuses corrupt data with decompress_failed', () => {
    const gz = gzipSync('{"a":1}\n');
    const cases: Record<string, Uint8Array> = {
      gzipTruncated: gz.subarray(0, gz.length - 6),
      zstdTruncated: ZSTD_TWO_LINES.subarray(0, 100),
      zstdHeaderOnly: Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd),
      binary: Uint8Array.of(0x00, 0x01, 0x02),
      rawSnappyBlock: Uint8Array.of(0x88, 0x01, 0x00),
    };
    for (const [name, data] of Object.entries(cases)) {
      expect({ name, reason: reasonOf(() => decompress(data)) }).toEqual({
        name,
        reason: 'decompress_failed',
      });
    }
  });
});
