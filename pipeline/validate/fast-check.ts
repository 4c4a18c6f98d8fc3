import { LIMITS, type RequestLog, RequestLogV1 } from '../../schemas/request-log.ts';

const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(RequestLogV1.shape));

/**
 * A hand-written check of the common, valid request-log shape. Returns what zod's `RequestLogV1`
 * would return: the value itself, or a copy without unknown keys (zod strips them). Returns
 * undefined for anything unusual (object-valued `query`, header arrays, any violation), and the
 * caller falls back to zod, which also writes the error message. A test keeps the two in step.
 */
export function fastValidateLog(v: Record<string, unknown>): RequestLog | undefined {
  let unknownKeys = false;
  for (const key in v) {
    const x = v[key];
    switch (key) {
      case 'timestamp':
      case 'fb_time':
        if (!isTimestamp(x)) return undefined;
        break;
      case 'request_id':
      case 'project_id':
      case 'service':
        if (!isString(x, 1, LIMITS.maxIdLength)) return undefined;
        break;
      case 'method':
        if (!isString(x, 1, LIMITS.maxMethodLength)) return undefined;
        break;
      case 'path':
      case 'route':
        if (!isString(x, 1, LIMITS.maxPathLength)) return undefined;
        break;
      case 'query':
        if (!isString(x, 0, LIMITS.maxPathLength)) return undefined;
        break;
      case 'status':
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 100 || x > 599) return undefined;
        break;
      case 'latency_ms':
        if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) return undefined;
        break;
      case 'bytes_in':
      case 'bytes_out':
        if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) return undefined;
        break;
      case 'ip':
      case 'environment':
        if (!isString(x, 0, 64)) return undefined;
        break;
      case 'user_agent':
        if (!isString(x, 0, LIMITS.maxUserAgentLength)) return undefined;
        break;
      case 'protocol':
        if (!isString(x, 0, 16)) return undefined;
        break;
      case 'request_body':
      case 'response_body':
        if (typeof x !== 'string') return undefined;
        break;
      case 'headers':
        if (!isHeaders(x)) return undefined;
        break;
      default:
        unknownKeys = true;
    }
  }
  // Required keys: a missing one is `undefined`, which the checks above never saw.
  if (
    typeof v.project_id !== 'string' ||
    typeof v.method !== 'string' ||
    typeof v.path !== 'string' ||
    typeof v.status !== 'number' ||
    typeof v.latency_ms !== 'number'
  ) {
    return undefined;
  }
  return (unknownKeys ? knownOnly(v) : v) as RequestLog;
}

function knownOnly(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in v) if (KNOWN_KEYS.has(key)) out[key] = v[key];
  return out;
}

function isString(x: unknown, min: number, max: number): boolean {
  return typeof x === 'string' && x.length >= min && x.length <= max;
}

function isTimestamp(x: unknown): boolean {
  if (typeof x === 'string') return x.length >= 10 && x.length <= 40;
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

function isHeaders(x: unknown): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const h = x as Record<string, unknown>;
  let count = 0;
  for (const name in h) {
    if (++count > LIMITS.maxHeaders || name.length > 256) return false;
    const value = h[name];
    if (typeof value === 'string') {
      if (value.length > LIMITS.maxHeaderValueLength) return false;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
    } else if (typeof value !== 'boolean') {
      return false; // arrays and anything else: let zod decide
    }
  }
  return true;
}
