import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { generateRequestLogs, toFluentBitLine } from '../../fluent-bit/demo/traffic-generator.ts';
import type { DecodeConfig } from '../../pipeline/decode/decode-limits.ts';
import { aggregate } from '../../pipeline/decode/kpl.ts';
import { frameSnappy } from '../../pipeline/decode/snappy-framed.ts';
import type { SourceRecord } from '../../pipeline/types.ts';

/**
 * Random and mutated Kinesis records for the pipeline properties, each built together with what
 * must become of it (`Expected`), from how it was built and never by calling the decoder. The
 * rules are the documented contract of `decodeRecord`, `decompress` and `DecodeConfig`:
 *
 * - a record that is over a bound (inflates past `maxDecompressedBytes`, holds more than
 *   `maxLinesPerRecord` lines, or more KPL sub-records than that), is KPL-corrupt, whose (plain)
 *   compression is corrupt, that is binary without a codec's magic, or that holds no line at all
 *   is ONE dead letter of its whole Data, and nothing else of it lands;
 * - otherwise every non-blank line (after a trailing CR and a leading BOM) is exactly one of: a
 *   landed row, a dead letter holding the line's bytes with its line break, or a duplicate; a KPL
 *   sub-record that does not decompress is one dead letter of its bytes in the place of its lines;
 *   a line over `maxLineBytes` is one dead letter of its (compressed) record or sub-record.
 *
 * Ordinary records stay far from each bound and over-bound ones far past it, so that the model
 * needs no detail of how a bound is measured.
 */

export const SHARD = 'shardId-000000000007';
export const T0 = Date.parse('2026-11-22T10:00:00Z');
const LF = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];
export const encoder = new TextEncoder();

/**
 * Small bounds, so that random records cross them cheaply: ordinary records stay far below
 * (≤ 32 lines of ≤ ~4.5 KB each), the over-bound kinds far above.
 */
export const SMALL_LIMITS: DecodeConfig = {
  maxDecompressedBytes: 65_536,
  maxLinesPerRecord: 64,
  maxLineBytes: 8_192,
};

/** 40 realistic lines (no line break): few enough that random picks repeat, i.e. exact duplicates. */
export const POOL = [...generateRequestLogs(40, { seed: 11, startTime: T0 })].map((log) =>
  toFluentBitLine(log, String(log.timestamp)).slice(0, -1),
);
const REQUEST_IDS = POOL.map((line) => (JSON.parse(line) as { request_id: string }).request_id);

const FIELDS = [
  'timestamp',
  'fb_time',
  'request_id',
  'project_id',
  'method',
  'path',
  'query',
  'status',
  'latency_ms',
  'bytes_in',
  'bytes_out',
  'ip',
  'user_agent',
  'headers',
  'request_body',
  'response_body',
  'protocol',
  'service',
  'environment',
] as const;

// ---------------------------------------------------------------------------------------------
// Record factories
// ---------------------------------------------------------------------------------------------

export type Codec = 'none' | 'gzip' | 'zstd' | 'snappy' | 'zlib';

type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'flip'; readonly at: number; readonly xor: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'dropQuote'; readonly nth: number }
  | { readonly kind: 'hugeNumber'; readonly field: string; readonly text: string }
  | { readonly kind: 'wrongType'; readonly field: string; readonly value: unknown }
  | { readonly kind: 'missing'; readonly field: string }
  | { readonly kind: 'unicode'; readonly field: string; readonly text: string }
  | { readonly kind: 'longString'; readonly field: string; readonly length: number }
  | { readonly kind: 'escaped' }
  | { readonly kind: 'junk'; readonly bytes: Uint8Array };

type LinePart =
  | {
      readonly kind: 'log';
      readonly base: number;
      readonly mutation: Mutation;
      readonly bom: boolean;
      readonly crlf: boolean;
    }
  | { readonly kind: 'blank'; readonly text: string }
  /** A line past `maxLineBytes`. */
  | { readonly kind: 'giant'; readonly crlf: boolean };

