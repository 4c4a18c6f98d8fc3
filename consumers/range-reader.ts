import type { _Record } from '@aws-sdk/client-kinesis';
import type { SourceRecord } from '../pipeline/types.ts';
import { ExponentialBackoff } from './exponential-backoff.ts';
import { type KinesisApi, listAllShards } from './kinesis-api.ts';
import { kinesisErrorKind } from './kinesis-error-kind.ts';

/** How far one shard's read has come. */
export interface RangeProgress {
  readonly shardId: string;
  records: number;
  bytes: number;
  /** Arrival time of the last record read. */
  lastArrivalMs: number | undefined;
  done: boolean;
}

export interface RangeReaderOptions {
  readonly api: Pick<KinesisApi, 'listShards' | 'getShardIterator' | 'getRecords'>;
  readonly streamName: string;
  readonly from: Date;
  /** Records that arrived at or after this are not read; a shard stops at the first one. */
  readonly to: Date;
  /** A shard's records, in order; the next GetRecords call waits for it (back-pressure). */
  readonly onRecords: (shardId: string, records: readonly SourceRecord[]) => Promise<void>;
  readonly onProgress?: (progress: Readonly<RangeProgress>) => void;
  /**
   * Least time between two GetRecords calls on one shard (default 1000). Kinesis allows 5 per
   * second per shard, shared with the live workers: a replay taking 1 leaves them 4.
   */
  readonly minPollIntervalMs?: number;
  readonly maxRecordsPerCall?: number;
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads every shard of a stream, open or closed, from AT_TIMESTAMP `from` until a record arrived
 * at or after `to`, the shard is caught up (an empty answer at the tip) or closed, then stops. It
 * keeps its position in memory only: no lease, no checkpoint, nothing a consumer group sees, so a
 * replay never disturbs the live workers (it only shares the shard's 5 reads per second).
 */
export const readStreamRange = async (options: RangeReaderOptions): Promise<RangeProgress[]> => {
  const shards = await listAllShards(options.api, options.streamName);
  const progress = shards.map(
    (s): RangeProgress => ({
      shardId: s.ShardId ?? '',
      records: 0,
      bytes: 0,
      lastArrivalMs: undefined,
      done: false,
    }),
  );
  await Promise.all(progress.map((p) => readShard(options, p)));
  return progress;
};

/** One GetRecords per shard per second: a fifth of what Kinesis allows, the rest left to live workers. */
export const DEFAULT_POLL_INTERVAL_MS = 1_000;

const readShard = async (options: RangeReaderOptions, progress: RangeProgress): Promise<void> => {
  const { api, streamName, from, to } = options;
  const interval = options.minPollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const backoff = new ExponentialBackoff({ baseMs: 100, maxMs: 10_000 });
  let lastSequence: string | undefined;
  const iterator = async (): Promise<string | undefined> =>
    (
      await api.getShardIterator(
        lastSequence === undefined
          ? {
              StreamName: streamName,
              ShardId: progress.shardId,
              ShardIteratorType: 'AT_TIMESTAMP',
              Timestamp: from,
            }
          : {
              StreamName: streamName,
              ShardId: progress.shardId,
              ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
              StartingSequenceNumber: lastSequence,
            },
      )
    ).ShardIterator;
  let next = await iterator();
  let lastCall = 0;
  while (next !== undefined && !options.signal?.aborted) {
    const wait = lastCall + interval - Date.now();
    if (wait > 0) await sleep(wait);
    lastCall = Date.now();
    let answer: Awaited<ReturnType<typeof api.getRecords>>;
    try {
      answer = await api.getRecords({ ShardIterator: next, Limit: options.maxRecordsPerCall ?? 10_000 });
      backoff.reset();
    } catch (error) {
      const kind = kinesisErrorKind(error);
      if (kind === 'rejected') throw error;
      if (kind === 'expired_iterator') next = await iterator();
      else await sleep(backoff.next());
      continue;
    }
    const records: SourceRecord[] = [];
    let reachedEnd = false;
    for (const r of answer.Records ?? []) {
      const arrived = (r as _Record).ApproximateArrivalTimestamp ?? new Date(0);
      if (arrived.getTime() >= to.getTime()) {
        reachedEnd = true;
        break;
      }
      records.push({
        shardId: progress.shardId,
        sequenceNumber: r.SequenceNumber ?? '',
        partitionKey: r.PartitionKey ?? '',
        arrivedAt: arrived,
        data: r.Data ?? new Uint8Array(0),
      });
    }
    if (records.length > 0) {
      await options.onRecords(progress.shardId, records);
      const last = records[records.length - 1]!;
      lastSequence = last.sequenceNumber;
      progress.records += records.length;
      progress.bytes += records.reduce((n, r) => n + r.data.byteLength, 0);
      progress.lastArrivalMs = last.arrivedAt.getTime();
      options.onProgress?.(progress);
    }
    const caughtUp = (answer.Records ?? []).length === 0 && (answer.MillisBehindLatest ?? 0) === 0;
    if (reachedEnd || caughtUp) break;
    next = answer.NextShardIterator;
  }
  progress.done = true;
  options.onProgress?.(progress);
};
