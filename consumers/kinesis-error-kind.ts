/**
 * How a consumer should react to a failed Kinesis call:
 * - `expired_iterator`: get a new iterator from the last record seen, no waiting;
 * - `throttled`: the shard or account is over its limits, back off;
 * - `transient`: 5xx or a network failure, back off;
 * - `rejected`: the request itself is wrong (missing stream, no permission): retrying the same
 *   call cannot help, but the reader still backs off instead of crashing, so that an operator
 *   can fix it while the process stays up.
 */
export type KinesisErrorKind = 'expired_iterator' | 'throttled' | 'transient' | 'rejected';

const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'KMSThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_HTTP2_ERROR',
  'ERR_HTTP2_STREAM_ERROR',
]);

export function kinesisErrorKind(error: unknown): KinesisErrorKind {
  if (typeof error !== 'object' || error === null) return 'transient';
  const { name, code, $metadata, $fault } = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $fault?: string;
  };
  if (name === 'ExpiredIteratorException') return 'expired_iterator';
  if (name !== undefined && THROTTLED.has(name)) return 'throttled';
  const status = $metadata?.httpStatusCode;
  if (status === 429) return 'throttled';
  if ((status !== undefined && status >= 500) || $fault === 'server') return 'transient';
  if (code !== undefined && NETWORK_CODES.has(code)) return 'transient';
  if (name === 'TimeoutError' || name === 'RequestTimeout' || name === 'AbortError') return 'transient';
  if (status !== undefined || $fault === 'client') return 'rejected';
  return 'transient';
}