type PayloadSpec =
  | {
      readonly kind: 'lines';
      readonly lines: readonly LinePart[];
      readonly finalBreak: boolean;
      readonly codec: Codec;
      readonly corrupt: boolean;
    }
  /** More line breaks than `maxLinesPerRecord`. */
  | { readonly kind: 'tooManyLines'; readonly codec: Codec }
  /** Inflates past `maxDecompressedBytes` (compressed codecs only: plain Data is not inflated). */
  | { readonly kind: 'tooManyBytes'; readonly codec: Exclude<Codec, 'none'> }
  /** Lines around one or two lines past `maxLineBytes`. */
  | {
      readonly kind: 'giantLines';
      readonly before: readonly LinePart[];
      readonly giants: readonly LinePart[];
      readonly after: readonly LinePart[];
      readonly finalBreak: boolean;
      readonly codec: Codec;
    }
  /** Binary Data without any codec's magic. */
  | { readonly kind: 'garbage'; readonly bytes: Uint8Array };

export type RecordSpec =
  | { readonly kind: 'plain'; readonly payload: PayloadSpec }
  | {
      readonly kind: 'kpl';
      readonly subs: readonly PayloadSpec[];
      readonly corrupt: { readonly at: number; readonly xor: number } | undefined;
    }
  /** The Data of an earlier record again (Fluent Bit resending a chunk). */
  | { readonly kind: 'again'; readonly of: number };

/** Where one line's outcome must be: `sub` false means a dead letter of the record's whole Data. */
export interface Slot {
  readonly data: Uint8Array;
  readonly sub: boolean;
  /** Set for an untouched pool line, so that its row can be told apart. */
  readonly requestId?: string;
  /** A row may land for it (false for payload-level and over-long-line dead letters). */
  readonly line: boolean;
}

export interface Expected {
  /** The record is refused as a whole: one dead letter of its Data, nothing else. */
  readonly whole: boolean;
  /** Per subSequence, when not whole. */
  readonly slots: readonly Slot[];
  /** Non-blank lines offered, for the record as built (whole-record refusals count them as one). */
  readonly lines: number;
}

export interface BuiltRecord {
  readonly record: SourceRecord;
  readonly expected: Expected;
}

export const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/**
 * zstd frames of raw (stored) blocks. Node 20 has no zstd compressor and fzstd only decompresses;
 * stored blocks are valid zstd (RFC 8878 §3.1.1.2), which every decoder must accept. No content
 * size, no checksum, a 16 KiB window (blocks are at most the window): the decoder refuses a frame
 * whose window alone exceeds `maxDecompressedBytes`.
 */
const zstdStored = (data: Uint8Array): Uint8Array => {
  const BLOCK = 16 * 1024;
  const parts: Uint8Array[] = [Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 4 << 3)];
  if (data.length === 0) parts.push(Uint8Array.of(1, 0, 0));
  for (let off = 0; off < data.length; off += BLOCK) {
    const n = Math.min(BLOCK, data.length - off);
    const header = (off + n >= data.length ? 1 : 0) | (n << 3);
    parts.push(Uint8Array.of(header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff));
    parts.push(data.subarray(off, off + n));
  }
  return concat(parts);
};

/** A zstd frame of `blocks` RLE blocks of 128 KiB of `byte`: 4 bytes on the wire per 128 KiB inflated. */
export const zstdRle = (byte: number, blocks: number): Uint8Array => {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3];
  const n = 128 * 1024;
  for (let i = 0; i < blocks; i++) {
    const header = (i === blocks - 1 ? 1 : 0) | (1 << 1) | (n << 3);
    parts.push(header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, byte);
  }
  return Uint8Array.from(parts);
};

const compress = (data: Uint8Array, codec: Codec): Uint8Array => {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return new Uint8Array(gzipSync(data));
    case 'zstd':
      return zstdStored(data);
    case 'snappy':
      return frameSnappy(data);
    case 'zlib':
      return new Uint8Array(deflateSync(data));
  }
};

/**
 * Damage each codec detects: gzip's CRC, a zstd frame cut short, a reserved snappy chunk type,
 * zlib's Adler-32.
 */
const corruptCompressed = (wire: Uint8Array, codec: Exclude<Codec, 'none'>): Uint8Array => {
  switch (codec) {
    case 'gzip': {
      const out = wire.slice();
      out[out.length - 8]! ^= 0x01;
      return out;
    }
    case 'zstd':
      return wire.subarray(0, wire.length - 1);
    case 'snappy':
      return concat([wire, Uint8Array.of(0x02, 0, 0, 0)]);
    case 'zlib': {
      const out = wire.slice();
      out[out.length - 1]! ^= 0x01;
      return out;
    }
  }
};

const mutateJson = (base: string, edit: (log: Record<string, unknown>) => void): string => {
  const log = JSON.parse(base) as Record<string, unknown>;
  edit(log);
  return JSON.stringify(log);
};

