import type { BatchRange } from '../../pipeline/types.ts';
import { type CheckpointStore, isShardEnd, type StoredCheckpoint } from '../checkpoint-store.ts';
import type { LeaseCoordinator } from './lease-coordinator.ts';
import type { LeaseTable } from './lease-table.ts';

/**
 * Checkpoints kept in the lease table. Every write is conditional on this worker's hold on the
 * lease (owner and counter) and runs in turn with its renewals, so a worker whose lease moved
 * gets a LeaseLostError instead of moving the new owner's checkpoint.
 */
export class LeaseCheckpointStore implements CheckpointStore {
  readonly #table: LeaseTable;
  readonly #leases: LeaseCoordinator;
  /** Announced batches not yet covered by a checkpoint, of shards this worker holds. */
  readonly #pending = new Map<string, BatchRange>();

  constructor(table: LeaseTable, leases: LeaseCoordinator) {
    this.#table = table;
    this.#leases = leases;
  }

  /** A consistent read of the lease: the checkpoint of the last owner, and its announced batch. */
  async get(shardId: string): Promise<StoredCheckpoint | undefined> {
    const lease = await this.#table.get(shardId);
    if (this.#leases.isHeld(shardId)) {
      if (lease?.pendingBatch) this.#pending.set(shardId, lease.pendingBatch);
      else this.#pending.delete(shardId);
    }
    return lease?.checkpoint;
  }

  async put(shardId: string, checkpoint: StoredCheckpoint): Promise<void> {
    const pending = this.#pending.get(shardId);
    const landed =
      pending && (isShardEnd(checkpoint) || !isBefore(checkpoint.sequenceNumber, pending.lastSequence))
        ? pending
        : undefined;
    await this.#leases.withLease(shardId, (hold) =>
      this.#table.checkpoint(shardId, hold, checkpoint, landed),
    );
    if (landed && this.#pending.get(shardId) === landed) this.#pending.delete(shardId);
    if (isShardEnd(checkpoint)) this.#leases.finished(shardId);
  }

  async announceBatch(shardId: string, range: BatchRange): Promise<void> {
    await this.#leases.withLease(shardId, (hold) => this.#table.announce(shardId, hold, range));
    this.#pending.set(shardId, range);
  }

  pendingBatch(shardId: string): BatchRange | undefined {
    return this.#pending.get(shardId);
  }
}

function isBefore(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}
