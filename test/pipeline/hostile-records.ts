import { gzipSync } from 'node:zlib';
import { DEFAULT_DECODE_LIMITS } from '../../pipeline/decode/decode-limits.ts';
import { aggregate } from '../../pipeline/decode/kpl.ts';
import { frameSnappy } from '../../pipeline/decode/snappy-framed.ts';
import { concat, encoder, POOL, zstdRle } from './fuzz-records.ts';

/**
 * Records built to cost as much as possible against the default decode bounds: bombs of every
 * codec, line and sub-record counts past the bound, the most lines admitted, deep nesting, many
 * keys, huge strings. Each must end as one dead letter of its Data or as its per-line outcomes.
 */
export interface Hostile {
  readonly name: string;
  readonly data: Uint8Array;
  /** One dead letter of the whole Data, or this many per-line outcomes. */
  readonly expect: 'whole' | number;
}

export const MiB = 1024 * 1024;

/** Built once (some take a few hundred ms): the property measures processing, not building. */
export const hostileRecords = (): Hostile[] => {
  const limits = DEFAULT_DECODE_LIMITS;
  const valid = POOL[0]!;
  const withField = (field: string, json: string): string => `${valid.slice(0, -1)},"${field}":${json}}\n`;
  const nested = (depth: number, open: string, close: string, leaf = '1'): string =>
    open.repeat(depth) + leaf + close.repeat(depth);
  const manyKeys = (n: number, prefix: string): string =>
    `{${Array.from({ length: n }, (_, i) => `"${prefix}${i}":"v"`).join(',')}}`;
  const gzipMember = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
  const bomb = concat(Array.from({ length: 16 }, () => gzipMember));
  // A frame header declaring 2^40 bytes of content (single segment, 8-byte size), then a block.
  const declared = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0);
  const text = (s: string) => encoder.encode(s);
  const list: Hostile[] = [
    {
      name: 'gzip of 2 million {} lines',
      data: gzipSync(text('{}\n'.repeat(2_000_000))),
      expect: 'whole',
    },
    { name: 'gzip bomb: 16 members of 64 MiB of zeros (1 GiB)', data: bomb, expect: 'whole' },
    { name: 'zstd bomb: 8192 RLE blocks (1 GiB)', data: zstdRle(0x61, 8192), expect: 'whole' },
    { name: 'zstd frame declaring 1 TiB', data: declared, expect: 'whole' },
    {
      name: 'framed snappy of 16 MiB of zeros',
      data: frameSnappy(new Uint8Array(16 * MiB)),
      expect: 'whole',
    },
    {
      name: `KPL aggregate of ${limits.maxLinesPerRecord + 1} sub-records`,
      data: aggregate(
        Array.from({ length: limits.maxLinesPerRecord + 1 }, () => ({
          partitionKey: 'pk',
          data: text('{}'),
        })),
      ),
      expect: 'whole',
    },
    {
      name: 'gzip: a valid line, then one 2 MiB line',
      data: gzipSync(text(`${valid}\n{"request_body":"${'a'.repeat(2 * MiB)}"}\n`)),
      expect: 2,
    },
    {
      name: 'gzip: a line with 100k keys (1.2 MB)',
      data: gzipSync(text(`${manyKeys(100_000, 'k')}\n`)),
      expect: 1,
    },
    {
      name: `gzip: ${limits.maxLinesPerRecord} {} lines, the most admitted`,
      data: gzipSync(text('{}\n'.repeat(limits.maxLinesPerRecord))),
      expect: limits.maxLinesPerRecord,
    },
    { name: '[[[…]]] 100k deep', data: text(`${nested(100_000, '[', ']')}\n`), expect: 1 },
    { name: '{"a":{"a":…}} 100k deep', data: text(`${nested(100_000, '{"a":', '}')}\n`), expect: 1 },
    {
      name: 'valid log with an extra field 100k deep',
      data: text(withField('deep', nested(100_000, '[', ']'))),
      expect: 1,
    },
    {
      name: 'valid log with headers 50k deep',
      data: text(withField('headers', nested(50_000, '{"a":', '}', '"v"'))),
      expect: 1,
    },
    {
      name: 'valid log with 50k extra keys',
      data: text(`${valid.slice(0, -1)},${manyKeys(50_000, 'x').slice(1)}\n`),
      expect: 1,
    },
    {
      name: 'valid log with 50k headers',
      data: text(withField('headers', manyKeys(50_000, 'h'))),
      expect: 1,
    },
    {
      name: 'request_body of 900 KB',
      data: text(withField('request_body', JSON.stringify('b'.repeat(900_000)))),
      expect: 1,
    },
    {
      name: 'path of 900 KB',
      data: text(withField('path', JSON.stringify(`/${'p'.repeat(900_000)}`))),
      expect: 1,
    },
    {
      name: 'user_agent of 900 KB',
      data: text(withField('user_agent', JSON.stringify('Mozilla/5.0 '.repeat(75_000)))),
      expect: 1,
    },
    {
      name: 'request_body of 150k \\u0000 escapes',
      data: text(withField('request_body', `"${'\\u0000'.repeat(150_000)}"`)),
      expect: 1,
    },
    // Texts built to make the secret scanner's rules backtrack: each took seconds to minutes.
    {
      name: 'request and response bodies of "password is" and 33k spaces',
      data: text(
        withField('request_body', JSON.stringify(`password is${' '.repeat(33_000)}x`)).replace(
          /}\n$/,
          `,"response_body":${JSON.stringify(`seed phrase${' '.repeat(33_000)}:`)}}\n`,
        ),
      ),
      expect: 1,
    },
    {
      name: '64 headers of "my api key is" and 8k spaces',
      data: text(
        withField(
          'headers',
          JSON.stringify(
            Object.fromEntries(
              Array.from({ length: 64 }, (_, i) => [`x-note-${i}`, `my api key is${' '.repeat(8_000)}`]),
            ),
          ),
        ),
      ),
      expect: 1,
    },
    {
      name: 'request_body of 11k "eyJ"',
      data: text(withField('request_body', JSON.stringify('eyJ'.repeat(11_000)))),
      expect: 1,
    },
    {
      name: 'request_body of 200k emoji',
      data: text(withField('request_body', JSON.stringify('😀'.repeat(200_000)))),
      expect: 1,
    },
  ];
  return list.map((h) => ({ ...h, data: new Uint8Array(h.data) }));
};