/** No mutation adds a line break: line splitting is covered by the lines themselves. */
const noLineBreaks = (bytes: Uint8Array): Uint8Array => bytes.map((b) => (b === LF ? 0x0b : b));

const mutatedLine = (base: string, m: Mutation): Uint8Array => {
  const bytes = encoder.encode(base);
  switch (m.kind) {
    case 'none':
      return bytes;
    case 'flip': {
      const out = bytes.slice();
      const at = m.at % out.length;
      out[at] = out[at]! ^ m.xor;
      return noLineBreaks(out);
    }
    case 'truncate':
      return bytes.subarray(0, m.at % bytes.length);
    case 'insert': {
      const at = m.at % (bytes.length + 1);
      return concat([bytes.subarray(0, at), Uint8Array.from(m.bytes), bytes.subarray(at)]);
    }
    case 'dropQuote': {
      const quotes = [...bytes.keys()].filter((i) => bytes[i] === 0x22);
      const at = quotes[m.nth % quotes.length]!;
      return concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    }
    case 'hugeNumber':
      return encoder.encode(
        mutateJson(base, (log) => {
          log[m.field] = '@@HUGE@@';
        }).replace('"@@HUGE@@"', m.text),
      );
    case 'wrongType':
      return encoder.encode(
        mutateJson(base, (log) => {
          log[m.field] = m.value;
        }),
      );
    case 'missing':
      return encoder.encode(
        mutateJson(base, (log) => {
          delete log[m.field];
        }),
      );
    case 'unicode':
      return noLineBreaks(
        encoder.encode(
          mutateJson(base, (log) => {
            log[m.field] = m.text;
          }),
        ),
      );
    case 'longString':
      return encoder.encode(
        mutateJson(base, (log) => {
          log[m.field] = 'x'.repeat(m.length);
        }),
      );
    case 'escaped':
      // Fluent Bit `log_key` without a parser: the line arrives with its quotes backslash-escaped.
      return encoder.encode(base.replaceAll('\\', '\\\\').replaceAll('"', '\\"'));
    case 'junk':
      return noLineBreaks(m.bytes);
  }
};

/** The line's bytes in the record, line break included (the last may have none). */
const lineBytes = (part: LinePart): { bytes: Uint8Array; requestId?: string } => {
  if (part.kind === 'blank') return { bytes: encoder.encode(`${part.text}\n`) };
  if (part.kind === 'giant') {
    const body = `{"request_body":"${'a'.repeat(SMALL_LIMITS.maxLineBytes + 100)}"}`;
    return { bytes: encoder.encode(`${body}${part.crlf ? '\r\n' : '\n'}`) };
  }
  const body = mutatedLine(POOL[part.base]!, part.mutation);
  const bytes = concat([
    part.bom ? Uint8Array.from(BOM) : new Uint8Array(0),
    body,
    encoder.encode(part.crlf ? '\r\n' : '\n'),
  ]);
  return part.mutation.kind === 'none' ? { bytes, requestId: REQUEST_IDS[part.base]! } : { bytes };
};

/** The line's content as a request log: without its line break, one trailing CR and a leading BOM. */
const content = (raw: Uint8Array): Uint8Array => {
  let end = raw.length;
  if (end > 0 && raw[end - 1] === LF) end--;
  if (end > 0 && raw[end - 1] === CR) end--;
  let from = 0;
  if (end >= 3 && raw[0] === BOM[0] && raw[1] === BOM[1] && raw[2] === BOM[2]) from = 3;
  return raw.subarray(from, end);
};

const isBlank = (line: Uint8Array): boolean => line.every((b) => b === 0x20 || b === 0x09 || b === CR);

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x09 || b === LF || b === CR;

/** `decompress`'s documented rule for Data without a codec: text starts with printable ASCII (or a BOM). */
const startsLikeText = (data: Uint8Array): boolean => {
  if (data[0] === BOM[0] && data[1] === BOM[1] && data[2] === BOM[2] && startsLikeText(data.subarray(3))) {
    return true;
  }
  const first = data.find((b) => !isWhitespace(b));
  return first === undefined || (first > 0x20 && first < 0x7f);
};

/** What one payload (a plain record's Data, or a KPL sub-record) is and becomes. */
interface BuiltPayload {
  readonly wire: Uint8Array;
  /** Refused with its whole record (over a bound). */
  readonly overBound: boolean;
  /** Does not decompress (or is binary without a codec): one dead letter of `wire`. */
  readonly undecodable: boolean;
  readonly lines: readonly { raw: Uint8Array; requestId?: string }[];
  readonly codec: Codec;
  /** Non-blank lines as built, for the "lines offered" total. */
  readonly offered: number;
}

