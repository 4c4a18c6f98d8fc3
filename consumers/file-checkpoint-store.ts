import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../pipeline/errors.ts';
import type { CheckpointStore, StoredCheckpoint } from './checkpoint-store.ts';
import { CheckpointStoreError } from './errors.ts';

export interface FileCheckpointStoreOptions {
  /**
   * The stream whose checkpoints the file holds. Recorded in the file and checked on load, so
   * that a file is never applied to another stream (shard ids repeat across streams).
   */
  readonly streamName?: string;
}

/**
 * Example file:
 * ```json
 * { "version": 1, "streamName": "api-logs",
 *   "shards": { "shardId-000000000000": { "sequenceNumber": "4965…", "updatedAt": "2025-01-15T10:00:00.000Z" } } }
 * ```
 */
const checkpointFileSchema = z.object({
  version: z.literal(1),
  streamName: z.string().optional(),
  shards: z.record(
    z.string(),
    z.object({
      sequenceNumber: z.string().min(1),
      subSequenceNumber: z.number().int().nonnegative().optional(),
      updatedAt: z.string().optional(),
    }),
  ),
});

let tempCounter = 0;

/**
 * Checkpoints of one stream in one JSON file (keyed by shard id), for a single consumer process. Every put rewrites
 * the whole file atomically (temp file, fsync, rename, fsync of the folder), so a crash leaves
 * either the old or the new file, never half of one. Concurrent puts from several shards are
 * coalesced: while a write is running, the next one waits and then carries all of them.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly path: string;
  readonly #dir: string;
  #streamName: string | undefined;
  #shards: Promise<Map<string, { checkpoint: StoredCheckpoint; updatedAt: string }>> | undefined;
  #lastWrite: Promise<void> = Promise.resolve();
  #queuedWrite: Promise<void> | undefined;

  /** `path` is the checkpoint file, e.g. `.shardline/checkpoints.json`; its folder is created on the first write. */
  constructor(path: string, options: FileCheckpointStoreOptions = {}) {
    if (path === '') throw new ConfigError('checkpoints.path', 'is empty; give the checkpoint file to use');
    this.path = path;
    this.#dir = dirname(path);
    this.#streamName = options.streamName;
  }

  async get(shardId: string): Promise<StoredCheckpoint | undefined> {
    return (await this.#load()).get(shardId)?.checkpoint;
  }

  async put(shardId: string, checkpoint: StoredCheckpoint): Promise<void> {
    const shards = await this.#load();
    shards.set(shardId, { checkpoint, updatedAt: new Date().toISOString() });
    return this.#scheduleWrite();
  }

  #scheduleWrite(): Promise<void> {
    if (this.#queuedWrite) return this.#queuedWrite;
    const write = this.#lastWrite
      .catch(() => undefined)
      .then(() => {
        this.#queuedWrite = undefined;
        return this.#write();
      });
    this.#queuedWrite = write;
    this.#lastWrite = write;
    return write;
  }

  #load() {
    this.#shards ??= this.#read().catch((error: unknown) => {
      this.#shards = undefined;
      throw error;
    });
    return this.#shards;
  }

  async #read() {
    const shards = new Map<string, { checkpoint: StoredCheckpoint; updatedAt: string }>();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return shards;
      throw new CheckpointStoreError(`cannot read checkpoint file ${this.path}; check its permissions`, {
        cause: error,
      });
    }
    let parsed: z.infer<typeof checkpointFileSchema>;
    try {
      parsed = checkpointFileSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new CheckpointStoreError(
        `checkpoint file ${this.path} is not valid; fix it, or delete it to restart every shard from the initial position`,
        { cause: error, retriable: false },
      );
    }
    if (
      parsed.streamName !== undefined &&
      this.#streamName !== undefined &&
      parsed.streamName !== this.#streamName
    ) {
      throw new CheckpointStoreError(
        `checkpoint file ${this.path} belongs to stream "${parsed.streamName}", not "${this.#streamName}"; use another file for this stream`,
        { retriable: false },
      );
    }
    this.#streamName ??= parsed.streamName;
    for (const [shardId, { updatedAt, ...checkpoint }] of Object.entries(parsed.shards)) {
      shards.set(shardId, { checkpoint: checkpoint as StoredCheckpoint, updatedAt: updatedAt ?? '' });
    }
    return shards;
  }

  async #write(): Promise<void> {
    const shards = await this.#load();
    const body: z.infer<typeof checkpointFileSchema> = {
      version: 1,
      streamName: this.#streamName,
      shards: {},
    };
    for (const [shardId, { checkpoint, updatedAt }] of shards)
      body.shards[shardId] = { ...checkpoint, updatedAt };
    const temp = `${this.path}.${process.pid}.${++tempCounter}.tmp`;
    try {
      await mkdir(this.#dir, { recursive: true });
      const file = await open(temp, 'w');
      try {
        await file.writeFile(`${JSON.stringify(body, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
      await syncFolder(this.#dir);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new CheckpointStoreError(
        `cannot write checkpoint file ${this.path}; check free space and permissions`,
        {
          cause: error,
        },
      );
    }
  }
}

/** Makes the rename durable. Some platforms cannot open a folder; there the rename is as good as it gets. */
async function syncFolder(dir: string): Promise<void> {
  let folder: Awaited<ReturnType<typeof open>> | undefined;
  try {
    folder = await open(dir, 'r');
    await folder.sync();
  } catch {
    // Not supported on this platform (e.g. Windows); nothing more to do.
  } finally {
    await folder?.close();
  }
}
