import type { CheckpointStore, StoredCheckpoint } from './checkpoint-store.ts';

/** Checkpoints in a Map: for tests, and for runs that may start over from the initial position. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly #checkpoints = new Map<string, StoredCheckpoint>();
  /** Every put, in order: lets a test see when a checkpoint moved. */
  readonly history: { shardId: string; checkpoint: StoredCheckpoint }[] = [];

  async get(shardId: string): Promise<StoredCheckpoint | undefined> {
    return this.#checkpoints.get(shardId);
  }

  async put(shardId: string, checkpoint: StoredCheckpoint): Promise<void> {
    this.#checkpoints.set(shardId, checkpoint);
    this.history.push({ shardId, checkpoint });
  }
}
