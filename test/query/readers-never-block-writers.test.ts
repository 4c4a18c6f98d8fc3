import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COPY_BYTES_PER_MS,
  readableFile,
  snapshotPathOf,
  WarehouseSnapshot,
} from '../../consumers/cli/warehouse-reader.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { landGeneratedTraffic } from '../warehouse/landed-traffic.ts';

/**
 * Readers never stop writers: while a slow analyst query runs in another process (`shardline
 * query`, which reads the loader's snapshot), and while a DuckDB client holds the snapshot open,
 * the loader keeps loading new files at its usual pace, and the query still answers.
 */

const BIN = resolve(import.meta.dirname, '../../consumers/cli/bin.cjs');
/** ~10 s of work on two cores over the requests table (7.5e8 hashes). */
const SLOW_SQL = 'select sum(hash(r.request_id, a.range) % 1000) as n from requests r, range(250000) a';

let dir: string;
let db: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readers-writers-'));
  const landed = await landGeneratedTraffic(dir, {
    count: 3_000,
    seed: 11,
    startTime: '2025-01-15T10:00:00.000Z',
    ratePerSecond: 20,
    batchRows: 500,
  });
  await landed.warehouse.close();
  db = join(dir, 'warehouse.duckdb');
}, 60_000);

/** Lands `count` more rows in new files of the lake the loader reads. */
const landMore = async (name: string, seed: number, startTime: string) => {
  const more = await landGeneratedTraffic(join(dir, name), {
    count: 200,
    seed,
    startTime,
    ratePerSecond: 20,
    batchRows: 200,
  });
  await more.warehouse.close();
  const store = new LocalDirStore(join(dir, 'lake'));
  const other = new LocalDirStore(join(dir, name, 'lake'));
  for (const key of await other.list('requests/')) await store.put(key, await other.get(key));
};

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readers never stop writers', () => {
  it('loads while a slow `shardline query` runs in another process and a DuckDB client holds the snapshot', async () => {
    // Prepare: the loader's snapshot, a client left open on it, and a slow query in another process.
    const snapshot = new WarehouseSnapshot(db);
    await snapshot.refresh();
    const client = await DuckDBInstance.create(snapshotPathOf(db), { access_mode: 'READ_ONLY' });
    const query = spawn(process.execPath, [BIN, 'query', '--db', db, '--format', 'json', SLOW_SQL], {
      cwd: dir,
    });
    let stdout = '';
    let stderr = '';
    query.stdout.on('data', (d) => (stdout += d));
    query.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number>((r) => query.on('exit', (code) => r(code ?? -1)));
    const queryStarted = Date.now();
    await sleep(2_500); // tsx start-up, then the query is running

    // Act: land and load new files, one at a time, as the loader does every loadIntervalMs.
    const warehouse = await DuckDbWarehouse.open(db, { lockTimeoutMs: 2_000 });
    const store = new LocalDirStore(join(dir, 'lake'));
    const loads: number[] = [];
    let running = true;
    void exited.then(() => (running = false));
    for (let i = 0; i < 3; i++) {
      await landGeneratedTraffic(join(dir, `more-${i}`), {
        count: 200,
        seed: 100 + i,
        startTime: `2025-01-16T1${i}:00:00.000Z`,
        ratePerSecond: 20,
        batchRows: 200,
      }).then(async (more) => {
        await more.warehouse.close();
        // Move the new files into the lake the loader reads.
        const other = new LocalDirStore(join(dir, `more-${i}`, 'lake'));
        for (const key of await other.list('requests/')) await store.put(key, await other.get(key));
      });
      const t = performance.now();
      const loaded = await warehouse.loadNewFiles(store);
      await snapshot.refresh();
      loads.push(performance.now() - t);
      expect(loaded.files).toBeGreaterThan(0);
    }
    const stillRunningWhileLoading = running;
    const code = await exited;
    const queryMs = Date.now() - queryStarted;
    client.closeSync();
    const rows = await warehouse.rowCount();
    await warehouse.close();

    // Assess
    expect(stillRunningWhileLoading).toBe(true);
    expect(code, stderr).toBe(0);
    expect(Number(JSON.parse(stdout).n)).toBeGreaterThan(0);
    expect(Math.max(...loads)).toBeLessThan(1_500);
    expect(rows).toBe(3_600);
    console.log(JSON.stringify({ queryMs, loadsMs: loads.map(Math.round) }));
  }, 120_000);

  it('a slow query started right after a load, before the snapshot is refreshed, reads the snapshot and never holds the loader', async () => {
    // Prepare: a snapshot, then a load that makes the warehouse newer than it, and at once a slow
    // query (the window in which readers used to be sent to the warehouse itself).
    const snapshot = new WarehouseSnapshot(db, { minIntervalMs: 60_000 });
    await snapshot.refresh({ force: true });
    const store = new LocalDirStore(join(dir, 'lake'));
    const warehouse = await DuckDbWarehouse.open(db, { lockTimeoutMs: 2_000 });
    await landMore('after-load-0', 300, '2025-01-17T10:00:00.000Z');
    expect((await warehouse.loadNewFiles(store)).files).toBeGreaterThan(0);
    const deferred = await snapshot.refresh(); // within minIntervalMs: not copied
    const target = readableFile(db);
    const query = spawn(process.execPath, [BIN, 'query', '--db', db, '--format', 'json', SLOW_SQL], {
      cwd: dir,
    });
    let stderr = '';
    query.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number>((r) => query.on('exit', (code) => r(code ?? -1)));
    let running = true;
    void exited.then(() => (running = false));
    await sleep(2_500);

    // Act: the next loads, and a forced refresh renamed over the snapshot the query holds open.
    const loads: number[] = [];
    for (let i = 1; i <= 2; i++) {
      await landMore(`after-load-${i}`, 300 + i, `2025-01-17T1${i}:00:00.000Z`);
      const t = performance.now();
      const loaded = await warehouse.loadNewFiles(store);
      loads.push(performance.now() - t);
      expect(loaded.failed).toEqual([]);
      expect(loaded.files).toBeGreaterThan(0);
    }
    const stillRunningWhileLoading = running;
    const copied = await snapshot.refresh({ force: true });
    const code = await exited;
    await warehouse.close();

    // Assess
    expect(deferred.state).toBe('deferred');
    expect(target).toEqual({ file: snapshotPathOf(db), snapshot: true });
    expect(stillRunningWhileLoading).toBe(true);
    expect(Math.max(...loads)).toBeLessThan(1_500);
    expect(copied.state).toBe('copied');
    expect(code, stderr).toBe(0);
  }, 120_000);

  it('refreshes the snapshot at most every max(minInterval, 10 × the last copy), and at once when forced', async () => {
    // Prepare
    let now = 1_000_000;
    const file = join(dir, 'interval.duckdb');
    const w = await DuckDbWarehouse.open(file);
    await w.close();
    const snapshot = new WarehouseSnapshot(file, { minIntervalMs: 5_000, now: () => now });
    const touch = async () => {
      const again = await DuckDbWarehouse.open(file);
      await again.query(`create table t_${now} (x integer)`);
      await again.close();
    };

    // Act
    const first = await snapshot.refresh();
    const unchanged = await snapshot.refresh();
    await touch();
    now += 1_000;
    const early = await snapshot.refresh();
    now += Math.max(5_000, 10 * snapshot.lastCopyMs);
    const due = await snapshot.refresh();
    await touch();
    const forced = await snapshot.refresh({ force: true });

    // Assess
    expect(first.state).toBe('copied');
    expect(unchanged.state).toBe('current');
    expect(early.state).toBe('deferred');
    expect(due.state).toBe('copied');
    expect(forced.state).toBe('copied');
    expect(existsSync(`${snapshotPathOf(file)}.${process.pid}.tmp`)).toBe(false);
  }, 60_000);

  it('with no floor given, refreshes once 10 × the last copy has passed: a small warehouse after every load', async () => {
    // Prepare
    let now = 2_000_000;
    const file = join(dir, 'no-floor.duckdb');
    const w = await DuckDbWarehouse.open(file);
    await w.close();
    // The real clock, moved on by the test: the copies' times are real.
    const snapshot = new WarehouseSnapshot(file, { now: () => Date.now() + now });
    const touch = async () => {
      const again = await DuckDbWarehouse.open(file);
      await again.query(`create table t_${now} (x integer)`);
      await again.close();
    };

    // Act
    const first = await snapshot.refresh();
    await touch();
    now -= 60_000;
    const early = await snapshot.refresh();
    now += 60_000 + Math.ceil(10 * snapshot.lastCopyCostMs) + 1;
    const due = await snapshot.refresh();

    // Assess: a copy of this file takes a few ms, so the next is due well within a second.
    expect(first.state).toBe('copied');
    expect(snapshot.lastCopyMs).toBeLessThan(90);
    expect(snapshot.lastCopyCostMs).toBeLessThanOrEqual(snapshot.lastCopyMs);
    expect(early.state).toBe('deferred');
    expect(due.state).toBe('copied');
  }, 60_000);

  it('reports a copy quicker than a millisecond as the time it took, never as 0 (which means no copy yet)', async () => {
    // Prepare: a file that is not a warehouse (the snapshot copies bytes) and a copy that writes
    // an empty file, which takes microseconds.
    const file = join(dir, 'instant.duckdb');
    await writeFile(file, 'v0');
    const snapshot = new WarehouseSnapshot(file, { copy: (_from, to) => writeFile(to, '') });
    const times: number[] = [];

    // Act: 20 copies, each of a changed file, forced past the interval.
    for (let i = 1; i <= 20; i += 1) {
      await writeFile(file, `v${i}`.padEnd(2 + i, '.'));
      const done = await snapshot.refresh({ force: true });
      if (done.state === 'copied') times.push(done.ms);
    }

    // Assess
    expect(times).toHaveLength(20);
    expect(times.filter((ms) => ms <= 0)).toEqual([]);
    expect(Math.max(...times)).toBeLessThan(1_000);
  });

  it('counts a copy slower than its bytes need at 200 MB/s as a busy machine: the next is not put off 10 times as long', async () => {
    // Prepare: copies really copy, and the clock says each took 5 s (a busy thread pool).
    let now = 3_000_000;
    let copyTakes = 5_000;
    const file = join(dir, 'busy.duckdb');
    const w = await DuckDbWarehouse.open(file);
    await w.close();
    const snapshot = new WarehouseSnapshot(file, {
      now: () => now,
      copy: async (from, to) => {
        await copyFile(from, to);
        now += copyTakes;
      },
    });
    const touch = async () => {
      const again = await DuckDbWarehouse.open(file);
      await again.query(`create table t_${now} (x integer)`);
      await again.close();
    };
    const bytes = statSync(file).size;

    // Act
    const slow = await snapshot.refresh();
    const slowCost = snapshot.lastCopyCostMs;
    await touch();
    const early = await snapshot.refresh();
    now += Math.ceil((10 * statSync(file).size) / COPY_BYTES_PER_MS) + 1;
    const soon = await snapshot.refresh();
    // A copy no slower than its bytes allow (~1.4 ms for this file) costs its time.
    copyTakes = 1;
    await touch();
    now += 60_000;
    const quick = await snapshot.refresh();
    const quickCost = snapshot.lastCopyCostMs;

    // Assess
    expect(slow).toEqual({ state: 'copied', ms: 5_000 });
    expect(slowCost).toBe(bytes / COPY_BYTES_PER_MS);
    expect(slowCost).toBeLessThan(50);
    expect(early.state).toBe('deferred');
    expect(soon.state).toBe('copied');
    expect(quick).toEqual({ state: 'copied', ms: 1 });
    expect(statSync(file).size / COPY_BYTES_PER_MS).toBeGreaterThan(1);
    expect(quickCost).toBe(1);
  }, 60_000);

  it('a slow query on a warehouse with no snapshot holds the loader: the reason for the snapshot', async () => {
    // Prepare: a warehouse no loader keeps a snapshot of, and a slow query on it in another process.
    const file = join(dir, 'no-snapshot.duckdb');
    const w = await DuckDbWarehouse.open(file);
    await w.close();
    const query = spawn(process.execPath, [
      BIN,
      'query',
      '--db',
      file,
      'select sum(hash(a.range + b.range * 100000) % 1000) from range(20000) a, range(20000) b',
    ]);
    const exited = new Promise<void>((r) => query.on('exit', () => r()));
    await sleep(2_500);

    // Act
    const again = await DuckDbWarehouse.open(file, { lockTimeoutMs: 300 }).then(
      async (opened) => {
        await opened.rowCount();
        return 'opened';
      },
      (e: Error) => e.message,
    );
    const rowCount = await DuckDbWarehouse.open(file, { lockTimeoutMs: 300 })
      .then((opened) => opened.rowCount())
      .catch((e: Error) => e.message);
    query.kill();
    await exited;

    // Assess
    expect([again, rowCount].some((r) => /stayed locked by another process/.test(String(r)))).toBe(true);
    expect(existsSync(snapshotPathOf(file))).toBe(false);
  }, 60_000);
});
