import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDirStore } from './local-dir-store.ts';

let root: string;
let store: LocalDirStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'local-dir-store-'));
  store = new LocalDirStore(root);
});

afterEach(async () => {
  await chmod(root, 0o755).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

const bytes = (n: number, seed = 1): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('LocalDirStore', () => {
  it('puts and gets the exact bytes, creating the folders of the key', async () => {
    // Prepare
    const body = bytes(300_000);

    // Act
    await store.put('requests/dt=2025-01-15/hr=09/a.parquet', body);
    const back = await store.get('requests/dt=2025-01-15/hr=09/a.parquet');

    // Assess
    expect(back).toEqual(body);
  });

  it('replaces an existing object and leaves no temp file behind', async () => {
    // Prepare
    await store.put('requests/a.parquet', bytes(10, 1));

    // Act
    await store.put('requests/a.parquet', bytes(20, 2));

    // Assess
    expect(await store.get('requests/a.parquet')).toEqual(bytes(20, 2));
    expect(await readdir(join(root, 'requests'))).toEqual(['a.parquet']);
  });

  it('lists keys under a prefix recursively, sorted, after startAfter, ignoring dot files', async () => {
    // Prepare
    for (const key of [
      'requests/dt=2025-01-16/hr=00/c',
      'requests/dt=2025-01-15/hr=10/b',
      'requests/dt=2025-01-15/hr=09/a',
      'dead_letters/x',
    ]) {
      await store.put(key, bytes(3));
    }
    await writeFile(join(root, 'requests', 'dt=2025-01-15', 'hr=09', '.a.123.tmp'), 'partial');

    // Act
    const all = await store.list('requests/');
    const partial = await store.list('requests/dt=2025-01-15');
    const after = await store.list('requests/', 'requests/dt=2025-01-15/hr=09/a');

    // Assess
    expect(all).toEqual([
      'requests/dt=2025-01-15/hr=09/a',
      'requests/dt=2025-01-15/hr=10/b',
      'requests/dt=2025-01-16/hr=00/c',
    ]);
    expect(partial).toEqual(['requests/dt=2025-01-15/hr=09/a', 'requests/dt=2025-01-15/hr=10/b']);
    expect(after).toEqual(['requests/dt=2025-01-15/hr=10/b', 'requests/dt=2025-01-16/hr=00/c']);
  });

  it('lists nothing for a prefix that has no folder yet', async () => {
    // Act
    const keys = await store.list('requests/');

    // Assess
    expect(keys).toEqual([]);
  });

  it('never shows a reader a partial object while writes are in flight', async () => {
    // Prepare
    const body = bytes(2_000_000, 7);
    const reads: number[] = [];

    // Act
    const write = Promise.all([1, 2, 3].map(() => store.put('requests/big.parquet', body)));
    while ((await store.list('requests/')).length === 0) await new Promise((r) => setImmediate(r));
    reads.push((await store.get('requests/big.parquet')).length);
    await write;

    // Assess
    expect(reads).toEqual([body.length]);
  });

  it('throws a non-retriable LandError for a missing key', async () => {
    // Act
    const read = store.get('requests/missing.parquet');

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'LandError', retriable: false });
  });

  it.each(['', '/abs', 'a//b', 'a/../b', 'a/.hidden', 'a\\b'])('rejects the unsafe key %j', async (key) => {
    // Act
    const write = store.put(key, bytes(1));

    // Assess
    await expect(write).rejects.toMatchObject({ name: 'LandError', retriable: false });
  });

  it.skipIf(process.getuid?.() === 0)(
    'reports a read-only directory as not retriable, saying what to fix (skipped as root, whom permissions do not stop)',
    async () => {
      // Prepare
      await mkdir(join(root, 'requests'));
      await chmod(join(root, 'requests'), 0o555);

      // Act
      const write = store.put('requests/a.parquet', bytes(1));

      // Assess
      await expect(write).rejects.toMatchObject({
        retriable: false,
        message: expect.stringMatching(/writable/),
      });
    },
  );

  it('reports a key whose folder is a file as not retriable', async () => {
    // Prepare
    await writeFile(join(root, 'requests'), 'not a dir');

    // Act
    const write = store.put('requests/a.parquet', bytes(1));

    // Assess
    await expect(write).rejects.toMatchObject({ name: 'LandError', retriable: false });
  });

  it('describes itself as a file URL', () => {
    // Assess
    expect(store.describe()).toBe(`file://${root}`);
  });
});
