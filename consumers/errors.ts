import { ShardlineError } from '../pipeline/errors.ts';

/**
 * Errors of the Kinesis consumer. Failures of single Kinesis calls never surface here: a shard
 * reader backs off and retries them. These are the conditions a reader cannot fix by waiting.
 */

/** The stream does not exist or did not become ACTIVE in time. */
export class StreamNotActiveError extends ShardlineError {
  readonly streamName: string;
  constructor(streamName: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: true });
    this.name = 'StreamNotActiveError';
    this.streamName = streamName;
  }
}

/** The checkpoint store could not be read or written. */
export class CheckpointStoreError extends ShardlineError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { retriable: true, ...options });
    this.name = 'CheckpointStoreError';
  }
}

/**
 * This worker no longer owns the shard's lease (another worker took it, or it was released): a
 * conditional write on the lease failed. Not retriable: the shard reader stops at once and
 * drops its buffered work, so that only the new owner lands and checkpoints the shard.
 */
export class LeaseLostError extends ShardlineError {
  readonly shardId: string;
  constructor(shardId: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: false });
    this.name = 'LeaseLostError';
    this.shardId = shardId;
  }
}

/** The lease table could not be created, read or written after retries (not a lost lease). */
export class LeaseTableError extends ShardlineError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { retriable: true, ...options });
    this.name = 'LeaseTableError';
  }
}
