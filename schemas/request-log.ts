import { z } from 'zod';

/**
 * Record schema v1: the JSON line an application writes for each API request it served.
 *
 * One line, one request. Fluent Bit ships the line unchanged (and may append its own `fb_time`
 * key); Shardline validates it against this schema before anything else happens to it.
 *
 * Limits exist so that one pathological record cannot blow up a batch: a field over its limit
 * makes the record invalid (it goes to the dead-letter sink with the reason), except bodies,
 * which are optional, capped and truncated rather than rejected (see `BODY_CAP_BYTES`).
 *
 * @example
 * {"timestamp":"2025-01-15T10:00:00.000Z","request_id":"req-000001","project_id":"proj_alpha",
 *  "method":"GET","path":"/v1/users/42?expand=orders","status":200,"latency_ms":12.7,
 *  "bytes_in":0,"bytes_out":512,"ip":"203.0.113.9","user_agent":"curl/8.5.0",
 *  "headers":{"host":"api.example.com","x-request-id":"req-000001"}}
 */

export const SCHEMA_VERSION = 1;

export const LIMITS = {
  /** A Kinesis record's Data is at most 1 MiB; a request log line is far below that. */
  maxLineBytes: 1_048_576,
  maxIdLength: 128,
  maxMethodLength: 16,
  maxPathLength: 8_192,
  maxUserAgentLength: 1_024,
  maxHeaders: 64,
  maxHeaderValueLength: 8_192,
  /** Parameters of a `query` logged as an object (a string query is bounded by maxPathLength). */
  maxQueryParams: 256,
  /** Bodies longer than this (in UTF-16 code units, close to bytes for ASCII) are truncated. */
  bodyCapChars: 16_384,
} as const;

/** Timestamps: RFC 3339 / ISO 8601 text (a missing zone means UTC, as Fluent Bit writes), or epoch ms. */
const timestamp = z
  .union([z.string().min(10).max(40), z.number().finite().nonnegative()])
  .describe(
    'When the request was received. ISO 8601 text (`2025-01-15T10:00:00.000Z`; no zone means UTC) or epoch milliseconds.',
  );

const headerValue = z.union([
  z.string().max(LIMITS.maxHeaderValueLength),
  z.array(z.string().max(LIMITS.maxHeaderValueLength)).max(16),
  z.number(),
  z.boolean(),
]);

export const RequestLogV1 = z
  .object({
    timestamp: timestamp.optional(),
    request_id: z
      .string()
      .min(1)
      .max(LIMITS.maxIdLength)
      .optional()
      .describe(
        'Unique id of the request (also accepted from the `x-request-id` header). Used for deduplication.',
      ),
    project_id: z
      .string()
      .min(1)
      .max(LIMITS.maxIdLength)
      .describe('The project or API the request belongs to; the first key of every dashboard.'),
    method: z.string().min(1).max(LIMITS.maxMethodLength).describe('HTTP method, e.g. GET.'),
    path: z
      .string()
      .min(1)
      .max(LIMITS.maxPathLength)
      .describe('URL path, optionally with its query string (`/v1/users/42?expand=orders`).'),
    route: z
      .string()
      .min(1)
      .max(LIMITS.maxPathLength)
      .optional()
      .describe(
        "The route template that served the request, as the app's framework knows it (`/users/:id`, `/users/{id}`); when present it is the endpoint, in `{param}` style.",
      ),
    query: z
      .union([
        z.string().max(LIMITS.maxPathLength),
        z
          .record(z.string().max(256), headerValue)
          .refine((q) => Object.keys(q).length <= LIMITS.maxQueryParams, {
            message: `at most ${LIMITS.maxQueryParams} parameters`,
          })
          .meta({ maxProperties: LIMITS.maxQueryParams }),
      ])
      .optional()
      .describe('Query string, when the app logs it apart from the path (text or an object).'),
    status: z.number().int().min(100).max(599).describe('HTTP status code sent to the client.'),
    latency_ms: z.number().finite().nonnegative().describe('Time to serve the request, in milliseconds.'),
    bytes_in: z.number().int().nonnegative().optional().describe('Request size in bytes.'),
    bytes_out: z.number().int().nonnegative().optional().describe('Response size in bytes.'),
    ip: z.string().max(64).optional().describe('Client IP address (IPv4 or IPv6).'),
    user_agent: z.string().max(LIMITS.maxUserAgentLength).optional().describe('Client User-Agent header.'),
    headers: z
      .record(z.string().max(256), headerValue)
      .optional()
      .refine((h) => h === undefined || Object.keys(h).length <= LIMITS.maxHeaders, {
        message: `at most ${LIMITS.maxHeaders} headers`,
      })
      .describe('Selected request headers, lower-case names. Secrets are redacted before storage.'),
    request_body: z
      .string()
      .optional()
      .describe(`Request body, truncated to ${LIMITS.bodyCapChars} characters.`),
    response_body: z
      .string()
      .optional()
      .describe(`Response body, truncated to ${LIMITS.bodyCapChars} characters.`),
    protocol: z.string().max(16).optional().describe('HTTP version, e.g. HTTP/1.1.'),
    service: z.string().max(LIMITS.maxIdLength).optional().describe('Service name (added by the sidecar).'),
    environment: z.string().max(64).optional().describe('Deployment environment (added by the sidecar).'),
    fb_time: timestamp
      .optional()
      .describe('Time Fluent Bit read the line (its `time_key`); fallback for `timestamp`.'),
  })
  .describe('Shardline request log, schema v1');

export type RequestLog = z.infer<typeof RequestLogV1>;
