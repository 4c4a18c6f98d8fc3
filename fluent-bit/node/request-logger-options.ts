import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ConfigError } from '../../pipeline/errors.ts';
import type { RequestLogFileError } from './errors.ts';

/**
 * Options of `createRequestLogger`. Checked once, when the logger is created; unknown keys are
 * errors that name the key.
 *
 * @example
 * { "projectId": "proj_alpha", "file": "/var/log/app/requests.jsonl", "service": "checkout",
 *   "maxBytes": 134217728, "maxFiles": 3, "reopenOnSighup": true }
 */

type ProjectIdOf = (req: IncomingMessage) => string;
type RequestIdOf = (req: IncomingMessage) => string | undefined;
type OnError = (error: RequestLogFileError) => void;

/** Request headers worth keeping that never carry credentials. */
export const DEFAULT_LOGGED_HEADERS = [
  'host',
  'content-type',
  'content-length',
  'accept',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-request-id',
  'referer',
] as const;

export const RequestLoggerOptions = z
  .object({
    projectId: z
      .union([
        z.string().min(1).max(128),
        z.custom<ProjectIdOf>((v) => typeof v === 'function', 'a function (req) => string'),
      ])
      .describe('The project or API the requests belong to, or a function of the request that returns it.'),
    file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Append lines to this file (tailed by fluent-bit/sidecar-tail.yaml); omit to write to stdout.',
      ),
    service: z.string().min(1).max(128).optional().describe('Service name written into every line.'),
    environment: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Deployment environment written into every line.'),
    headers: z
      .array(z.string().min(1).max(256))
      .max(64)
      .default([...DEFAULT_LOGGED_HEADERS])
      .describe(
        'Request headers to log (case-insensitive). An allow-list, so that credentials (authorization, cookie, API keys) are never written at all.',
      ),
    trustProxy: z
      .boolean()
      .default(false)
      .describe('Take the client IP from the first X-Forwarded-For address (only behind a proxy you run).'),
    requestId: z
      .custom<RequestIdOf>((v) => typeof v === 'function', 'a function (req) => string | undefined')
      .optional()
      .describe(
        'The app’s own id for a request, instead of a generated UUIDv7. The app promises it is unique within the project: two requests with the same id and timestamp are stored as one. Undefined, empty or longer than 128 characters: a generated id is used. Never pass the client’s x-request-id here.',
      ),
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .optional()
      .describe(
        'Rotate the file before it would grow past this many bytes (needs `file`). Omit to never rotate (then rotate it from outside and call reopen(), or set reopenOnSighup).',
      ),
    maxFiles: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(2)
      .describe(
        'Rotated files kept (`<file>.1` newest … `<file>.<maxFiles>` oldest); with maxBytes, disk use stays below (maxFiles + 1) × maxBytes.',
      ),
    reopenOnSighup: z
      .boolean()
      .default(false)
      .describe(
        'Reopen the file on SIGHUP (logrotate `postrotate kill -HUP`). Installing a SIGHUP listener stops SIGHUP from terminating the process.',
      ),
    onError: z
      .custom<OnError>((v) => typeof v === 'function', 'a function (error) => void')
      .optional()
      .describe(
        'Called when the file cannot be written (lines are dropped and counted); default: a process warning.',
      ),
  })
  .strict()
  .refine((o) => o.file !== undefined || (o.maxBytes === undefined && !o.reopenOnSighup), {
    message: 'maxBytes and reopenOnSighup need `file` (stdout is rotated by whoever reads it)',
    path: ['file'],
  });

export type RequestLoggerOptions = z.input<typeof RequestLoggerOptions>;
export type ResolvedRequestLoggerOptions = z.output<typeof RequestLoggerOptions>;

export function parseRequestLoggerOptions(options: RequestLoggerOptions): ResolvedRequestLoggerOptions {
  const parsed = RequestLoggerOptions.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field =
    issue.path.length > 0
      ? issue.path.join('.')
      : issue.code === 'unrecognized_keys'
        ? issue.keys.join(', ')
        : 'options';
  throw new ConfigError(
    `requestLogger.${field}`,
    `${issue.message}; see fluent-bit/node/request-logger-options.ts`,
  );
}
