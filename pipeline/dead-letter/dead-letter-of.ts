import type { DeadLetter, DeadLetterReason, SourceRecord } from '../types.ts';

/** A dead letter for `data` (the whole record's Data, or one log's bytes) of `record`. */
export const deadLetterOf = (
  record: SourceRecord,
  stage: DeadLetter['stage'],
  reason: DeadLetterReason,
  message: string,
  data: Uint8Array,
  subSequence: number | undefined,
): DeadLetter => ({
  reason,
  stage,
  message,
  shardId: record.shardId,
  sequenceNumber: record.sequenceNumber,
  subSequence,
  partitionKey: record.partitionKey,
  arrivedAt: record.arrivedAt,
  data,
});
