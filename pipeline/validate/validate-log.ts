import type { z } from 'zod';
import { LIMITS, type RequestLog, RequestLogV1 } from '../../schemas/request-log.ts';
import { redactSecretsInName } from '../enrich/secret-text.ts';
import { fastValidateLog } from './fast-check.ts';
import { parseTimestampMicros } from './parse-timestamp.ts';

export { parseTimestampMicros } from './parse-timestamp.ts';

export type ValidationResult =
  | {
      ok: true;
      log: RequestLog;
      /** The request time (`timestamp`, else `fb_time`) in µs, when the log has one: saves re-parsing. */
      tsMicros: bigint | undefined;
    }
  | { ok: false; message: string };

const MAX_ISSUES = 3;

const timestampText = 'ISO 8601 date-time (no zone means UTC) or epoch milliseconds >= 0';
const chars = (min: number, max: number): string => `string of ${min}..${max} characters`;
const headerValues = 'string, string[], number or boolean values';

/** What each top-level field must be, in the words a data engineer reads in a dead letter. */
const EXPECTED: Readonly<Record<string, string>> = {
  timestamp: timestampText,
  fb_time: timestampText,
  request_id: chars(1, LIMITS.maxIdLength),
  project_id: chars(1, LIMITS.maxIdLength),
  method: chars(1, LIMITS.maxMethodLength),
  path: chars(1, LIMITS.maxPathLength),
  query: `string of at most ${LIMITS.maxPathLength} characters or an object of at most ${LIMITS.maxQueryParams} ${headerValues}`,
  status: 'integer 100..599',
  latency_ms: 'number >= 0',
  bytes_in: 'integer >= 0',
  bytes_out: 'integer >= 0',
  ip: 'string of at most 64 characters',
  user_agent: `string of at most ${LIMITS.maxUserAgentLength} characters`,
  headers: `object of at most ${LIMITS.maxHeaders} headers with ${headerValues}`,
  request_body: 'string',
  response_body: 'string',
  protocol: 'string of at most 16 characters',
  service: `string of at most ${LIMITS.maxIdLength} characters`,
  environment: 'string of at most 64 characters',
};

/**
 * Checks a decoded JSON object against `RequestLogV1`, plus what zod cannot express: the request
 * time (`timestamp`, or `fb_time` when there is none) must be a real instant. A log with neither
 * is valid; the caller falls back to the record's arrival time.
 *
 * The common valid shape is checked by hand (zod costs several times more per record); anything
 * else goes through zod, which also writes the message: the failing fields (first 3), what each
 * must be, and what it was (its type and size, never its value), e.g.
 * `status: expected integer 100..599, got a string of 3 characters`.
 */
export function validateLog(value: Record<string, unknown>): ValidationResult {
  let log = fastValidateLog(value);
  if (log === undefined) {
    const parsed = RequestLogV1.safeParse(value);
    if (!parsed.success) return { ok: false, message: describeIssues(parsed.error.issues, value) };
    log = parsed.data;
  }
  const field = log.timestamp !== undefined ? 'timestamp' : log.fb_time !== undefined ? 'fb_time' : undefined;
  if (field === undefined) return { ok: true, log, tsMicros: undefined };
  const raw = log[field]!;
  const tsMicros = parseTimestampMicros(raw);
  if (tsMicros === undefined) {
    return { ok: false, message: `${field}: expected ${timestampText}, got ${preview(raw)}` };
  }
  return { ok: true, log, tsMicros };
}

function describeIssues(issues: readonly z.core.$ZodIssue[], value: Record<string, unknown>): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  let more = 0;
  for (const issue of issues) {
    const top = issue.path.length > 0 ? String(issue.path[0]) : '';
    const key = issue.path.map(quotableKey).join('.');
    const nested = issue.path.length > 1;
    // A union (timestamp, header values) reports one issue per branch; one line per field is enough.
    if (seen.has(nested ? key : top)) continue;
    seen.add(nested ? key : top);
    if (parts.length === MAX_ISSUES) {
      more++;
      continue;
    }
    if (top === '') {
      parts.push(issue.message);
    } else if (!nested && EXPECTED[top] !== undefined) {
      const got = top in value ? `got ${preview(value[top])}` : 'missing';
      parts.push(`${top}: expected ${EXPECTED[top]}, ${got}`);
    } else {
      parts.push(`${key}: ${issue.message}, got ${preview(valueAt(value, issue.path))}`);
    }
  }
  if (more > 0) parts.push(`(+${more} more)`);
  return parts.join('; ');
}

/**
 * A key as a dead letter's message may quote it: a short plain name (`x-api-key`, `expand`), else
 * only its length. Messages are stored and shown, and a key can be a credential (a token sent as a
 * header name or a query parameter's name), which the message must not repeat.
 */
function quotableKey(k: PropertyKey): string {
  const s = String(k);
  const plain = /^[A-Za-z0-9_.:-]{1,40}$/.test(s) && redactSecretsInName(s, 'key', []) === s;
  return plain ? s : `<a key of ${s.length} characters>`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * What a value was, without the value: its type and size. Messages land in dead letters and logs
 * that more people read than the data; a field that failed validation may hold a credential
 * (`headers.authorization` too long), so no part of it is quoted.
 */
function preview(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return v === '' ? 'an empty string' : `a string of ${v.length} characters`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return `an object of ${Object.keys(v).length} keys`;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'a non-finite number';
    return Number.isInteger(v) ? 'an integer' : 'a fractional number';
  }
  return `a ${typeof v}`;
}