const buildPayload = (spec: PayloadSpec): BuiltPayload => {
  switch (spec.kind) {
    case 'lines': {
      const built = spec.lines.map(lineBytes);
      if (!spec.finalBreak && built.length > 0) {
        const last = built[built.length - 1]!;
        built[built.length - 1] = { ...last, bytes: last.bytes.subarray(0, last.bytes.length - 1) };
      }
      const plain = concat(built.map((l) => l.bytes));
      let wire = compress(plain, spec.codec);
      if (spec.corrupt && spec.codec !== 'none') wire = corruptCompressed(wire, spec.codec);
      const lines = built
        .filter((l) => !isBlank(content(l.bytes)))
        .map((l) =>
          l.requestId === undefined ? { raw: l.bytes } : { raw: l.bytes, requestId: l.requestId },
        );
      const undecodable = spec.codec === 'none' ? !startsLikeText(plain) : spec.corrupt;
      return { wire, overBound: false, undecodable, lines, codec: spec.codec, offered: lines.length };
    }
    case 'tooManyLines': {
      const n = SMALL_LIMITS.maxLinesPerRecord * 2;
      return {
        wire: compress(encoder.encode('{}\n'.repeat(n)), spec.codec),
        overBound: true,
        undecodable: false,
        lines: [],
        codec: spec.codec,
        offered: n,
      };
    }
    case 'tooManyBytes': {
      const filler = `{"request_body":"${' '.repeat(SMALL_LIMITS.maxDecompressedBytes)}"}\n`;
      return {
        wire: compress(encoder.encode(filler), spec.codec),
        overBound: true,
        undecodable: false,
        lines: [],
        codec: spec.codec,
        offered: 1,
      };
    }
    case 'giantLines':
      return buildPayload({
        kind: 'lines',
        lines: [...spec.before, ...spec.giants, ...spec.after],
        finalBreak: spec.finalBreak,
        codec: spec.codec,
        corrupt: false,
      });
    case 'garbage':
      return { wire: spec.bytes, overBound: false, undecodable: true, lines: [], codec: 'none', offered: 1 };
  }
};

/** The slots of a decodable payload; `plainWhole` is the record's Data when the payload is the record. */
const slotsOf = (p: BuiltPayload, plainWhole: Uint8Array | undefined): Slot[] =>
  p.lines.map(({ raw, requestId }) => {
    if (content(raw).length > SMALL_LIMITS.maxLineBytes) {
      // An inflated giant line is never stored: its compressed record (or sub-record) is.
      if (p.codec === 'none') return { data: raw, sub: true, line: false };
      if (plainWhole) return { data: plainWhole, sub: false, line: false };
      return { data: p.wire, sub: true, line: false };
    }
    return requestId === undefined
      ? { data: raw, sub: true, line: true }
      : { data: raw, sub: true, requestId, line: true };
  });

export const sourceRecord = (data: Uint8Array, index: number): SourceRecord => ({
  shardId: SHARD,
  sequenceNumber: String(49_000_000 + index),
  partitionKey: `pk-${index % 3}`,
  arrivedAt: new Date(T0 + index),
  data,
});

