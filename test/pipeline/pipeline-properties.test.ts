import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRequestLogs, toFluentBitLine } from '../../consumers/demo/traffic-generator.ts';
import { PipelineConfig } from '../../pipeline/config.ts';
import { decodeDeadLetters } from '../../pipeline/dead-letter/dead-letter-sink.ts';
import { DEFAULT_DECODE_LIMITS, type DecodeConfig } from '../../pipeline/decode/decode-limits.ts';
import { aggregate } from '../../pipeline/decode/kpl.ts';
import { frameSnappy } from '../../pipeline/decode/snappy-framed.ts';
import { MemoryStore } from '../../pipeline/land/memory-store.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import type { DeadLetter, PipelineCounters, SourceRecord } from '../../pipeline/types.ts';

/**
 * Properties of decode → validate → dedupe → enrich → land over random and mutated records.
 *
 * The expectation for every record is computed from how the test built it (which codec, whether
 * its compression was corrupted, whether it is over a decode bound, which lines it holds), never
 * by calling the decoder. The rules it encodes are the documented contract of `decodeRecord`,
 * `decompress` and `DecodeConfig`:
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
 * needs no detail of how a bound is measured; the exact `maxLinesPerRecord` edge has its own tests.
 *
 * Bounded for CI: the file runs in ~10 s on two loaded cores with a fixed seed per property.
 * `FC_SEED=<n>` replays the seed fast-check prints with a failure (property k uses n + k), and
 * `FC_RUNS=<factor>` multiplies every property's runs for a local soak.
 */

const SEED = process.env.FC_SEED === undefined ? 20_261_122 : Number(process.env.FC_SEED);
const RUN_FACTOR = process.env.FC_RUNS === undefined ? 1 : Number(process.env.FC_RUNS);
/** Each property its own seed: they share arbitraries, and should not share inputs. */
const runs = <T>(n: number, salt: number): fc.Parameters<T> => ({
  seed: SEED + salt,
  numRuns: Math.ceil(n * RUN_FACTOR),
});

const SHARD = 'shardId-000000000007';
const T0 = Date.parse('2026-11-22T10:00:00Z');
const LF = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];
const encoder = new TextEncoder();

/**
 * Small bounds, so that random records cross them cheaply: ordinary records stay far below
 * (≤ 32 lines of ≤ ~4.5 KB each), the over-bound kinds far above.
 */
const SMALL_LIMITS: DecodeConfig = {
  maxDecompressedBytes: 65_536,
  maxLinesPerRecord: 64,
  maxLineBytes: 8_192,
};

