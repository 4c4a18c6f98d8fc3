import type { BatchRange } from '../../pipeline/types.ts';
import type { StoredCheckpoint } from '../checkpoint-store.ts';

/**
 * One shard's lease, as KCL has it, plus what exactly-once landing needs. Stored as one item of
 * the lease table (attribute names in `lease-table.ts`).
 *
 * - `leaseCounter` goes up with every renewal and every change of owner; every write that
 *   assumes ownership is conditional on (owner, counter), so a worker whose lease moved fails
 *   its next write instead of overwriting the new owner's progress.
 * - `pendingBatch` is the range of the batch being landed, written before its objects are put;
 *   `landedBatch` the range the checkpoint covers. See consumers/EXACTLY-ONCE.md.
 */
export interface Lease {
  readonly leaseKey: string;
  readonly leaseOwner: string | undefined;
  readonly leaseCounter: number;
  readonly checkpoint: StoredCheckpoint | undefined;
  readonly parentShardIds: readonly string[];
  readonly ownerSwitchesSinceCheckpoint: number;
  readonly pendingBatch: BatchRange | undefined;
  readonly landedBatch: BatchRange | undefined;
  /** The owner's wall clock at its last renewal (ms); a hint, never needed for safety. */
  readonly renewedAt: number | undefined;
  /** The owner's MillisBehindLatest for the shard at its last renewal. */
  readonly millisBehindLatest: number | undefined;
}
