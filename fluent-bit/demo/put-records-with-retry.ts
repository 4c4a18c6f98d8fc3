import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { ShardlineError } from '../../pipeline/errors.ts';

export interface PutRecordsRetryOptions {
  /** Attempts per call before giving up (each failed record is retried, not the whole call). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** A fresh partition key for a resent record, as Fluent Bit gives one on every send. */
  readonly newPartitionKey?: () => string;
}

export interface PutRecordsOutcome {
  /** PutRecords requests made, retries included. */
  readonly requests: number;
  /** Records that had to be sent again (per-record failures and failed requests). */
  readonly retriedRecords: number;
}

const RETRIABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'KMSThrottlingException',
  'ThrottlingException',
  'InternalFailure',
  'ServiceUnavailable',
]);

const isRetriable = (e: unknown): boolean => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  // No HTTP status at all means the request never got an answer (reset, timeout): try again.
  return RETRIABLE_NAMES.has(err.name ?? '') || status === undefined || status >= 500;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Puts `entries` (at most 500, within the request size limit) until every one is stored. Records
 * that PutRecords reports as failed are resent alone, after an exponential back-off with full
 * jitter, so nothing is lost and nothing already stored is sent twice.
 */
export const putRecordsWithRetry = async (
  client: KinesisClient,
  streamName: string,
  entries: readonly PutRecordsRequestEntry[],
  options: PutRecordsRetryOptions = {},
): Promise<PutRecordsOutcome> => {
  const maxAttempts = options.maxAttempts ?? 12;
  const base = options.baseDelayMs ?? 50;
  const max = options.maxDelayMs ?? 5_000;
  let pending = entries;
  let requests = 0;
  let retriedRecords = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    let failed: PutRecordsRequestEntry[];
    let lastError: unknown;
    try {
      requests++;
      const out = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: [...pending] }));
      const results = out.Records ?? [];
      failed =
        (out.FailedRecordCount ?? 0) === 0
          ? []
          : pending.filter((_, i) => results[i]?.ErrorCode !== undefined);
      lastError = results.find((r) => r.ErrorCode !== undefined);
    } catch (e) {
      if (!isRetriable(e)) {
        throw new ShardlineError(
          `PutRecords to stream "${streamName}" failed: ${(e as Error).message}. Check that the stream exists ` +
            '(create it first), the endpoint and region are right, and the credentials may write to it.',
          { cause: e },
        );
      }
      failed = [...pending];
      lastError = e;
    }
    if (failed.length === 0) break;
    if (attempt >= maxAttempts) {
      throw new ShardlineError(
        `PutRecords to stream "${streamName}" still failed for ${failed.length} records after ${attempt} attempts. ` +
          'The stream is throttled or unavailable: add shards, lower the send rate, or retry later.',
        { cause: lastError, retriable: true },
      );
    }
    retriedRecords += failed.length;
    const newKey = options.newPartitionKey;
    pending = newKey === undefined ? failed : failed.map((r) => ({ ...r, PartitionKey: newKey() }));
    await sleep(Math.random() * Math.min(max, base * 2 ** attempt));
  }
  return { requests, retriedRecords };
};
