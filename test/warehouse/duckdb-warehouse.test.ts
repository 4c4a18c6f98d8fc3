import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetEncoder } from '../../pipeline/encode/parquet-encoder.ts';
import { sampleRequestRows } from '../../pipeline/encode/sample-request-rows.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { batchObjectKey, hourPrefix } from '../../pipeline/land/object-key.ts';
import type { ObjectStore } from '../../pipeline/land/object-store.ts';
import { S3Store } from '../../pipeline/land/s3-store.ts';
import { DuckDbWarehouse, type LoadResult } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import type { RequestRow } from '../../schemas/request-row.ts';
import { type S3Server, startS3Server } from '../support/s3-server.ts';

let dir: string;
let encoder: ParquetEncoder;
let s3: S3Server;
const s3Stores: S3Store[] = [];
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'duckdb-warehouse-'));
  encoder = await ParquetEncoder.create();
  s3 = await startS3Server('warehouse-test');
});

/** A store of its own per test (a fresh prefix), so that tests do not see each other's files. */
const newS3Store = (): S3Store => {
  const store = new S3Store({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    prefix: `landing-${files}`,
  });
  s3Stores.push(store);
  return store;
};

afterAll(async () => {
  await encoder.close();
  for (const store of s3Stores) store.destroy();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

/** Encodes rows and lands them as a batch file, keyed like the pipeline does. */
const land = async (store: ObjectStore, rows: readonly RequestRow[]): Promise<string> => {
  const n = files++;
  const key = batchObjectKey({
    table: 'requests',
    shardId: 'shardId-000000000000',
    firstSequence: String(n * 1000),
    lastSequence: String(n * 1000 + rows.length),
    time: new Date(Date.UTC(2025, 0, 15, 10, 0, n)),
    ext: 'parquet',
  });
  await store.put(key, await encoder.encode(rows));
  return key;
};

/** A load's whole result: nothing duplicated, replaced, compacted or failed unless `counts` says so. */
const loadResult = (counts: Partial<LoadResult> & Pick<LoadResult, 'files' | 'rows'>): LoadResult => ({
  duplicateRows: 0,
  replacedRows: 0,
  compactedFiles: 0,
  failed: [],
  groupFallbacks: [],
  ...counts,
});

const freshDb = (name: string): string => join(dir, `${name}.duckdb`);

/**
 * Another process holding `file` open read-write, once it holds it: until `release()`, or for
 * `releaseAfterMs` when given. `exited` settles when it has let go.
 */
const holdFile = async (file: string, releaseAfterMs?: number) => {
  const holder = spawn(
    process.execPath,
    [
      '-e',
      `const { DuckDBInstance } = require('@duckdb/node-api');
       DuckDBInstance.create(process.argv[1]).then(async (i) => {
         const c = await i.connect();
         const release = () => { c.closeSync(); i.closeSync(); process.exit(0); };
         process.stdout.write('locked\\n');
         process.stdin.on('data', release);
         if (process.argv[2] !== '') setTimeout(release, Number(process.argv[2]));
       });`,
      file,
      releaseAfterMs === undefined ? '' : String(releaseAfterMs),
    ],
    { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = once(holder, 'exit');
  await once(holder.stdout, 'data');
  return { exited, release: () => holder.stdin.write('done\n') };
};

describe.each([
  ['a local directory', () => new LocalDirStore(join(dir, `landing-${files}`))],
  ['s3rver', newS3Store],
])('DuckDbWarehouse loading from %s', (name, makeStore) => {
  it('loads each landed file exactly once', async () => {
    // Prepare
    const store = makeStore();
    const warehouse = await DuckDbWarehouse.open(freshDb(`once-${name}`));
    await land(store, sampleRequestRows(1_000, { seed: 21 }));
    await land(store, sampleRequestRows(500, { seed: 22 }));

    // Act
    const first = await warehouse.loadNewFiles(store);
    const second = await warehouse.loadNewFiles(store);

    // Assess
    expect(first).toEqual(loadResult({ files: 2, rows: 1_500 }));
    expect(second).toEqual(loadResult({ files: 0, rows: 0 }));
    expect(await warehouse.rowCount()).toBe(1_500);
    await warehouse.close();
  });

  it('loads the files after one it cannot read, and reports that one until it can', async () => {
    // Prepare: a truncated object between two good files.
    const store = makeStore();
    const warehouse = await DuckDbWarehouse.open(freshDb(`broken-${name}`));
    await land(store, sampleRequestRows(100, { seed: 41 }));
    const broken = await land(store, sampleRequestRows(100, { seed: 42 }));
    const whole = await store.get(broken);
    await store.put(broken, whole.subarray(0, whole.byteLength >> 1));
    await land(store, sampleRequestRows(100, { seed: 43 }));

    // Act
    const first = await warehouse.loadNewFiles(store);
    await store.put(broken, whole);
    const second = await warehouse.loadNewFiles(store);

    // Assess
    expect({ files: first.files, rows: first.rows, failed: first.failed.map((f) => f.key) }).toEqual({
      files: 2,
      rows: 200,
      failed: [broken],
    });
    // The three landed together failed as a group first, then loaded one by one.
    expect(first.groupFallbacks).toEqual([{ files: 3, message: expect.any(String) }]);
    expect(second).toEqual(loadResult({ files: 1, rows: 100 }));
    await warehouse.close();
  });

  it('picks up files landed after an earlier load', async () => {
    // Prepare
    const store = makeStore();
    const warehouse = await DuckDbWarehouse.open(freshDb(`later-${name}`));
    await land(store, sampleRequestRows(300, { seed: 31 }));
    await warehouse.loadNewFiles(store);

    // Act
    await land(store, sampleRequestRows(200, { seed: 32 }));
    const result = await warehouse.loadNewFiles(store);

    // Assess
    expect(result.files).toBe(1);
    expect(result.rows).toBe(200);
    expect(await warehouse.rowCount()).toBe(500);
    await warehouse.close();
  });

  it('skips rows whose (project_id, request_id, ts) is already loaded, and duplicates inside a file', async () => {
    // Prepare
    const store = makeStore();
    const warehouse = await DuckDbWarehouse.open(freshDb(`dupes-${name}`));
    const original = sampleRequestRows(400, { seed: 41 });
    await land(store, original);
    await warehouse.loadNewFiles(store);
    const fresh = sampleRequestRows(100, { seed: 42 });
    const slipped = original.slice(0, 50).map((r) => ({ ...r, status: 599 }));
    const first = fresh[0] as RequestRow;
    const retried = { ...first, latency_ms: -1, ingest_ts: first.ingest_ts + 1_000_000n };
    const key = await land(store, [retried, ...slipped, ...fresh]);

    // Act
    const result = await warehouse.loadNewFiles(store);

    // Assess
    expect(result).toEqual(loadResult({ files: 1, rows: 100, duplicateRows: 51 }));
    expect(await warehouse.rowCount()).toBe(500);
    const overwritten = await warehouse.query(
      'SELECT count(*) AS n FROM requests WHERE status = 599 OR latency_ms = -1',
    );
    expect(overwritten).toEqual([{ n: 0 }]);
    const recorded = await warehouse.query(`SELECT rows FROM _shardline_loaded_files WHERE key = '${key}'`);
    expect(recorded).toEqual([{ rows: 100 }]);
    await warehouse.close();
  });

  it('loads files landed together with the same rules as one by one: first-arrived row kept, counts per file', async () => {
    // Prepare: the second file resends a row of the first (arrived later, altered) and adds new rows.
    const store = makeStore();
    const warehouse = await DuckDbWarehouse.open(freshDb(`together-${name}`));
    const a = sampleRequestRows(300, { seed: 51 });
    const b = sampleRequestRows(200, { seed: 52 });
    const resent = {
      ...(a[7] as RequestRow),
      status: 599,
      ingest_ts: (a[7] as RequestRow).ingest_ts + 5_000_000n,
    };
    const keyA = await land(store, a);
    const keyB = await land(store, [resent, ...b]);

    // Act
    const result = await warehouse.loadNewFiles(store);

    // Assess
    expect(result).toEqual(loadResult({ files: 2, rows: 500, duplicateRows: 1 }));
    expect(await warehouse.query('SELECT count(*) AS n FROM requests WHERE status = 599')).toEqual([
      { n: 0 },
    ]);
    const recorded = await warehouse.query('SELECT key, rows FROM _shardline_loaded_files ORDER BY key');
    expect(recorded).toEqual([
      { key: keyA, rows: 300 },
      { key: keyB, rows: 200 },
    ]);
    await warehouse.close();
  });

  it('lists only the partitions it is given, once each, and the rest at a full load', async () => {
    // Prepare: one batch in the 10:00 hour, one in the 11:00 hour.
    const store = makeStore();
    const warehouse = await DuckDbWarehouse.open(freshDb(`within-${name}`));
    const landAt = async (hour: number, rows: readonly RequestRow[]) => {
      const n = files++;
      const time = new Date(Date.UTC(2025, 0, 15, hour, 30, n % 60));
      const key = batchObjectKey({
        table: 'requests',
        shardId: 'shardId-000000000000',
        firstSequence: String(n * 1000),
        lastSequence: String(n * 1000 + rows.length),
        time,
        ext: 'parquet',
      });
      await store.put(key, await encoder.encode(rows));
      return time;
    };
    await landAt(10, sampleRequestRows(100, { seed: 61 }));
    const eleven = await landAt(11, sampleRequestRows(50, { seed: 62 }));
    const recent = hourPrefix('requests', eleven);

    // Act
    const partial = await warehouse.loadNewFiles(store, undefined, {
      within: [recent, recent, 'replays/requests/'],
    });
    const again = await warehouse.loadNewFiles(store, undefined, { within: [recent] });
    const full = await warehouse.loadNewFiles(store);

    // Assess
    expect([partial.files, partial.rows, partial.failed]).toEqual([1, 50, []]);
    expect([again.files, again.rows]).toEqual([0, 0]);
    expect([full.files, full.rows, full.failed]).toEqual([1, 100, []]);
    expect(await warehouse.rowCount()).toBe(150);
    await warehouse.close();
  });

  it('keeps two requests that reuse a request id at different times, as the pipeline does', async () => {
    // Prepare: an app that reuses its ids (a client trace id sent again on a retry a day later).
    const store = makeStore();
    const warehouse = await DuckDbWarehouse.open(freshDb(`reused-${name}`));
    const [first] = sampleRequestRows(1, { seed: 43 }) as [RequestRow];
    const nextDay = {
      ...first,
      ts: first.ts + 86_400_000_000n,
      ingest_ts: first.ingest_ts + 86_400_000_000n,
    };
    await land(store, [first]);
    await warehouse.loadNewFiles(store);

    // Act
    await land(store, [nextDay, { ...nextDay, status: 599 }]);
    const result = await warehouse.loadNewFiles(store);

    // Assess: the second request lands; its resend (same id, same time) does not.
    expect(result).toMatchObject({ rows: 1, duplicateRows: 1 });
    expect(await warehouse.rowCount()).toBe(2);
    await warehouse.close();
  });
});

describe('DuckDbWarehouse queries and locking', () => {
  it('returns plain values: numbers for counts, ISO strings with microseconds for timestamps', async () => {
    // Prepare
    const store = new LocalDirStore(join(dir, 'landing-query'));
    const rows = sampleRequestRows(10, { seed: 51 });
    (rows[0] as RequestRow).ts = 1_736_935_200_123_456n;
    (rows[0] as RequestRow).bytes_out = 5_000_000_000;
    await land(store, rows);
    const warehouse = await DuckDbWarehouse.open(freshDb('query'));
    await warehouse.loadNewFiles(store, store.rootDir);

    // Act
    const result = await warehouse.query(
      `SELECT ts, bytes_out, project_id FROM requests WHERE request_id = '${(rows[0] as RequestRow).request_id}'`,
    );

    // Assess
    expect(result).toEqual([
      {
        ts: '2025-01-15T10:00:00.123456Z',
        bytes_out: 5_000_000_000,
        project_id: (rows[0] as RequestRow).project_id,
      },
    ]);
    await warehouse.close();
  });

  it('lets a read-only reader query while the writer is idle, and refuses to load through it', async () => {
    // Prepare
    const store = new LocalDirStore(join(dir, 'landing-readonly'));
    await land(store, sampleRequestRows(25, { seed: 61 }));
    const file = freshDb('readonly');
    const writer = await DuckDbWarehouse.open(file);
    await writer.loadNewFiles(store);

    // Act
    const reader = await DuckDbWarehouse.open(file, { readOnly: true });
    const count = await reader.rowCount();
    const load = reader.loadNewFiles(store);

    // Assess
    expect(count).toBe(25);
    await expect(load).rejects.toThrow(/read-only/);
    expect(await writer.rowCount()).toBe(25);
    await Promise.all([reader.close(), writer.close()]);
  });

  it('waits for another process that holds the file, and says so when it waits too long', async () => {
    // Prepare
    const file = freshDb('locked');
    await (await DuckDbWarehouse.open(file)).close();
    const { exited } = await holdFile(file, 1500);

    // Act
    const impatient = (await DuckDbWarehouse.open(file, { readOnly: true, lockTimeoutMs: 100 })).rowCount();
    const patient = (await DuckDbWarehouse.open(file, { readOnly: true, lockTimeoutMs: 20_000 })).rowCount();

    // Assess
    await expect(impatient).rejects.toMatchObject({
      retriable: true,
      message: expect.stringMatching(/locked by another process/),
    });
    await expect(patient).resolves.toBe(0);
    await exited;
  });

  it('keeps the file open for the next load while loads find files within lingerMs, and lets go after lingerMs', async () => {
    // Prepare: whether another process can open the file right now.
    const canOpen = async (file: string): Promise<boolean> => {
      const child = spawn(
        process.execPath,
        [
          '-e',
          `require('@duckdb/node-api').DuckDBInstance.create(process.argv[1], { access_mode: 'READ_ONLY' })
             .then((i) => { i.closeSync(); process.stdout.write('opened'); }, () => process.stdout.write('locked'));`,
          file,
        ],
        { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await once(child, 'exit');
      return out === 'opened';
    };
    const store = new LocalDirStore(join(dir, 'landing-linger'));
    const file = freshDb('linger');
    const warehouse = await DuckDbWarehouse.open(file, { lingerMs: 1_500 });

    // Act
    await land(store, sampleRequestRows(10, { seed: 71 }));
    const loaded = await warehouse.loadNewFiles(store);
    const afterLoad = await canOpen(file);
    // A load that finds nothing right after one that did (a timer tick between two landings).
    const between = await warehouse.loadNewFiles(store);
    const afterLoadBetween = await canOpen(file);
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    const afterLinger = await canOpen(file);
    const nothing = await warehouse.loadNewFiles(store);
    const afterEmptyLoad = await canOpen(file);
    await land(store, sampleRequestRows(10, { seed: 72 }));
    const again = await warehouse.loadNewFiles(store);
    const rows = await warehouse.rowCount();
    await warehouse.close();
    const afterClose = await canOpen(file);

    // Assess
    expect(loaded.files).toBe(1);
    expect(afterLoad).toBe(false);
    expect(between.files).toBe(0);
    expect(afterLoadBetween).toBe(false);
    expect(afterLinger).toBe(true);
    expect(nothing.files).toBe(0);
    expect(afterEmptyLoad).toBe(true);
    expect(again.files).toBe(1);
    expect(rows).toBe(20);
    expect(afterClose).toBe(true);
  });

  it('does not open the file for a load of partitions in which nothing landed since the last load', async () => {
    // Prepare: a load of today's partition, then another process holding the file.
    const store = new LocalDirStore(join(dir, 'landing-settled'));
    const file = freshDb('settled');
    const warehouse = await DuckDbWarehouse.open(file, { lockTimeoutMs: 300 });
    const key = await land(store, sampleRequestRows(10, { seed: 81 }));
    const within = [key.slice(0, key.lastIndexOf('/') + 1)];
    const first = await warehouse.loadNewFiles(store, undefined, { within });
    const holder = await holdFile(file);

    // Act
    const quiet = await warehouse.loadNewFiles(store, undefined, { within });
    await land(store, sampleRequestRows(10, { seed: 82 }));
    const landed = warehouse.loadNewFiles(store, undefined, { within });
    await landed.catch(() => undefined);
    holder.release();
    await holder.exited;
    const after = await warehouse.loadNewFiles(store, undefined, { within });
    const rows = await warehouse.rowCount();
    await warehouse.close();

    // Assess: nothing new needed no file; a new file did, and waited for the holder.
    expect(first.files).toBe(1);
    expect(quiet).toMatchObject({ files: 0, rows: 0, failed: [] });
    await expect(landed).rejects.toThrow(/locked by another process/);
    expect(after.files).toBe(1);
    expect(rows).toBe(20);
  });

  it('opens the file with the DuckDB threads it is given, and one per core by default', async () => {
    // Prepare
    const single = await DuckDbWarehouse.open(freshDb('threads-one'), { threads: 1 });
    const byDefault = await DuckDbWarehouse.open(freshDb('threads-default'));

    // Act
    const [one] = await single.query(`SELECT current_setting('threads') AS threads`);
    const [all] = await byDefault.query(`SELECT current_setting('threads') AS threads`);
    await single.close();
    await byDefault.close();

    // Assess
    expect(Number(one?.threads)).toBe(1);
    expect(Number(all?.threads)).toBe(availableParallelism());
  });

  it('refuses to open a missing file read-only, saying what to do', async () => {
    // Act
    const open = DuckDbWarehouse.open(join(dir, 'missing.duckdb'), { readOnly: true });

    // Assess
    await expect(open).rejects.toThrow(/no database at .*load data first/);
  });
});
