import type { SourceRecord } from '../../pipeline/types.ts';
import { KinesisEventError } from './errors.ts';

/**
 * The event Lambda's Kinesis event source mapping sends (the fields Shardline reads).
 *
 * @example
 * { "Records": [{ "eventID": "shardId-000000000000:49590338271490256608559692538361571095921575989136588898",
 *   "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/api-logs",
 *   "kinesis": { "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
 *     "partitionKey": "a1", "approximateArrivalTimestamp": 1545084650.987, "data": "eyJyZXF1ZXN0X2lkIjoi..." } }] }
 */
export interface KinesisStreamEvent {
  readonly Records: readonly KinesisStreamRecord[];
}

export interface KinesisStreamRecord {
  /** `<shardId>:<sequenceNumber>`: the only place the event names the shard. */
  readonly eventID: string;
  readonly eventSourceARN?: string;
  readonly kinesis: {
    readonly sequenceNumber: string;
    readonly partitionKey: string;
    /** Seconds since the epoch, with milliseconds as decimals. */
    readonly approximateArrivalTimestamp: number;
    /** The record's Data, base64. */
    readonly data: string;
  };
}

/** ReportBatchItemFailures: the sequence number of the first record of a shard that did not land. */
export interface KinesisBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

const SEQUENCE = /^\d+$/;

/** The shard id of an `eventID` (`shardId-000000000000:4959…`). */
export const shardIdOf = (eventID: string): string => {
  const colon = eventID.lastIndexOf(':');
  const shardId = colon > 0 ? eventID.slice(0, colon) : '';
  if (shardId === '') {
    throw new KinesisEventError(
      `eventID ${JSON.stringify(eventID)} is not "<shardId>:<sequenceNumber>"; is the trigger a Kinesis stream?`,
    );
  }
  return shardId;
};

/**
 * The event's records as the pipeline takes them, grouped by shard in event order. Lambda sends
 * one shard per invocation; grouping keeps the handler correct if that ever changes.
 */
export const shardRecordsOf = (event: KinesisStreamEvent): Map<string, SourceRecord[]> => {
  if (!Array.isArray(event?.Records)) {
    throw new KinesisEventError('the event has no Records array; is the trigger a Kinesis stream?');
  }
  const shards = new Map<string, SourceRecord[]>();
  for (const [i, r] of event.Records.entries()) {
    const k = r?.kinesis;
    if (k === undefined || typeof r.eventID !== 'string') {
      throw new KinesisEventError(`Records[${i}] has no kinesis or eventID field`);
    }
    if (typeof k.sequenceNumber !== 'string' || !SEQUENCE.test(k.sequenceNumber)) {
      throw new KinesisEventError(`Records[${i}].kinesis.sequenceNumber is not a Kinesis sequence number`);
    }
    const shardId = shardIdOf(r.eventID);
    let records = shards.get(shardId);
    if (records === undefined) {
      records = [];
      shards.set(shardId, records);
    }
    // The shapes AWS documents, checked anyway: a value of another type must not reach a file
    // its readers then refuse (an archive header with a numeric partition key). A record without
    // Data lands as a dead letter (an empty record); one without an arrival time takes its
    // neighbour's (the shard processor does that).
    records.push({
      shardId,
      sequenceNumber: k.sequenceNumber,
      partitionKey: typeof k.partitionKey === 'string' ? k.partitionKey : '',
      arrivedAt: new Date(
        typeof k.approximateArrivalTimestamp === 'number'
          ? Math.round(k.approximateArrivalTimestamp * 1000)
          : Number.NaN,
      ),
      data: typeof k.data === 'string' ? Buffer.from(k.data, 'base64') : new Uint8Array(0),
    });
  }
  return shards;
};