/** 40 realistic lines (no line break): few enough that random picks repeat, i.e. exact duplicates. */
const POOL = [...generateRequestLogs(40, { seed: 11, startTime: T0 })].map((log) =>
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

type Codec = 'none' | 'gzip' | 'zstd' | 'snappy';

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

type RecordSpec =
  | { readonly kind: 'plain'; readonly payload: PayloadSpec }
  | {
      readonly kind: 'kpl';
      readonly subs: readonly PayloadSpec[];
      readonly corrupt: { readonly at: number; readonly xor: number } | undefined;
    }
  /** The Data of an earlier record again (Fluent Bit resending a chunk). */
  | { readonly kind: 'again'; readonly of: number };

/** Where one line's outcome must be: `sub` false means a dead letter of the record's whole Data. */
interface Slot {
  readonly data: Uint8Array;
  readonly sub: boolean;
  /** Set for an untouched pool line, so that its row can be told apart. */
  readonly requestId?: string;
  /** A row may land for it (false for payload-level and over-long-line dead letters). */
  readonly line: boolean;
}

interface Expected {
  /** The record is refused as a whole: one dead letter of its Data, nothing else. */
  readonly whole: boolean;
  /** Per subSequence, when not whole. */
  readonly slots: readonly Slot[];
  /** Non-blank lines offered, for the record as built (whole-record refusals count them as one). */
  readonly lines: number;
}

interface BuiltRecord {
  readonly record: SourceRecord;
  readonly expected: Expected;
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => {
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
const zstdRle = (byte: number, blocks: number): Uint8Array => {
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
  }
};

/** Damage each codec detects: gzip's CRC, a zstd frame cut short, a reserved snappy chunk type. */
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

const sourceRecord = (data: Uint8Array, index: number): SourceRecord => ({
  shardId: SHARD,
  sequenceNumber: String(49_000_000 + index),
  partitionKey: `pk-${index % 3}`,
  arrivedAt: new Date(T0 + index),
  data,
});

const buildRecords = (specs: readonly RecordSpec[]): BuiltRecord[] => {
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

const codecArb = fc.constantFrom<Codec>('none', 'gzip', 'zstd', 'snappy');

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
      codec: fc.constantFrom('gzip' as const, 'zstd' as const, 'snappy' as const),
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
const specsArb = fc.array(recordSpecArb, { minLength: 1, maxLength: 12 });

// ---------------------------------------------------------------------------------------------
// Running the real pipeline
// ---------------------------------------------------------------------------------------------

interface LandedRow {
  readonly sequenceNumber: string;
  readonly subSequence: number;
  readonly requestId: string;
}

interface Run {
  readonly rows: LandedRow[];
  /** As landed, file by file, in order. */
  readonly letters: DeadLetter[];
  /** Duplicates counted while each record was processed (only when fed one record per call). */
  readonly duplicates: Map<string, number>;
  readonly counters: PipelineCounters;
  readonly landed: LandedBatch[];
  readonly objects: { key: string; body: Uint8Array }[];
  /** Longest processRecords call per record (one record per call only). */
  readonly millis: Map<string, number>;
}

let dir: string;
let duck: DuckDBInstance;
let db: DuckDBConnection;
let parquetFiles = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-properties-'));
  duck = await DuckDBInstance.create(':memory:');
  db = await duck.connect();
});

afterAll(async () => {
  db.closeSync();
  duck.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const readRows = async (body: Uint8Array): Promise<LandedRow[]> => {
  const file = join(dir, `${parquetFiles++}.parquet`);
  await writeFile(file, body);
  const result = await db.runAndReadAll(
    `SELECT sequence_number, sub_sequence, request_id FROM read_parquet('${file}')`,
  );
  await rm(file);
  return result.getRowObjects().map((r) => ({
    sequenceNumber: String(r.sequence_number),
    subSequence: Number(r.sub_sequence),
    requestId: String(r.request_id),
  }));
};

/**
 * Feeds `records` to a fresh pipeline, either one per `processRecords` call (so that duplicates
 * can be told per record) or all in one call, then `shutdownRequested`, and reads back what landed.
 */
const runPipeline = async (
  records: readonly SourceRecord[],
  mode: 'per-record' | 'one-call',
  decode: DecodeConfig = SMALL_LIMITS,
  afterEach?: () => void,
): Promise<Run> => {
  const store = new MemoryStore();
  const landed: LandedBatch[] = [];
  const config = PipelineConfig.parse({
    batch: { maxAgeMs: 15 * 60_000 },
    decode,
    enrich: { geoIp: false },
  });
  const pipeline = await Pipeline.create(config, { store, onLanded: (b) => landed.push(b) });
  const duplicates = new Map<string, number>();
  const millis = new Map<string, number>();
  try {
    const processor = pipeline.create(SHARD);
    if (mode === 'one-call') {
      await processor.processRecords(records);
    } else {
      for (const record of records) {
        const before = pipeline.counters.deduplicated;
        const started = performance.now();
        await processor.processRecords([record]);
        millis.set(record.sequenceNumber, performance.now() - started);
        duplicates.set(record.sequenceNumber, pipeline.counters.deduplicated - before);
        afterEach?.();
      }
    }
    await processor.shutdownRequested();
  } finally {
    await pipeline.close();
  }
  const rows: LandedRow[] = [];
  const letters: DeadLetter[] = [];
  const objects: { key: string; body: Uint8Array }[] = [];
  for (const key of store.puts) {
    const body = await store.get(key);
    objects.push({ key, body });
    if (key.endsWith('.parquet')) rows.push(...(await readRows(body)));
    else if (key.endsWith('.jsonl')) letters.push(...decodeDeadLetters(body));
    else throw new Error(`unexpected object ${key}`);
  }
  return { rows, letters, duplicates, counters: { ...pipeline.counters }, landed, objects, millis };
};

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

const groupBy = <T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
};

/** Each record's outcomes: rows and dead letters by sequence number, duplicates counted per record. */
const assertAccounting = (built: readonly BuiltRecord[], run: Run): void => {
  const rowsBySeq = groupBy(run.rows, (r) => r.sequenceNumber);
  const lettersBySeq = groupBy(run.letters, (l) => l.sequenceNumber);
  let expectedOutcomes = 0;
  for (const { record, expected } of built) {
    const seq = record.sequenceNumber;
    const rows = rowsBySeq.get(seq) ?? [];
    const letters = lettersBySeq.get(seq) ?? [];
    const duplicates = run.duplicates.get(seq) ?? 0;
    const context = `record ${seq} (${expected.lines} lines, whole=${expected.whole})`;
    if (expected.whole) {
      expect({ rows: rows.length, letters: letters.length, duplicates }, context).toEqual({
        rows: 0,
        letters: 1,
        duplicates: 0,
      });
      expect(letters[0]!.subSequence, context).toBeUndefined();
      expect(sameBytes(letters[0]!.data, record.data), `${context}: dead letter holds the whole Data`).toBe(
        true,
      );
      expectedOutcomes += 1;
      continue;
    }
    expect(rows.length + letters.length + duplicates, context).toBe(expected.slots.length);
    expectedOutcomes += expected.slots.length;
  }
  expect(run.rows.length + run.letters.length + run.counters.deduplicated).toBe(expectedOutcomes);
  expect(run.counters.records).toBe(built.length);
  expect(run.counters.landed).toBe(run.rows.length);
  expect(run.counters.deadLettered).toBe(run.letters.length);
  expect(run.landed.reduce((n, b) => n + b.rows, 0)).toBe(run.rows.length);
  expect(run.landed.reduce((n, b) => n + b.deadLetters, 0)).toBe(run.letters.length);
  // Every decoded log is a row, a duplicate or a validate/enrich dead letter.
  const lateLetters = run.letters.filter((l) => l.stage !== 'decode').length;
  expect(run.counters.logs).toBe(run.rows.length + run.counters.deduplicated + lateLetters);
};

/** Every dead letter's bytes are in the input, verbatim, at the place it names; rows sit in line slots. */
const assertPlaces = (built: readonly BuiltRecord[], run: Run): void => {
  const bySeq = new Map(built.map((b) => [b.record.sequenceNumber, b]));
  const taken = new Set<string>();
  const take = (seq: string, sub: number, what: string) => {
    const key = `${seq}/${sub}`;
    expect(taken.has(key), `${what} ${key} is the second outcome of one line`).toBe(false);
    taken.add(key);
  };
  for (const letter of run.letters) {
    const b = bySeq.get(letter.sequenceNumber);
    expect(b, `dead letter for unknown record ${letter.sequenceNumber}`).toBeDefined();
    const { record, expected } = b!;
    expect(letter.shardId).toBe(record.shardId);
    expect(letter.partitionKey).toBe(record.partitionKey);
    expect(letter.arrivedAt.getTime()).toBe(record.arrivedAt.getTime());
    const where = `dead letter ${letter.reason} of ${letter.sequenceNumber}/${letter.subSequence ?? '-'}`;
    if (letter.subSequence === undefined) {
      // The whole Data: a refused record, or (compressed plain record) one over-long line of it.
      expect(sameBytes(letter.data, record.data), `${where} holds the record's Data`).toBe(true);
      expect(expected.whole || expected.slots.some((s) => !s.sub), where).toBe(true);
      continue;
    }
    const slot = expected.slots[letter.subSequence];
    expect(slot, `${where}: no such line`).toBeDefined();
    expect(slot!.sub, where).toBe(true);
    expect(sameBytes(letter.data, slot!.data), `${where} holds the bytes at its place`).toBe(true);
    take(letter.sequenceNumber, letter.subSequence, 'dead letter');
  }
  for (const row of run.rows) {
    const slot = bySeq.get(row.sequenceNumber)?.expected.slots[row.subSequence];
    const where = `row ${row.sequenceNumber}/${row.subSequence}`;
    expect(slot?.line, `${where} lands from a line`).toBe(true);
    if (slot?.requestId !== undefined) expect(row.requestId, where).toBe(slot.requestId);
    take(row.sequenceNumber, row.subSequence, 'row');
  }
};

type Outcome = 'row' | 'dead letter' | 'duplicate';

/** What became of line `sub` of record `seq`: no row and no dead letter at its place is a duplicate. */
const outcomeOf = (run: Run, seq: string, sub: number): Outcome => {
  if (run.rows.some((r) => r.sequenceNumber === seq && r.subSequence === sub)) return 'row';
  if (run.letters.some((l) => l.sequenceNumber === seq && l.subSequence === sub)) return 'dead letter';
  return 'duplicate';
};

const lettersSummary = (run: Run) =>
  run.letters.map((l) => [l.sequenceNumber, l.subSequence ?? null, l.reason, l.stage]);

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('decode → validate → dedupe → enrich → land, over random and mutated records', () => {
  it('puts every line of every record in exactly one place: row, dead letter or duplicate', async () => {
    await fc.assert(
      fc.asyncProperty(specsArb, async (specs) => {
        // Prepare
        const built = buildRecords(specs);

        // Act
        const run = await runPipeline(
          built.map((b) => b.record),
          'per-record',
        );

        // Assess
        assertAccounting(built, run);
        assertPlaces(built, run);
      }),
      runs(100, 1),
    );
  });

  it('keeps in every dead letter the bytes at the place it names, and judges each line on its own', async () => {
    await fc.assert(
      fc.asyncProperty(specsArb, async (specs) => {
        // Prepare
        const built = buildRecords(specs);
        const run = await runPipeline(
          built.map((b) => b.record),
          'per-record',
        );
        assertPlaces(built, run);
        // Each line of the records, replayed as a record of its own (a dead letter's bytes as a
        // replay tool sends them back), with its original arrival time and in the original order.
        const original: Outcome[] = [];
        const replays: SourceRecord[] = [];
        for (const { record, expected } of built) {
          for (const [sub, slot] of expected.slots.entries()) {
            if (!slot.line) continue;
            original.push(outcomeOf(run, record.sequenceNumber, sub));
            replays.push({ ...sourceRecord(slot.data, replays.length), arrivedAt: record.arrivedAt });
          }
        }

        // Act
        const replayed = await runPipeline(replays, 'per-record');

        // Assess: a line's verdict does not depend on its neighbours, codec or aggregation.
        const again = replays.map((r) => {
          if (replayed.rows.some((row) => row.sequenceNumber === r.sequenceNumber)) return 'row';
          if (replayed.letters.some((l) => l.sequenceNumber === r.sequenceNumber)) return 'dead letter';
          return replayed.duplicates.get(r.sequenceNumber) === 1 ? 'duplicate' : 'lost';
        });
        expect(again).toEqual(original);
      }),
      runs(40, 2),
    );
  });

  it('gives the same rows, dead letters and files for the same records, however they are fed', async () => {
    await fc.assert(
      fc.asyncProperty(specsArb, async (specs) => {
        // Prepare
        const records = buildRecords(specs).map((b) => b.record);

        // Act: three fresh pipelines.
        const perRecord = await runPipeline(records, 'per-record');
        const first = await runPipeline(records, 'one-call');
        const second = await runPipeline(records, 'one-call');

        // Assess
        for (const run of [first, second]) {
          expect(run.rows).toEqual(perRecord.rows);
          expect(lettersSummary(run)).toEqual(lettersSummary(perRecord));
          expect(run.counters).toEqual(perRecord.counters);
        }
        expect(second.objects.map((o) => o.key)).toEqual(first.objects.map((o) => o.key));
        for (const [i, o] of first.objects.entries()) {
          expect(sameBytes(second.objects[i]!.body, o.body), `object ${o.key} differs between runs`).toBe(
            true,
          );
        }
      }),
      runs(25, 3),
    );
  });

  describe('maxLinesPerRecord', () => {
    const LIMITS: DecodeConfig = { ...SMALL_LIMITS, maxLinesPerRecord: 8 };
    const linesRecord = (n: number, finalBreak: boolean, codec: Codec): BuiltRecord[] =>
      buildRecords([
        {
          kind: 'plain',
          payload: {
            kind: 'lines',
            lines: Array.from({ length: n }, (_, i) => ({
              kind: 'log' as const,
              base: i,
              mutation: { kind: 'none' as const },
              bom: false,
              crlf: false,
            })),
            finalBreak,
            codec,
            corrupt: false,
          },
        },
      ]);

    it('admits a record of up to maxLinesPerRecord lines, with or without a final line break', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: LIMITS.maxLinesPerRecord }),
          fc.boolean(),
          codecArb,
          async (n, finalBreak, codec) => {
            const built = linesRecord(n, finalBreak, codec);
            const run = await runPipeline([built[0]!.record], 'per-record', LIMITS);
            expect(run.rows.length).toBe(n);
          },
        ),
        runs(12, 4),
      );
    });

    /**
     * KNOWN BUG (pipeline/decode/decode-record.ts, decodePayload): the bound is checked by counting
     * line FEEDS before parsing, so a last line without a trailing '\n' is not counted and a record
     * of maxLinesPerRecord + 1 lines is admitted whole, against `DecodeConfig.maxLinesPerRecord`
     * ("Most request-log lines one record may hold") and `decodeRecord`'s contract ("holds more than
     * `maxLinesPerRecord` lines is one dead letter"). Minimal counterexample with maxLinesPerRecord 3:
     * Data `{}\n{}\n{}\n{}` (4 lines, 3 line feeds) yields 4 logs instead of one too_large dead letter.
     * The overshoot is one line per record, so memory stays bounded; the property stays, marked
     * `fails`, until decode-record.ts counts the unterminated last line (then drop `.fails`).
     */
    it.fails('refuses whole a record of maxLinesPerRecord + 1 lines, even without a final line break', async () => {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), codecArb, async (finalBreak, codec) => {
          const built = linesRecord(LIMITS.maxLinesPerRecord + 1, finalBreak, codec);
          const run = await runPipeline([built[0]!.record], 'per-record', LIMITS);
          expect(run.rows.length).toBe(0);
          expect(run.letters.map((l) => l.reason)).toEqual(['too_large']);
        }),
        runs(8, 5),
      );
    });

    it('refuses whole a record of maxLinesPerRecord + 1 newline-terminated lines', async () => {
      await fc.assert(
        fc.asyncProperty(codecArb, async (codec) => {
          const built = linesRecord(LIMITS.maxLinesPerRecord + 1, true, codec);
          const run = await runPipeline([built[0]!.record], 'per-record', LIMITS);
          expect(run.rows.length).toBe(0);
          expect(run.letters.map((l) => l.reason)).toEqual(['too_large']);
          expect(sameBytes(run.letters[0]!.data, built[0]!.record.data)).toBe(true);
        }),
        runs(4, 6),
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile records against the default bounds
// ---------------------------------------------------------------------------------------------

interface Hostile {
  readonly name: string;
  readonly data: Uint8Array;
  /** One dead letter of the whole Data, or this many per-line outcomes. */
  readonly expect: 'whole' | number;
}

const MiB = 1024 * 1024;

/** Built once (some take a few hundred ms): the property measures processing, not building. */
const hostileRecords = (): Hostile[] => {
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
    {
      name: 'request_body of 200k emoji',
      data: text(withField('request_body', JSON.stringify('😀'.repeat(200_000)))),
      expect: 1,
    },
  ];
  return list.map((h) => ({ ...h, data: new Uint8Array(h.data) }));
};

/**
 * Per-record time: the largest admitted record (20,000 lines, each a dead letter) takes well under
 * a second on a quiet core; 10 s leaves room for a loaded CI machine yet fails any work that grows
 * with the inflated size (a 1 GiB bomb) or super-linearly with nesting, keys or string length.
 */
const PER_RECORD_MS = 10_000;
/**
 * RSS growth over a whole run. The legitimate peak is one record's inflated Data (≤ 8 MiB), its
 * parsed lines (a 1 MiB line is a few MiB of JS objects), a batch of ≤ 20,000 dead letters and one
 * Parquet encode: tens of MiB. 300 MB fails an unbounded inflate of any of the 1 GiB bombs.
 */
const MAX_RSS_GROWTH = 300 * MiB;

describe('hostile records, default decode bounds', () => {
  let hostile: Hostile[];
  beforeAll(() => {
    hostile = hostileRecords();
  });

  it('end each in one dead letter or their per-line outcomes, in bounded time and memory', async () => {
    const all = hostile.map((_, i) => i);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(all, { minLength: 1 }), async (picked) => {
        // Prepare
        const cases = picked.map((i) => hostile[i]!);
        const built: BuiltRecord[] = cases.map((h, i) => ({
          record: sourceRecord(h.data, i),
          expected:
            h.expect === 'whole'
              ? { whole: true, slots: [], lines: 0 }
              : {
                  whole: false,
                  slots: Array.from({ length: h.expect }, () => ({ data: h.data, sub: true, line: true })),
                  lines: h.expect,
                },
        }));
        const baseline = process.memoryUsage.rss();
        let peak = baseline;

        // Act
        const run = await runPipeline(
          built.map((b) => b.record),
          'per-record',
          DEFAULT_DECODE_LIMITS,
          () => {
            peak = Math.max(peak, process.memoryUsage.rss());
          },
        );
        peak = Math.max(peak, process.memoryUsage.rss());

        // Assess
        assertAccounting(built, run);
        for (const [i, h] of cases.entries()) {
          const ms = run.millis.get(built[i]!.record.sequenceNumber)!;
          expect(ms, `${h.name} took ${Math.round(ms)} ms`).toBeLessThan(PER_RECORD_MS);
        }
        expect(peak - baseline, 'RSS growth over the run').toBeLessThan(MAX_RSS_GROWTH);
      }),
      { ...runs<[number[]]>(3, 7), examples: [[all]] },
    );
  });
});
