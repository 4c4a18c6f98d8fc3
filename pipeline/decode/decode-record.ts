import { deadLetterOf } from '../dead-letter/dead-letter-of.ts';
import { DecodeError } from '../errors.ts';
import type { DeadLetter, DeadLetterReason, SourceRecord } from '../types.ts';
import { DEFAULT_DECODE_LIMITS, type DecodeConfig } from './decode-limits.ts';
import { decompress } from './decompress.ts';
import { deaggregate, isKplAggregated } from './kpl.ts';

/** One request log parsed out of a record. */
export interface DecodedLog {
  /** Ordinal of the log inside its Kinesis record, 0-based, counted across KPL sub-records. */
  readonly subSequence: number;
  /** Index of the KPL sub-record the log came from; undefined for plain records. */
  readonly kplSubSequence?: number;
  /** The line's bytes (after decompression, without its line break or a leading byte-order mark). */
  readonly bytes: Uint8Array;
  /** The line exactly as it was in the record, line break included: what a dead letter keeps. */
  readonly raw: Uint8Array;
  readonly value: Record<string, unknown>;
  /**
   * The line arrived with its quotes backslash-escaped (Fluent Bit `log_key` without a parser)
   * and was recovered; callers count these so the sidecar config can be fixed.
   */
  readonly recoveredEscaped: boolean;
}

export interface DecodeResult {
  readonly logs: DecodedLog[];
  readonly deadLetters: DeadLetter[];
}

const LF = 0x0a;
const CR = 0x0d;
/** UTF-8 byte-order mark: some Windows tools start every file (or line) with it. */
const BOM = [0xef, 0xbb, 0xbf] as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Context {
  readonly record: SourceRecord;
  readonly limits: DecodeConfig;
  readonly logs: DecodedLog[];
  readonly deadLetters: DeadLetter[];
  next: number;
  /** Lines seen so far across the record's KPL sub-records, against `maxLinesPerRecord`. */
  lines: number;
  /**
   * Bytes its payloads came to once decompressed, across the record's KPL sub-records, against
   * `maxDecompressedBytes`: a bound per sub-record let one 82 KB record of ten gzip sub-records
   * inflate to 84 MB of dead letters.
   */
  inflated: number;
}

/** A record past a bound: it becomes one dead letter with its original bytes, nothing else of it. */
class RecordTooLarge extends Error {}

/**
 * Turns one Kinesis record into request logs: KPL deaggregation (when the magic is there), then
 * per (sub)record decompression, then one JSON object per line. Fluent Bit sends one object and a
 * trailing '\n' per record, or many newline-terminated objects with `simple_aggregation`.
 *
 * Failures never lose neighbours: an undecodable record becomes one dead letter with its whole
 * Data; a bad line becomes a dead letter with that line's bytes (line break included, so the
 * payload can be rebuilt byte for byte) and its `subSequence`.
 *
 * Work is bounded by `limits`, not by the input: a record that inflates past
 * `maxDecompressedBytes` or holds more than `maxLinesPerRecord` lines is one dead letter with the
 * record's original Data, and nothing else of it is kept.
 */
export function decodeRecord(
  record: SourceRecord,
  limits: DecodeConfig = DEFAULT_DECODE_LIMITS,
): DecodeResult {
  const ctx: Context = { record, limits, logs: [], deadLetters: [], next: 0, lines: 0, inflated: 0 };
  const data = record.data;
  try {
    if (isKplAggregated(data)) {
      let subs: ReturnType<typeof deaggregate>;
      try {
        subs = deaggregate(data);
      } catch (e) {
        ctx.deadLetters.push(deadLetterOf(record, 'decode', reasonOf(e), messageOf(e), data, undefined));
        return ctx;
      }
      if (subs.length > limits.maxLinesPerRecord) throw new RecordTooLarge(tooManyLines(limits));
      for (let k = 0; k < subs.length; k++) decodePayload(ctx, subs[k]!.data, k);
    } else {
      decodePayload(ctx, data, undefined);
    }
  } catch (e) {
    if (!(e instanceof RecordTooLarge)) throw e;
    const letter = deadLetterOf(record, 'decode', 'too_large', e.message, data, undefined);
    return { logs: [], deadLetters: [letter] };
  }
  if (ctx.logs.length === 0 && ctx.deadLetters.length === 0) {
    // Nothing is dropped silently: a record without a single line is itself a dead letter.
    const message = 'record holds no JSON line (empty or whitespace only); nothing to ingest';
    ctx.deadLetters.push(deadLetterOf(record, 'decode', 'invalid_json', message, data, undefined));
  }
  return ctx;
}

/** Inflated buffers up to this size are shared by the lines cut from them; larger ones are copied out of. */
const SHARE_INFLATED_BELOW = 64 * 1024;

