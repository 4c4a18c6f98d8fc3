import type { KinesisStreamEvent, KinesisStreamRecord } from '../kinesis-event.ts';

/** A record as GetRecords returns it (the fields a Lambda event carries). */
export interface GetRecordsRecord {
  readonly SequenceNumber?: string;
  readonly PartitionKey?: string;
  readonly ApproximateArrivalTimestamp?: Date;
  readonly Data?: Uint8Array;
}

/**
 * The Lambda event record of a record read with GetRecords, shaped as the event source mapping
 * sends it: base64 Data, arrival time in seconds, `eventID` = `<shardId>:<sequenceNumber>`.
 */
export const kinesisEventRecordFactory = (
  shardId: string,
  record: GetRecordsRecord,
  streamArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
): KinesisStreamRecord & Record<string, unknown> => ({
  kinesis: {
    kinesisSchemaVersion: '1.0',
    partitionKey: record.PartitionKey ?? 'k',
    sequenceNumber: record.SequenceNumber ?? '0',
    data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
    approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
  } as KinesisStreamRecord['kinesis'],
  eventSource: 'aws:kinesis',
  eventVersion: '1.0',
  eventID: `${shardId}:${record.SequenceNumber ?? '0'}`,
  eventName: 'aws:kinesis:record',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/shardline-lambda',
  awsRegion: 'us-east-1',
  eventSourceARN: streamArn,
});

export const kinesisEventFactory = (
  shardId: string,
  records: readonly GetRecordsRecord[],
  streamArn?: string,
): KinesisStreamEvent => ({
  Records: records.map((r) => kinesisEventRecordFactory(shardId, r, streamArn)),
});

/** A Lambda context whose deadline is `remainingMs` from now. */
export const lambdaContextFactory = (remainingMs = 60_000, awsRequestId = 'test-request') => {
  const deadline = Date.now() + remainingMs;
  return { awsRequestId, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
};
