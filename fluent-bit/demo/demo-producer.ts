import { gzipSync } from 'node:zlib';
import type { KinesisClient, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { ConfigError } from '../../pipeline/errors.ts';
import { DemoPlan, type DemoTally } from './demo-plan.ts';
import { FluentBitPartitionKeys } from './fluent-bit-partition-keys.ts';
import { putRecordsWithRetry } from './put-records-with-retry.ts';

/**
 * Sends realistic demo traffic to a Kinesis stream exactly as a Fluent Bit sidecar would, and
 * returns the ground truth of what was sent.
 */
export interface DemoProducerOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
  /** Log lines to send, every kind counted: valid, duplicate copies and malformed. */
  readonly events: number;
  /** Same seed, same traffic. Default 1. */
  readonly seed?: number;
  /** Share of lines that are malformed (dead letters downstream). Default 0.003. */
  readonly malformedRatio?: number;
  /** Share of lines that are extra copies from Fluent Bit's whole-chunk resends. Default 0.03. */
  readonly duplicateRatio?: number;
  /** Fluent Bit's `simple_aggregation`: many newline-terminated lines in one record. */
  readonly simpleAggregation?: boolean;
  /** Fluent Bit's `compression`: each record's Data is gzipped. Default 'none'. */
  readonly compression?: 'none' | 'gzip';
  /** Time of the first log. Default: so that the last log is about now. */
  readonly startTime?: number | string | Date;
  /** Requests per second of the simulated apps (timestamp spacing). Default 500. */
  readonly ratePerSecond?: number;
  /** PutRecords calls in flight. Default 4. */
  readonly concurrency?: number;
  /** Keep every valid request id in the result (memory: ~100 bytes each). */
  readonly collectRequestIds?: boolean;
  readonly onProgress?: (progress: DemoProgress) => void;
  /**
   * Asked after each chunk is handed to PutRecords: true stops sending there (Ctrl-C). What was
   * sent before is stored and reported: the result counts only that.
   */
  readonly stop?: () => boolean;
}

export interface DemoProgress {
  /** Lines stored so far. */
  readonly sent: number;
  readonly total: number;
  readonly records: number;
  readonly retriedRecords: number;
  readonly elapsedMs: number;
}

export interface DemoProducerResult extends DemoTally {
  /** Kinesis records stored (fewer than `sent` with `simpleAggregation`). */
  readonly records: number;
  /** PutRecords requests made, retries included. */
  readonly calls: number;
  readonly retriedRecords: number;
  readonly elapsedMs: number;
}

/** Kinesis limits per PutRecords request (the 5 MiB of the original API, which every emulator honours). */
const MAX_RECORDS_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 5 * 1024 * 1024;
/** Aggregated records stay under the 1 MiB record limit with room for the partition key. */
const MAX_AGGREGATE_BYTES = 1_000_000;
/** Fluent Bit's gzip header says "unknown OS" (255); zlib writes "Unix" (3). */
const GZIP_OS_BYTE = 9;

const check = (field: string, ok: boolean, message: string): void => {
  if (!ok) throw new ConfigError(field, message);
};

const compressGzip = (data: Buffer): Buffer => {
  const out = gzipSync(data);
  out[GZIP_OS_BYTE] = 0xff;
  return out;
};

/** Groups lines into records: one line per record, or packed up to the size limit when aggregating. */
const toRecords = (lines: readonly Buffer[], aggregate: boolean): { data: Buffer; lines: number }[] => {
  if (!aggregate) return lines.map((data) => ({ data, lines: 1 }));
  const records: { data: Buffer; lines: number }[] = [];
  let group: Buffer[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length > MAX_AGGREGATE_BYTES && group.length > 0) {
      records.push({ data: Buffer.concat(group, size), lines: group.length });
      group = [];
      size = 0;
    }
    group.push(line);
    size += line.length;
  }
  if (group.length > 0) records.push({ data: Buffer.concat(group, size), lines: group.length });
  return records;
};

interface PutBatch {
  readonly entries: PutRecordsRequestEntry[];
  /** Log lines inside `entries`. */
  readonly lines: number;
}

/** One send attempt's lines as PutRecords requests, each within the record and byte limits. */
function* putBatches(
  lines: readonly Buffer[],
  aggregate: boolean,
  gzip: boolean,
  newKey: () => string,
): Generator<PutBatch, void, undefined> {
  let entries: PutRecordsRequestEntry[] = [];
  let bytes = 0;
  let count = 0;
  for (const { data, lines: inRecord } of toRecords(lines, aggregate)) {
    const record = gzip ? compressGzip(data) : data;
    const key = newKey();
    if (entries.length === MAX_RECORDS_PER_CALL || bytes + record.length + key.length > MAX_BYTES_PER_CALL) {
      yield { entries, lines: count };
      entries = [];
      bytes = 0;
      count = 0;
    }
    entries.push({ Data: record, PartitionKey: key });
    bytes += record.length + key.length;
    count += inRecord;
  }
  if (entries.length > 0) yield { entries, lines: count };
}

export const runDemoProducer = async (options: DemoProducerOptions): Promise<DemoProducerResult> => {
  const { client, streamName, events } = options;
  const seed = options.seed ?? 1;
  const malformedRatio = options.malformedRatio ?? 0.003;
  const duplicateRatio = options.duplicateRatio ?? 0.03;
  const concurrency = options.concurrency ?? 4;
  const rate = options.ratePerSecond ?? 500;
  check('events', Number.isInteger(events) && events >= 0, `must be a whole number >= 0, got ${events}`);
  check('streamName', streamName.length > 0, 'must name an existing Kinesis stream');
  check(
    'malformedRatio',
    malformedRatio >= 0 && malformedRatio <= 0.5,
    `must be within 0..0.5, got ${malformedRatio}`,
  );
  check(
    'duplicateRatio',
    duplicateRatio >= 0 && duplicateRatio <= 0.5,
    `must be within 0..0.5, got ${duplicateRatio}`,
  );
  check(
    'concurrency',
    Number.isInteger(concurrency) && concurrency >= 1,
    `must be a whole number >= 1, got ${concurrency}`,
  );
  check('ratePerSecond', rate > 0, `must be > 0, got ${rate}`);

  const started = Date.now();
  const plan = new DemoPlan({
    events,
    seed,
    malformedRatio,
    duplicateRatio,
    collectRequestIds: options.collectRequestIds,
    traffic: { startTime: options.startTime ?? started - (events * 1000) / rate, ratePerSecond: rate },
  });
  const keys = new FluentBitPartitionKeys(seed);
  const newPartitionKey = () => keys.next();
  const gzip = options.compression === 'gzip';
  let stored = 0;
  let records = 0;
  let calls = 0;
  let retriedRecords = 0;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();

  const send = ({ entries, lines }: PutBatch): void => {
    const p = putRecordsWithRetry(client, streamName, entries, { newPartitionKey })
      .then((outcome) => {
        calls += outcome.requests;
        retriedRecords += outcome.retriedRecords;
        records += entries.length;
        stored += lines;
        options.onProgress?.({
          sent: stored,
          total: events,
          records,
          retriedRecords,
          elapsedMs: Date.now() - started,
        });
      })
      .catch((e: unknown) => {
        failure ??= e;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  outer: for (const lines of plan.attempts()) {
    for (const batch of putBatches(lines, options.simpleAggregation === true, gzip, newPartitionKey)) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (failure !== undefined) break outer;
      send(batch);
    }
    if (options.stop?.() === true && plan.settled) break;
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;

  return { ...plan.tally, records, calls, retriedRecords, elapsedMs: Date.now() - started };
};
