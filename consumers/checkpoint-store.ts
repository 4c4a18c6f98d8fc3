import type { BatchRange, Checkpoint } from '../pipeline/types.ts';

/** KCL's sentinel: the shard is closed and every record of it is durable. Children may start. */
export const SHARD_END = Object.freeze({ sequenceNumber: 'SHARD_END' as const });

export type StoredCheckpoint = Checkpoint | typeof SHARD_END;

/**
 * Where each shard of one stream resumes: a file for one process, the DynamoDB lease table
 * (`LeaseCheckpointStore`) when several workers share a stream.
 */
export interface CheckpointStore {
  get(shardId: string): Promise<StoredCheckpoint | undefined>;
  /** Resolves once the checkpoint is durable; rejects with LeaseLostError when the shard is not ours. */
  put(shardId: string, checkpoint: StoredCheckpoint): Promise<void>;
  /**
   * Stores that support exactly-once landing record each batch's range before it lands
   * (see consumers/EXACTLY-ONCE.md). Rejects with LeaseLostError when the shard is not ours.
   */
  announceBatch?(shardId: string, range: BatchRange): Promise<void>;
  /** The announced range not yet covered by a checkpoint, as of the last get() or announce. */
  pendingBatch?(shardId: string): BatchRange | undefined;
}

export function isShardEnd(checkpoint: StoredCheckpoint | undefined): checkpoint is typeof SHARD_END {
  return checkpoint?.sequenceNumber === SHARD_END.sequenceNumber;
}
