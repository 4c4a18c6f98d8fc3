import type { RequestLog } from '../../schemas/request-log.ts';
import { type FbTime, toFluentBitLine } from './fluent-bit-line.ts';
import type { Prng } from './prng.ts';

/**
 * Lines that must end in the dead-letter sink, one kind per way real log shipping goes wrong.
 * Each maps to the dead-letter reason the pipeline should give it.
 */
export type MalformedKind =
  /** The app died mid-write: a JSON prefix. → `invalid_json` */
  | 'truncated_json'
  /** A stack trace or access-log line in the JSON stream (Fluent Bit without a parser). → `invalid_json` */
  | 'not_json'
  /** Valid JSON, but an array or a string. → `not_an_object` */
  | 'not_an_object'
  /** What Fluent Bit makes of a line its JSON parser rejected: `{"log":"<line>"}`. → `schema_violation` */
  | 'fb_unparsed'
  /** A request log without `status`. → `schema_violation` */
  | 'missing_status'
  /** A request log with a string where a number belongs. → `schema_violation` */
  | 'wrong_type';

export const MALFORMED_KINDS: readonly MalformedKind[] = [
  'truncated_json',
  'not_json',
  'not_an_object',
  'fb_unparsed',
  'missing_status',
  'wrong_type',
];

const STACK_LINES = [
  '    at processTicksAndRejections (node:internal/process/task_queues:95:5)',
  'panic: runtime error: invalid memory address or nil pointer dereference',
  'Traceback (most recent call last):',
  '\tat com.example.api.OrderController.create(OrderController.java:118)',
  'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
];

const accessLogLine = (log: RequestLog): string =>
  `${log.ip ?? '-'} - - [15/Jan/2025:10:00:00 +0000] "${log.method} ${log.path} HTTP/1.1" ${log.status} ${log.bytes_out ?? 0} "-" "${log.user_agent ?? '-'}"`;

const garbage = (rng: Prng, log: RequestLog): string =>
  rng.chance(0.5) ? accessLogLine(log) : (rng.pick(STACK_LINES) as string);

/** One malformed Data line (newline-terminated, ASCII) built from `log`, of `kind` or a random kind. */
export const malformedLine = (
  rng: Prng,
  log: RequestLog,
  fbTime: FbTime,
  kind: MalformedKind = rng.pick(MALFORMED_KINDS),
): { readonly kind: MalformedKind; readonly line: string } => {
  switch (kind) {
    case 'truncated_json': {
      const full = toFluentBitLine(log, fbTime);
      // Any proper prefix of a JSON object is invalid JSON: its braces cannot balance.
      return { kind, line: `${full.slice(0, 1 + rng.int(full.length - 3))}\n` };
    }
    case 'not_json':
      return { kind, line: `${garbage(rng, log)}\n` };
    case 'not_an_object':
      return {
        kind,
        line: rng.chance(0.5)
          ? `${JSON.stringify([log.request_id ?? null, log.method, log.path, log.status])}\n`
          : `${JSON.stringify(`${log.method} ${log.path} ${log.status}`)}\n`,
      };
    case 'fb_unparsed':
      return { kind, line: toFluentBitLine({ log: garbage(rng, log) }, fbTime) };
    case 'missing_status': {
      const { status: _status, ...rest } = log;
      return { kind, line: toFluentBitLine(rest, fbTime) };
    }
    case 'wrong_type':
      return {
        kind,
        line: toFluentBitLine(
          rng.chance(0.5)
            ? { ...log, status: String(log.status) }
            : { ...log, latency_ms: `${log.latency_ms}ms` },
          fbTime,
        ),
      };
  }
};
