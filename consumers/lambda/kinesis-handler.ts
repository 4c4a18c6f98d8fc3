import type { PipelineConfig } from '../../pipeline/config.ts';
import type { ObjectStore } from '../../pipeline/land/object-store.ts';
import type { Logger } from '../../pipeline/observability/logger.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import type { ShardRecordProcessor, SourceRecord } from '../../pipeline/types.ts';
import { type KinesisBatchResponse, type KinesisStreamEvent, shardRecordsOf } from './kinesis-event.ts';

/** The part of Lambda's context object the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
}

export interface KinesisHandlerOptions {
  readonly config: PipelineConfig;
  /** Default: the store `config.lake` names (S3 in production). */
  readonly store?: ObjectStore;
  readonly logger?: Logger;
  /**
   * Landing is abandoned this long before the function would time out (at most half the time
   * left), so that the handler can still answer which records landed. Default 5 s.
   */
  readonly deadlineMarginMs?: number;
}

export interface KinesisHandler {
  (event: KinesisStreamEvent, context: LambdaContext): Promise<KinesisBatchResponse>;
  /** Closes the pipeline (tests; Lambda freezes the process instead). */
  close(): Promise<void>;
}

/**
 * A shard's records, cut into the batches they will land as, from the records alone (count and
 * Data bytes, bounded like `batch.maxRows` and `batch.maxBytes`), never from the clock or from
 * what the process remembers: the same records always make the same batches, the same object
 * keys and the same objects.
 */
export const cutBatches = (
  records: readonly SourceRecord[],
  limits: { readonly maxRows: number; readonly maxBytes: number },
): SourceRecord[][] => {
  const batches: SourceRecord[][] = [];
  let current: SourceRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    current.push(record);
    bytes += record.data.byteLength;
    if (current.length >= limits.maxRows || bytes >= limits.maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length > 0) batches.push(current);
  return batches;
};

/**
 * The Lambda consumer: Lambda's event source mapping owns the shard iterators and checkpoints;
 * this handler runs each batch of records through the same pipeline as `shardline consume` and
 * answers, per shard, the first record that did not land (`batchItemFailures`). Lambda then
 * checkpoints just before it and invokes again from it.
 *
 * Each batch is handed to a processor as an announced range (`ProcessorStart.pendingBatch`): it
 * is cut exactly at its last record and deduplicated only within itself, so its objects are a
 * function of its records. A retry that re-lands a range writes the same keys with the same
 * bytes; a retry that starts inside a landed range (a bisected batch) writes other keys, whose
 * repeated rows the warehouse's unique key (project_id, request_id, ts) drops.
 */
export const createKinesisHandler = (options: KinesisHandlerOptions): KinesisHandler => {
  const logger = options.logger ?? silentLogger;
  const marginMs = options.deadlineMarginMs ?? 5_000;
  // Created on the first invocation and kept while Lambda keeps the process warm.
  let pipeline: Promise<Pipeline> | undefined;

  const handler = async (
    event: KinesisStreamEvent,
    context: LambdaContext,
  ): Promise<KinesisBatchResponse> => {
    const shards = shardRecordsOf(event);
    pipeline ??= Pipeline.create(options.config, { store: options.store, logger });
    const p = await pipeline;
    const before = { ...p.counters };
    const remaining = context.getRemainingTimeInMillis();
    let expired = false;
    let current: ShardRecordProcessor | undefined;
    const timer = setTimeout(
      () => {
        expired = true;
        // Ends a landing retry loop: the batch is dropped unlanded, as on a lost lease.
        current?.leaseLost();
      },
      Math.max(0, remaining - Math.min(marginMs, remaining / 2)),
    );
    const failures: { itemIdentifier: string }[] = [];
    try {
      for (const [shardId, records] of shards) {
        for (const batch of cutBatches(records, p.config.batch)) {
          const first = batch[0]!.sequenceNumber;
          const last = batch[batch.length - 1]!.sequenceNumber;
          const landed = expired
            ? false
            : await landBatch(p, shardId, batch, first, last, (processor) => {
                current = processor;
              }).catch((error: unknown) => {
                logger.error('a batch failed unexpectedly; Lambda will retry it', {
                  shardId,
                  first,
                  err: error,
                });
                return false;
              });
          current = undefined;
          if (!landed) {
            // Later batches of the shard are not landed now: Lambda sends them again after this one.
            failures.push({ itemIdentifier: first });
            break;
          }
        }
      }
    } finally {
      clearTimeout(timer);
    }
    const c = p.counters;
    const summary = {
      requestId: context.awsRequestId,
      shards: shards.size,
      records: c.records - before.records,
      landed: c.landed - before.landed,
      deduplicated: c.deduplicated - before.deduplicated,
      deadLettered: c.deadLettered - before.deadLettered,
      files: c.files - before.files,
      failedFrom: failures.map((f) => f.itemIdentifier),
    };
    if (failures.length > 0) {
      logger.warn('records did not land; Lambda retries from the first of each shard', {
        ...summary,
        deadlineReached: expired,
      });
    } else {
      logger.info('batch landed', summary);
    }
    return { batchItemFailures: failures };
  };

  return Object.assign(handler, {
    close: async () => {
      const p = await pipeline;
      await p?.close();
    },
  });
};

/** Lands one batch; false when it did not (the deadline ended its landing retries). */
const landBatch = async (
  pipeline: Pipeline,
  shardId: string,
  batch: readonly SourceRecord[],
  first: string,
  last: string,
  started: (processor: ShardRecordProcessor) => void,
): Promise<boolean> => {
  const processor = pipeline.create(shardId, { pendingBatch: { firstSequence: first, lastSequence: last } });
  started(processor);
  try {
    const cut = await processor.processRecords(batch);
    const checkpoint = (await processor.shutdownRequested()) ?? cut;
    if (checkpoint?.sequenceNumber === last && checkpoint.subSequenceNumber === undefined) return true;
  } catch (error) {
    processor.leaseLost();
    throw error;
  }
  // Abandoned: what the processor still holds is released, so that the retry lands it.
  processor.leaseLost();
  return false;
};
