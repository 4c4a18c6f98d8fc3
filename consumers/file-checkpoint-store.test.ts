import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHARD_END } from './checkpoint-store.ts';
import { CheckpointStoreError } from './errors.ts';
import { FileCheckpointStore } from './file-checkpoint-store.ts';

describe('FileCheckpointStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-checkpoints-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps checkpoints across instances, keyed by shard', async () => {
    // Prepare
    const path = join(dir, 'nested', 'checkpoints.json');
    const first = new FileCheckpointStore(path, { streamName: 'api-logs' });
    await first.put('shardId-000000000000', { sequenceNumber: '49650000000000000000000001' });
    await first.put('shardId-000000000001', {
      sequenceNumber: '49650000000000000000000002',
      subSequenceNumber: 3,
    });
    await first.put('shardId-000000000002', SHARD_END);

    // Act
    const second = new FileCheckpointStore(path, { streamName: 'api-logs' });
    const read = await Promise.all(
      ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'].map(
        (id) => second.get(id),
      ),
    );

    // Assess
    expect(read).toEqual([
      { sequenceNumber: '49650000000000000000000001' },
      { sequenceNumber: '49650000000000000000000002', subSequenceNumber: 3 },
      SHARD_END,
      undefined,
    ]);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ version: 1, streamName: 'api-logs' });
  });

  it('coalesces concurrent puts and leaves no temporary files', async () => {
    // Prepare
    const path = join(dir, 'checkpoints.json');
    const store = new FileCheckpointStore(path);

    // Act
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.put(`shardId-${String(i % 5).padStart(12, '0')}`, { sequenceNumber: String(100 + i) }),
      ),
    );

    // Assess: each shard holds its last value, in a fresh instance too.
    const reread = new FileCheckpointStore(path);
    expect(await reread.get('shardId-000000000004')).toEqual({ sequenceNumber: '149' });
    expect(await reread.get('shardId-000000000000')).toEqual({ sequenceNumber: '145' });
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  it('refuses a file that belongs to another stream', async () => {
    // Prepare
    const path = join(dir, 'checkpoints.json');
    await new FileCheckpointStore(path, { streamName: 'stream-a' }).put('shardId-000000000000', {
      sequenceNumber: '1',
    });

    // Act
    const read = new FileCheckpointStore(path, { streamName: 'stream-b' }).get('shardId-000000000000');

    // Assess
    await expect(read).rejects.toThrow(/belongs to stream "stream-a"/);
  });

  it('says how to recover from a corrupt file', async () => {
    // Prepare
    const path = join(dir, 'checkpoints.json');
    await writeFile(path, '{"version":1,"shards":{"x":{"sequenceNumber":');

    // Act
    const read = new FileCheckpointStore(path).get('x');

    // Assess
    await expect(read).rejects.toBeInstanceOf(CheckpointStoreError);
    await expect(new FileCheckpointStore(path).get('x')).rejects.toThrow(/delete it to restart/);
  });

  it('rejects a put it could not make durable', async () => {
    // Prepare: the checkpoint "file" is a folder, so the rename fails.
    const path = join(dir, 'checkpoints.json');
    await mkdir(join(path, 'occupied'), { recursive: true });
    const store = new FileCheckpointStore(path);

    // Act
    const put = store.put('shardId-000000000000', { sequenceNumber: '1' });

    // Assess
    await expect(put).rejects.toThrow(/cannot (read|write) checkpoint file/);
  });
});