export const buildRecords = (specs: readonly RecordSpec[]): BuiltRecord[] => {
  const built: BuiltRecord[] = [];
  specs.forEach((spec, index) => {
    let data: Uint8Array;
    let expected: Expected;
    if (spec.kind === 'again') {
      const earlier = built[spec.of % Math.max(1, built.length)];
      data = earlier?.record.data ?? new Uint8Array(0);
      expected = earlier?.expected ?? { whole: true, slots: [], lines: 0 };
    } else if (spec.kind === 'plain') {
      const p = buildPayload(spec.payload);
      data = p.wire;
      const slots = slotsOf(p, data);
      const whole = p.overBound || p.undecodable || slots.length === 0;
      expected = { whole, slots: whole ? [] : slots, lines: p.offered };
    } else {
      const subs = spec.subs.map(buildPayload);
      data = aggregate(subs.map((s, k) => ({ partitionKey: `sub-${k % 2}`, data: s.wire })));
      if (spec.corrupt) {
        // Past the magic: the MD5 trailer no longer matches whatever byte changed.
        data = data.slice();
        const at = 4 + (spec.corrupt.at % (data.length - 4));
        data[at] = data[at]! ^ spec.corrupt.xor;
      }
      const slots = subs.flatMap((s): Slot[] =>
        s.undecodable ? [{ data: s.wire, sub: true, line: false }] : slotsOf(s, undefined),
      );
      const whole = spec.corrupt !== undefined || subs.some((s) => s.overBound) || slots.length === 0;
      expected = { whole, slots: whole ? [] : slots, lines: subs.reduce((n, s) => n + s.offered, 0) };
    }
    built.push({ record: sourceRecord(data, index), expected });
  });
  return built;
};

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const fieldArb = fc.constantFrom(...FIELDS);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    // NUL, lone bytes that are never UTF-8, a truncated sequence, a surrogate, an overlong NUL.
    bytes: fc.constantFrom([0x00], [0xff], [0xfe], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf0, 0x9f]),
  }),
  fc.record({ kind: fc.constant('dropQuote' as const), nth: fc.nat() }),
  fc.record({
    kind: fc.constant('hugeNumber' as const),
    field: fc.constantFrom('status', 'latency_ms', 'bytes_in', 'bytes_out', 'timestamp', 'fb_time'),
    text: fc.constantFrom(
      '1e400',
      '-1e400',
      '1e-400',
      '99999999999999999999999999999',
      '-9223372036854775809',
      '18446744073709551616',
      '1.7976931348623157e309',
      '-0',
      '2e15',
    ),
  }),
  fc.record({
    kind: fc.constant('wrongType' as const),
    field: fieldArb,
    value: fc.constantFrom<unknown>(
      null,
      true,
      0,
      -1,
      1.5,
      '',
      'x',
      [],
      {},
      [1, 2],
      { a: { b: 1 } },
      '2026-13-45T99:99:99Z',
    ),
  }),
  fc.record({ kind: fc.constant('missing' as const), field: fieldArb }),
  fc.record({
    kind: fc.constant('unicode' as const),
    field: fieldArb,
    text: fc.string({ unit: 'binary', maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant('longString' as const),
    field: fieldArb,
    length: fc.integer({ min: 100, max: 3_000 }),
  }),
  fc.constant({ kind: 'escaped' as const }),
  fc.record({ kind: fc.constant('junk' as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
);

const linePartArb: fc.Arbitrary<LinePart> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('log' as const),
      base: fc.nat(POOL.length - 1),
      mutation: mutationArb,
      bom: fc.boolean(),
      crlf: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('blank' as const),
      text: fc.constantFrom('', ' ', '\t', '\r', ' \t \r', '\uFEFF', '\uFEFF  '),
    }),
  },
);

export const codecArb = fc.constantFrom<Codec>('none', 'gzip', 'zstd', 'snappy', 'zlib');

/** Binary Data: a first byte that is no codec's magic, no BOM and not text. */
const garbageArb = fc
  .tuple(fc.integer({ min: 0x80, max: 0xee }), fc.uint8Array({ maxLength: 64 }))
  .map(([first, rest]) => concat([Uint8Array.of(first), rest]));

const payloadArb: fc.Arbitrary<PayloadSpec> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('lines' as const),
      lines: fc.array(linePartArb, { maxLength: 8 }),
      finalBreak: fc.boolean(),
      codec: codecArb,
      corrupt: fc.oneof(
        { weight: 5, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tooManyLines' as const), codec: codecArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('tooManyBytes' as const),
      codec: fc.constantFrom('gzip' as const, 'zstd' as const, 'snappy' as const, 'zlib' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('giantLines' as const),
      before: fc.array(linePartArb, { maxLength: 3 }),
      giants: fc.array(fc.record({ kind: fc.constant('giant' as const), crlf: fc.boolean() }), {
        minLength: 1,
        maxLength: 2,
      }),
      after: fc.array(linePartArb, { maxLength: 3 }),
      finalBreak: fc.boolean(),
      codec: codecArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: garbageArb }) },
);

const recordSpecArb: fc.Arbitrary<RecordSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('plain' as const), payload: payloadArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('kpl' as const),
      subs: fc.array(payloadArb, { maxLength: 4 }),
      corrupt: fc.oneof(
        { weight: 7, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('again' as const), of: fc.nat() }) },
);

/** Specs, not bytes: a failure then prints a readable counterexample. */
export const specsArb = fc.array(recordSpecArb, { minLength: 1, maxLength: 12 });
