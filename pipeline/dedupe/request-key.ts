import { createHash } from 'node:crypto';
import { LIMITS, type RequestLog } from '../../schemas/request-log.ts';

export interface RequestKey {
  readonly requestId: string;
  /** True when the app sent no id and it was derived from the line's content. */
  readonly derived: boolean;
}

const HASH_CHARS = 22; // 132 bits of base64url: collisions are out of reach at any realistic volume
const FB_TIME_KEY = Buffer.from(',"fb_time":');
const CLOSE_BRACE = 0x7d;
const CLOSING = Uint8Array.of(CLOSE_BRACE);

/**
 * The id a request is deduplicated by: `request_id`, else the `x-request-id` header (any case),
 * else `h:` + a hash of the line. Fluent Bit appends its read time as the last key (`fb_time`),
 * and a line read twice (tail restarts, rotation) differs only there, so that key (and trailing
 * whitespace) is left out of the hash: the same line with or without it gets the same id.
 */
export function requestKey(log: RequestLog, lineBytes: Uint8Array): RequestKey {
  if (log.request_id !== undefined) return { requestId: log.request_id, derived: false };
  const header = headerRequestId(log.headers);
  if (header !== undefined) return { requestId: header, derived: false };
  const hash = createHash('sha1');
  const fbTimeAt = trailingFbTime(lineBytes);
  if (fbTimeAt < 0) hash.update(lineBytes.subarray(0, contentEnd(lineBytes)));
  else hash.update(lineBytes.subarray(0, fbTimeAt)).update(CLOSING);
  const digest = hash.digest('base64url');
  return { requestId: `h:${digest.slice(0, HASH_CHARS)}`, derived: true };
}

/**
 * A request's identity, the same in the pipeline's window and in both warehouses' unique keys:
 * (project, request id, request time in µs). Request ids are only unique within a project, and
 * apps that supply their own ids reuse them (trace ids on retries, counters after a restart), so
 * the id alone would merge different requests; a resend of the same line (Fluent Bit retrying a
 * chunk, a tail re-read) carries the same id *and* the same time, so it is still one request.
 */
export function dedupeKey(projectId: string, requestId: string, tsMicros: bigint): string {
  // The project's length first: ids may hold any character, NUL included, so a separator alone
  // would let (`a\0x`, `y`) and (`a`, `x\0y`) meet. The time is digits, after the last NUL.
  return `${projectId.length}:${projectId}\u0000${requestId}\u0000${tsMicros}`;
}

function headerRequestId(headers: RequestLog['headers']): string | undefined {
  if (headers === undefined) return undefined;
  let value = headers['x-request-id'];
  if (value === undefined) {
    for (const name in headers) {
      if (name.length === 12 && name.toLowerCase() === 'x-request-id') {
        value = headers[name];
        break;
      }
    }
  }
  if (Array.isArray(value)) value = value[0];
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  const id = value.trim();
  // An oversized header is not trusted as an id: request_id's own limit applies.
  return id.length > 0 && id.length <= LIMITS.maxIdLength ? id : undefined;
}

/** Where the line's content ends, trailing whitespace (and a CR) left out. */
function contentEnd(line: Uint8Array): number {
  let end = line.length;
  while (end > 0 && isSpace(line[end - 1]!)) end--;
  return end;
}

/**
 * Where a trailing `,"fb_time":<scalar>}` starts, or -1. The scalar must be a plain string (no
 * escapes) or a number, so that the match cannot land inside a string value.
 */
function trailingFbTime(line: Uint8Array): number {
  const end = contentEnd(line);
  if (end === 0 || line[end - 1] !== CLOSE_BRACE) return -1;
  const buf = Buffer.from(line.buffer, line.byteOffset, end);
  const at = buf.lastIndexOf(FB_TIME_KEY);
  if (at < 0) return -1;
  const valueStart = at + FB_TIME_KEY.length;
  const last = end - 1;
  let i = valueStart;
  if (buf[i] === 0x22) {
    i++;
    while (i < last && buf[i] !== 0x22 && buf[i] !== 0x5c) i++;
    return i === last - 1 && buf[i] === 0x22 ? at : -1;
  }
  while (i < last && isNumberByte(buf[i]!)) i++;
  return i === last && i > valueStart ? at : -1;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

function isNumberByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x2d || b === 0x2b || b === 0x65 || b === 0x45;
}
