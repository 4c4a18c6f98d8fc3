import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../pipeline/land/s3-store.ts';
import { type S3Server, startS3Server } from '../support/s3-server.ts';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

let s3: S3Server;
const stores: S3Store[] = [];

const storeFor = (options: Partial<ConstructorParameters<typeof S3Store>[0]> = {}): S3Store => {
  const store = new S3Store({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials,
    ...options,
  });
  stores.push(store);
  return store;
};

beforeAll(async () => {
  s3 = await startS3Server('s3-store-test');
});

afterAll(async () => {
  for (const store of stores) store.destroy();
  await s3.close();
});

const bytes = (n: number, seed = 1): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed) & 0xff);

describe('S3Store against s3rver', () => {
  it('round-trips a 300,000-byte object exactly', async () => {
    // Prepare
    const store = storeFor({ prefix: 'exact' });
    const body = bytes(300_000);

    // Act
    await store.put('requests/dt=2025-01-15/hr=09/a.parquet', body);
    const back = await store.get('requests/dt=2025-01-15/hr=09/a.parquet');

    // Assess
    expect(back.byteLength).toBe(300_000);
    expect(Buffer.from(back).equals(Buffer.from(body))).toBe(true);
  });

  it('lists keys under a prefix sorted, after startAfter, across pages, without the store prefix', async () => {
    // Prepare
    const store = storeFor({ prefix: 'paged/', listPageSize: 3 });
    const keys = Array.from(
      { length: 10 },
      (_, i) => `requests/dt=2025-01-15/hr=${String(i).padStart(2, '0')}/f.parquet`,
    );
    for (const key of [...keys].reverse()) await store.put(key, bytes(5, keys.indexOf(key)));
    await store.put('dead_letters/x.jsonl', bytes(1));

    // Act
    const all = await store.list('requests/');
    const after = await store.list('requests/', keys[6]);
    const none = await store.list('nothing/');

    // Assess
    expect(all).toEqual(keys);
    expect(after).toEqual(keys.slice(7));
    expect(none).toEqual([]);
  });

  it('replaces an object put twice under the same key', async () => {
    // Prepare
    const store = storeFor({ prefix: 'replace' });
    await store.put('requests/a.parquet', bytes(100, 1));

    // Act
    await store.put('requests/a.parquet', bytes(50, 2));

    // Assess
    expect(await store.get('requests/a.parquet')).toEqual(bytes(50, 2));
    expect(await store.list('requests/')).toEqual(['requests/a.parquet']);
  });

  it('keeps prefixes apart', async () => {
    // Prepare
    const a = storeFor({ prefix: 'tenant-a' });
    const b = storeFor({ prefix: 'tenant-b' });

    // Act
    await a.put('requests/only-a.parquet', bytes(3));

    // Assess
    expect(await a.list('requests/')).toEqual(['requests/only-a.parquet']);
    expect(await b.list('requests/')).toEqual([]);
  });

  it('reports a missing bucket as not retriable, saying what to fix', async () => {
    // Prepare
    const store = storeFor({ bucket: 'no-such-bucket' });

    // Act
    const write = store.put('requests/a.parquet', bytes(3));

    // Assess
    await expect(write).rejects.toMatchObject({
      name: 'LandError',
      retriable: false,
      message: expect.stringMatching(/NoSuchBucket.*create the bucket/),
    });
  });

  it('reports a missing key as not retriable', async () => {
    // Act
    const read = storeFor().get('requests/missing.parquet');

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'LandError', retriable: false });
  });

  it('reports an unreachable endpoint as retriable', async () => {
    // Prepare
    const store = storeFor({ endpoint: 'http://127.0.0.1:1' });

    // Act
    const write = store.put('requests/a.parquet', bytes(3));

    // Assess
    await expect(write).rejects.toMatchObject({
      name: 'LandError',
      retriable: true,
      message: expect.stringMatching(/will retry/),
    });
  });

  it('describes itself by bucket, prefix and endpoint', () => {
    // Assess
    expect(storeFor({ prefix: 'shardline' }).describe()).toBe(
      `s3://${s3.bucket}/shardline/ (endpoint ${s3.endpoint})`,
    );
  });
});
