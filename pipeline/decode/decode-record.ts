import { LIMITS } from '../../schemas/request-log.ts';
import { deadLetterOf } from '../dead-letter/dead-letter-of.ts';
import { DecodeError } from '../errors.ts';
import type { DeadLetter, DeadLetterReason, SourceRecord } from '../types.ts';
import { decompress } from './decompress.ts';
import { deaggregate, isKplAggregated } from './kpl.ts';

/** One request log parsed out of a record. */
export interface DecodedLog {
  /** Ordinal of the log inside its Kinesis record, 0-based, counted across KPL sub-records. */
  readonly subSequence: number;
  /** Index of the KPL sub-record the log came from; undefined for plain records. */
  readonly kplSubSequence?: number;
  /** The line's bytes (after decompression, without its line break). */
  readonly bytes: Uint8Array;
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
const MAX_DETAIL_CHARS = 200;

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Context {
  readonly record: SourceRecord;
  readonly logs: DecodedLog[];
  readonly deadLetters: DeadLetter[];
  next: number;
}

/**
 * Turns one Kinesis record into request logs: KPL deaggregation (when the magic is there), then
 * per (sub)record decompression, then one JSON object per line. Fluent Bit sends one object and a
 * trailing '\n' per record, or many newline-terminated objects with `simple_aggregation`.
 *
 * Failures never lose neighbours: an undecodable record becomes one dead letter with its whole
 * Data; a bad line becomes a dead letter with that line's bytes and its `subSequence`.
 */
export function decodeRecord(record: SourceRecord): DecodeResult {
  const ctx: Context = { record, logs: [], deadLetters: [], next: 0 };
  const data = record.data;
  if (isKplAggregated(data)) {
    let subs: ReturnType<typeof deaggregate>;
    try {
      subs = deaggregate(data);
    } catch (e) {
      ctx.deadLetters.push(deadLetterOf(record, 'decode', reasonOf(e), messageOf(e), data, undefined));
      return ctx;
    }
    for (let k = 0; k < subs.length; k++) decodePayload(ctx, subs[k]!.data, k);
  } else {
    decodePayload(ctx, data, undefined);
  }
  if (ctx.logs.length === 0 && ctx.deadLetters.length === 0) {
    // Nothing is dropped silently: a record without a single line is itself a dead letter.
    const message = 'record holds no JSON line (empty or whitespace only); nothing to ingest';
    ctx.deadLetters.push(deadLetterOf(record, 'decode', 'invalid_json', message, data, undefined));
  }
  return ctx;
}

function decodePayload(ctx: Context, payload: Uint8Array, kpl: number | undefined): void {
  let bytes: Uint8Array;
  try {
    bytes = decompress(payload).data;
  } catch (e) {
    if (kpl === undefined) {
      ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', reasonOf(e), messageOf(e), payload, undefined));
    } else {
      const message = `KPL sub-record ${kpl}: ${messageOf(e)}`;
      ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', reasonOf(e), message, payload, ctx.next++));
    }
    return;
  }
  const n = bytes.length;
  let start = 0;
  while (start < n) {
    let nl = bytes.indexOf(LF, start);
    if (nl === -1) nl = n;
    let end = nl;
    if (end > start && bytes[end - 1] === CR) end--;
    if (end > start && !isBlank(bytes, start, end)) decodeLine(ctx, bytes.subarray(start, end), kpl);
    start = nl + 1;
  }
}

function decodeLine(ctx: Context, line: Uint8Array, kpl: number | undefined): void {
  const subSequence = ctx.next++;
  if (line.length > LIMITS.maxLineBytes) {
    const message = `line of ${line.length} bytes exceeds the ${LIMITS.maxLineBytes}-byte limit of a request log`;
    ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', 'too_large', message, line, subSequence));
    return;
  }
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    const message = 'line is not valid UTF-8; request logs must be UTF-8 JSON';
    ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', 'not_utf8', message, line, subSequence));
    return;
  }
  let value: unknown;
  let recoveredEscaped = false;
  try {
    value = JSON.parse(text);
  } catch (e) {
    value = unescapeQuoted(text);
    if (value === undefined) {
      const message = `line is not valid JSON: ${clip(e instanceof Error ? e.message : String(e))}`;
      ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', 'invalid_json', message, line, subSequence));
      return;
    }
    recoveredEscaped = true;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    const message = `line is JSON ${kind}, expected an object (one request log per line)`;
    ctx.deadLetters.push(deadLetterOf(ctx.record, 'decode', 'not_an_object', message, line, subSequence));
    return;
  }
  ctx.logs.push({
    subSequence,
    kplSubSequence: kpl,
    bytes: line,
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

function clip(s: string): string {
  return s.length > MAX_DETAIL_CHARS ? `${s.slice(0, MAX_DETAIL_CHARS)}…` : s;
}