function decodePayload(ctx: Context, payload: Uint8Array, kpl: number | undefined): void {
  let bytes: Uint8Array;
  let compressed: boolean;
  const budget = ctx.limits.maxDecompressedBytes - ctx.inflated;
  try {
    const out = decompress(payload, Math.max(1, budget));
    bytes = out.data;
    compressed = out.codec !== 'none';
  } catch (e) {
    if (e instanceof DecodeError && e.reason === 'too_large') {
      throw new RecordTooLarge(
        kpl === undefined || ctx.inflated === 0 ? e.message : inflatesPast(ctx.limits),
      );
    }
    if (kpl === undefined) {
      ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', reasonOf(e), messageOf(e), payload, undefined));
    } else {
      const message = `KPL sub-record ${kpl}: ${messageOf(e)}`;
      ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', reasonOf(e), message, payload, ctx.next++));
    }
    return;
  }
  const n = bytes.length;
  ctx.inflated += n;
  if (ctx.inflated > ctx.limits.maxDecompressedBytes) throw new RecordTooLarge(inflatesPast(ctx.limits));
  // Counted before any line is parsed: a record over the bound costs one pass of indexOf, no more.
  let lines = ctx.lines;
  for (let at = bytes.indexOf(LF); at !== -1 && at < n; at = bytes.indexOf(LF, at + 1)) {
    if (++lines > ctx.limits.maxLinesPerRecord) throw new RecordTooLarge(tooManyLines(ctx.limits));
  }
  // A last line without a line break is a line too (blank lines count: the bound is on work).
  if (n > 0 && bytes[n - 1] !== LF && ++lines > ctx.limits.maxLinesPerRecord) {
    throw new RecordTooLarge(tooManyLines(ctx.limits));
  }
  let start = 0;
  while (start < n) {
    let nl = bytes.indexOf(LF, start);
    if (nl === -1) nl = n;
    let end = nl;
    if (end > start && bytes[end - 1] === CR) end--;
    let from = start;
    if (hasBom(bytes, from, end)) from += BOM.length;
    if (end > from && !isBlank(bytes, from, end)) {
      ctx.lines++;
      let raw = bytes.subarray(start, Math.min(nl + 1, n));
      let line = bytes.subarray(from, end);
      // (A line over maxLineBytes is not kept: no copy.)
      if (compressed && bytes.byteLength > SHARE_INFLATED_BELOW && end - from <= ctx.limits.maxLineBytes) {
        // A kept view would keep the whole inflated buffer (up to maxDecompressedBytes) for as
        // long as its row or dead letter is held, counted as one line: the line gets its own copy.
        raw = new Uint8Array(raw); // a copy (Buffer#slice would be another view)
        line = raw.subarray(from - start, end - start);
      }
      decodeLine(ctx, line, raw, kpl, compressed ? payload : undefined);
    }
    start = nl + 1;
  }
}

function decodeLine(
  ctx: Context,
  line: Uint8Array,
  raw: Uint8Array,
  kpl: number | undefined,
  compressedPayload: Uint8Array | undefined,
): void {
  const subSequence = ctx.next++;
  const { maxLineBytes } = ctx.limits;
  if (line.length > maxLineBytes) {
    // An inflated giant line is never stored: the (small) compressed record is, which holds it.
    const whole = compressedPayload !== undefined && kpl === undefined;
    const message = `line ${subSequence} of ${line.length} bytes exceeds the ${maxLineBytes}-byte limit of a request log${whole ? '; the dead letter holds the whole record as received (compressed)' : ''}`;
    ctx.deadLetters.push(
      whole
        ? deadLetterOf(ctx.record, 'decode', 'too_large', message, ctx.record.data, undefined)
        : deadLetterOf(ctx.record, 'decode', 'too_large', message, compressedPayload ?? raw, subSequence),
    );
    return;
  }
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    const message = 'line is not valid UTF-8; request logs must be UTF-8 JSON';
    ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', 'not_utf8', message, raw, subSequence));
    return;
  }
  let value: unknown;
  let recoveredEscaped = false;
  try {
    value = JSON.parse(text);
  } catch (e) {
    value = unescapeQuoted(text);
    if (value === undefined) {
      const message = `line is not valid JSON${jsonErrorPosition(e)}`;
      ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', 'invalid_json', message, raw, subSequence));
      return;
    }
    recoveredEscaped = true;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    const message = `line is JSON ${kind}, expected an object (one request log per line)`;
    ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', 'not_an_object', message, raw, subSequence));
    return;
  }
  ctx.logs.push({
    subSequence,
    kplSubSequence: kpl,
    bytes: line,
    raw,
    value: value as Record<string, unknown>,
    recoveredEscaped,
  });
}

/**
 * Fluent Bit with `log_key` and no parser ships the raw line as a string value, so its quotes
 * arrive backslash-escaped: `{\"status\":200}`. Read it as the body of a JSON string, then parse
 * what that yields. Returns undefined unless the result is a JSON object.
 */
function unescapeQuoted(text: string): Record<string, unknown> | undefined {
  if (text.charCodeAt(0) !== 0x7b || text.charCodeAt(1) !== 0x5c) return undefined;
  try {
    const inner: unknown = JSON.parse(`"${text}"`);
    if (typeof inner !== 'string') return undefined;
    const value: unknown = JSON.parse(inner);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function hasBom(bytes: Uint8Array, start: number, end: number): boolean {
  return (
    end - start >= 3 && bytes[start] === BOM[0] && bytes[start + 1] === BOM[1] && bytes[start + 2] === BOM[2]
  );
}

const inflatesPast = (limits: DecodeConfig): string =>
  `the record's KPL sub-records come to more than ${limits.maxDecompressedBytes} bytes together once decompressed (decode.maxDecompressedBytes), far beyond any request log; the record is kept whole, as received`;

function tooManyLines(limits: DecodeConfig): string {
  return `record holds more than ${limits.maxLinesPerRecord} lines (decode.maxLinesPerRecord); it is kept whole as one dead letter, unprocessed`;
}

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== CR) return false;
  }
  return true;
}

function reasonOf(e: unknown): DeadLetterReason {
  if (e instanceof DecodeError) {
    if (e.reason === 'kpl_corrupt' || e.reason === 'too_large') return e.reason;
    return 'decompress_failed';
  }
  return 'decompress_failed';
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Where JSON.parse gave up, never what it saw: V8's messages quote the text around the error
 * (`Unexpected token 'x', "…secret…" is not valid JSON`), and dead-letter messages quote no value.
 */
function jsonErrorPosition(e: unknown): string {
  const position = /position (\d+)/.exec(e instanceof Error ? e.message : '')?.[1];
  return position === undefined ? ' (truncated or malformed)' : ` (error at character ${position})`;
}
