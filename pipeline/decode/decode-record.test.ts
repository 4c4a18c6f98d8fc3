import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  readCapturedRecords,
  readDecodedRecords,
} from '../../test/fixtures/fluent-bit/fluent-bit-captures.ts';
import type { SourceRecord } from '../types.ts';
import { DecodeConfig } from './decode-limits.ts';
import { decodeRecord } from './decode-record.ts';
import { aggregate } from './kpl.ts';
import { frameSnappy } from './snappy-framed.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => Buffer.from(b).toString();

function sourceRecord(
  data: Uint8Array,
  sequenceNumber = '49600000000000000000000000000000000000000000000001',
): SourceRecord {
  return {
    shardId: 'shardId-000000000000',
    sequenceNumber,
    partitionKey: 'pk',
    arrivedAt: new Date(0),
    data,
  };
}

describe('decodeRecord on real Fluent Bit captures', () => {
  it('decodes every gzip record of kinesis_gzip to the line Fluent Bit compressed', () => {
    // Prepare
    const records = readCapturedRecords('kinesis_gzip');
    const expected = readDecodedRecords('kinesis_gzip');
    expect(records).toHaveLength(expected.length);
    records.forEach((rec, i) => {
      // Act
      const out = decodeRecord(sourceRecord(rec.data));
      // Assess
      const want = expected[i]!.data;
      expect(out.deadLetters).toEqual([]);
      expect(out.logs).toHaveLength(1);
      expect(`${str(out.logs[0]!.bytes)}\n`).toBe(want);
      expect(out.logs[0]!.value).toEqual(JSON.parse(want));
      expect(out.logs[0]!.subSequence).toBe(0);
      expect(out.logs[0]!.kplSubSequence).toBeUndefined();
    });
  });

  it('splits a simple_aggregation record into its 40 logs, in order', () => {
    const [rec] = readCapturedRecords('kinesis_simple_agg');
    const out = decodeRecord(sourceRecord(rec!.data));
    expect(out.deadLetters).toEqual([]);
    expect(out.logs.map((l) => l.subSequence)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(out.logs.map((l) => l.value.request_id)).toEqual(
      Array.from({ length: 40 }, (_, i) => `req-${String(i).padStart(6, '0')}`),
    );
  });

  it('recovers the backslash-escaped lines of log_key without a parser, and flags them', () => {
    // Prepare: the same requests, shipped with a JSON parser (kinesis_tail) and without (noparser)
    const escaped = readCapturedRecords('kinesis_tail_noparser_logkey');
    const parsed = readDecodedRecords('kinesis_tail').map(
      (r) => JSON.parse(r.data) as Record<string, unknown>,
    );
    escaped.forEach((rec, i) => {
      // Act
      const out = decodeRecord(sourceRecord(rec.data));
      // Assess
      expect(out.deadLetters).toEqual([]);
      expect(out.logs[0]!.recoveredEscaped).toBe(true);
      const { fb_time: _ignored, ...want } = parsed[i]!;
      expect(out.logs[0]!.value).toEqual(want);
    });
  });

  it('does not flag ordinary lines as recovered', () => {
    const [rec] = readCapturedRecords('kinesis_tail');
    expect(decodeRecord(sourceRecord(rec!.data)).logs[0]!.recoveredEscaped).toBe(false);
  });
});

describe('decodeRecord', () => {
  it('keeps good neighbours of bad lines and dead-letters each bad line with its own bytes', () => {
    // Prepare
    const lines = [
      '{"n":0}',
      '{"n":1', // invalid JSON
      '',
      '[1,2]', // not an object
      '{"n":4}\r', // CRLF
      '   ',
      'null',
    ];
    const bad = Buffer.concat([
      text(`${lines.join('\n')}\n`),
      Uint8Array.of(0xc3, 0x28, 0x0a),
      text('{"n":9}'),
    ]);
    // Act
    const out = decodeRecord(sourceRecord(bad));
    // Assess
    expect(out.logs.map((l) => [l.subSequence, l.value.n])).toEqual([
      [0, 0],
      [3, 4],
      [6, 9],
    ]);
    expect(str(out.logs[1]!.bytes)).toBe('{"n":4}');
    expect(out.deadLetters.map((d) => [d.reason, d.subSequence, str(d.data)])).toEqual([
      ['invalid_json', 1, '{"n":1\n'],
      ['not_an_object', 2, '[1,2]\n'],
      ['not_an_object', 4, 'null\n'],
      ['not_utf8', 5, '\ufffd(\n'],
    ]);
    for (const d of out.deadLetters) {
      expect(d).toMatchObject({ stage: 'decode', shardId: 'shardId-000000000000', partitionKey: 'pk' });
      expect(d.message.length).toBeGreaterThan(10);
    }
  });

  it('dead-letters an undecodable record once, with its whole Data', () => {
    const gz = gzipSync('{"a":1}\n{"a":2}\n');
    const data = gz.subarray(0, gz.length - 4);
    const out = decodeRecord(sourceRecord(data, '42'));
    expect(out.logs).toEqual([]);
    expect(out.deadLetters).toHaveLength(1);
    expect(out.deadLetters[0]).toMatchObject({
      reason: 'decompress_failed',
      sequenceNumber: '42',
      subSequence: undefined,
    });
    expect(out.deadLetters[0]!.data).toBe(data);
  });

  it('gives the lines of a large inflated record their own bytes: a kept row does not hold the whole record', () => {
    // Prepare: ~25 KB of gzip inflating to ~7.6 MB, nearly all blank padding, around one log and one bad line.
    const padding = `${' '.repeat(420)}\n`.repeat(9_000);
    const data = gzipSync(`{"a":1}\n${padding}{bad\n${padding}`);

    // Act
    const out = decodeRecord(sourceRecord(data));

    // Assess
    expect(out.logs).toHaveLength(1);
    expect(str(out.logs[0]!.bytes)).toBe('{"a":1}');
    expect(out.logs[0]!.raw.buffer.byteLength).toBeLessThan(64 * 1024);
    expect(out.deadLetters).toHaveLength(1);
    expect(str(out.deadLetters[0]!.data)).toBe('{bad\n');
    expect(out.deadLetters[0]!.data.buffer.byteLength).toBeLessThan(64 * 1024);
  });

  it('dead-letters a corrupt KPL record once, with its whole Data', () => {
    const agg = aggregate([{ partitionKey: 'a', data: text('{"a":1}\n') }]);
    agg[agg.length - 1]! ^= 1;
    const out = decodeRecord(sourceRecord(agg));
    expect(out.deadLetters.map((d) => [d.reason, d.data])).toEqual([['kpl_corrupt', agg]]);
  });

  it('bounds what all KPL sub-records of a record inflate to together, not each alone', () => {
    // Prepare: ten gzip sub-records of 1 MiB each, under a 4 MiB bound (each alone passes it).
    const limits = DecodeConfig.parse({ maxDecompressedBytes: 4 * 1024 * 1024 });
    const mib = gzipSync(`{"a":"${'x'.repeat(1_048_576 - 10)}"}\n`);
    const agg = aggregate(Array.from({ length: 10 }, () => ({ partitionKey: 'k', data: mib })));
    const three = aggregate(Array.from({ length: 3 }, () => ({ partitionKey: 'k', data: mib })));

    // Act
    const out = decodeRecord(sourceRecord(agg), limits);

    // Assess: one dead letter with the record as received, nothing inflated kept.
    expect(out.logs).toHaveLength(0);
    expect(out.deadLetters.map((d) => [d.reason, d.data.byteLength])).toEqual([
      ['too_large', agg.byteLength],
    ]);
    expect(out.deadLetters[0]!.message).toContain('together');
    // Under the bound in all, every sub-record is decoded.
    expect(decodeRecord(sourceRecord(three), limits).logs).toHaveLength(3);
  });

  it('numbers logs across KPL sub-records, each decompressed on its own', () => {
    // Prepare
    const agg = aggregate([
      { partitionKey: 'a', data: gzipSync('{"n":0}\n{"n":1}\n') },
      { partitionKey: 'b', data: Uint8Array.of(0x1f, 0x8b, 0x08, 0x00) }, // broken gzip
      { partitionKey: 'c', data: frameSnappy(text('{"n":3}\n')) },
      { partitionKey: 'd', data: text('{"n":4}') },
    ]);
    // Act
    const out = decodeRecord(sourceRecord(agg));
    // Assess
    expect(out.logs.map((l) => [l.subSequence, l.kplSubSequence, l.value.n])).toEqual([
      [0, 0, 0],
      [1, 0, 1],
      [3, 2, 3],
      [4, 3, 4],
    ]);
    expect(out.deadLetters).toHaveLength(1);
    expect(out.deadLetters[0]).toMatchObject({ reason: 'decompress_failed', subSequence: 2 });
    expect(out.deadLetters[0]!.message).toMatch(/^KPL sub-record 1: /);
  });

  it('reports a record without any line instead of dropping it silently', () => {
    const out = decodeRecord(sourceRecord(text('\n \r\n')));
    expect(out.logs).toEqual([]);
    expect(out.deadLetters.map((d) => [d.reason, d.subSequence])).toEqual([['invalid_json', undefined]]);
  });

  it('refuses a line over the 1 MiB request-log limit but keeps the others; the dead letter is the small compressed record', () => {
    const long = `{"pad":"${'x'.repeat(1_048_576)}"}`;
    const data = gzipSync(`{"n":0}\n${long}\n{"n":2}\n`);
    const out = decodeRecord(sourceRecord(data));
    expect(out.logs.map((l) => l.value.n)).toEqual([0, 2]);
    expect(out.deadLetters.map((d) => [d.reason, d.subSequence, d.data])).toEqual([
      ['too_large', undefined, data],
    ]);
    expect(out.deadLetters[0]!.message).toMatch(/line 1 of 1048586 bytes/);
  });

  it('an 8 MiB line inside gzip is one dead letter of the record as received, not of the inflated line', () => {
    const data = gzipSync(`{"pad":"${'y'.repeat(8 * 1024 * 1024 - 20)}"}\n`);
    const out = decodeRecord(sourceRecord(data));
    expect(out.logs).toEqual([]);
    expect(out.deadLetters).toHaveLength(1);
    expect(out.deadLetters[0]!.data.byteLength).toBe(data.byteLength);
    expect(data.byteLength).toBeLessThan(64 * 1024);
  });

  it('turns a record of millions of tiny lines into ONE dead letter with its original bytes, in bounded time', () => {
    // 2.7 million `{}` lines gzip to a few kilobytes.
    const data = gzipSync(Buffer.from('{}\n'.repeat(2_700_000)));
    const started = performance.now();
    const out = decodeRecord(sourceRecord(data));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(out.logs).toEqual([]);
    expect(out.deadLetters.map((d) => [d.reason, d.subSequence, d.data])).toEqual([
      ['too_large', undefined, data],
    ]);
    expect(out.deadLetters[0]!.message).toMatch(/more than 20000 lines/);
  });

  it('applies the configured bounds: lines per record and decompressed size', () => {
    const limits = DecodeConfig.parse({ maxLinesPerRecord: 3, maxDecompressedBytes: 4_096 });
    const four = text('{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n');
    const three = text('{"n":1}\n{"n":2}\n{"n":3}');
    expect(decodeRecord(sourceRecord(four), limits).deadLetters.map((d) => d.reason)).toEqual(['too_large']);
    expect(decodeRecord(sourceRecord(three), limits).logs).toHaveLength(3);
    const big = gzipSync(`{"pad":"${'z'.repeat(5_000)}"}\n`);
    expect(decodeRecord(sourceRecord(big), limits).deadLetters.map((d) => [d.reason, d.data])).toEqual([
      ['too_large', big],
    ]);
  });

  it('accepts lines that start with a UTF-8 byte-order mark, at the start of a record or of any line', () => {
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf);
    const data = Buffer.concat([bom, text('{"n":1}\n'), bom, text('{"n":2}\n')]);
    const out = decodeRecord(sourceRecord(data));
    expect(out.deadLetters).toEqual([]);
    expect(out.logs.map((l) => l.value.n)).toEqual([1, 2]);
    expect(decodeRecord(sourceRecord(gzipSync(data))).logs.map((l) => l.value.n)).toEqual([1, 2]);
  });

  it('keeps every byte of a line, CR and LF included, so a record can be rebuilt from its parts', () => {
    const data = Buffer.concat([text('{"n":1}\r\n'), Uint8Array.of(0x7b, 0xff, 0x0d, 0x0a), text('{"n":3}')]);
    const out = decodeRecord(sourceRecord(data));
    const parts = [
      ...out.logs.map((l) => [l.subSequence, l.raw]),
      ...out.deadLetters.map((d) => [d.subSequence, d.data]),
    ]
      .sort((a, b) => (a[0] as number) - (b[0] as number))
      .map(([, bytes]) => bytes as Uint8Array);
    expect(Buffer.concat(parts)).toEqual(data);
  });

  it('dead-letters decompression bombs as too_large', () => {
    const out = decodeRecord(sourceRecord(gzipSync(new Uint8Array(20 * 1024 * 1024))));
    expect(out.deadLetters.map((d) => d.reason)).toEqual(['too_large']);
  });

  it('does not mistake invalid JSON that merely starts like an escaped line for one', () => {
    const out = decodeRecord(sourceRecord(text('{\\"a\\":1\n{\\"a\\":\\"b\\"}\n')));
    expect(out.deadLetters.map((d) => [d.reason, d.subSequence])).toEqual([['invalid_json', 0]]);
    expect(out.logs.map((l) => [l.value, l.recoveredEscaped])).toEqual([[{ a: 'b' }, true]]);
  });
});
