import type { Checkpoint } from '../pipeline/types.ts';

/** KCL's sentinel: the shard is closed and every record of it is durable. Children may start. */
export const SHARD_END = Object.freeze({ sequenceNumber: 'SHARD_END' as const });

export type StoredCheckpoint = Checkpoint | typeof SHARD_END;

/**
 * Where each shard of one stream resumes. Single-process for now; a DynamoDB lease table
 * replaces it when several workers share a stream, so keep it this small.
 */
export interface CheckpointStore {
  get(shardId: string): Promise<StoredCheckpoint | undefined>;
  /** Resolves once the checkpoint is durable. */
  put(shardId: string, checkpoint: StoredCheckpoint): Promise<void>;
}

export function isShardEnd(checkpoint: StoredCheckpoint | undefined): checkpoint is typeof SHARD_END {
  return checkpoint?.sequenceNumber === SHARD_END.sequenceNumber;
}
