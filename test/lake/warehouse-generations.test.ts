import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetEncoder } from '../../pipeline/encode/parquet-encoder.ts';
import { sampleRequestRows } from '../../pipeline/encode/sample-request-rows.ts';
import { replayKeyOf } from '../../pipeline/land/lake-layout.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { batchObjectKey } from '../../pipeline/land/object-key.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { REQUEST_COLUMNS, type RequestRow } from '../../schemas/request-row.ts';

let dir: string;
let encoder: ParquetEncoder;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shardline-generations-'));
  encoder = await ParquetEncoder.create();
});

afterAll(async () => {
  await encoder.close();
  await rm(dir, { recursive: true, force: true });
});

const keyFactory = (generation = 0): string => {
  n += 1;
  const key = batchObjectKey({
    table: 'requests',
    shardId: 'shardId-000000000000',
    firstSequence: String(n * 100),
    lastSequence: String(n * 100 + 99),
    time: new Date(Date.UTC(2026, 10, 22, 10, 0, n)),
    ext: 'parquet',
  });
  return generation === 0 ? key : replayKeyOf(generation)(key);
};

const fresh = async () => {
  const root = join(dir, `case-${++n}`);
  await mkdir(root, { recursive: true });
  const store = new LocalDirStore(join(root, 'lake'));
  const warehouse = await DuckDbWarehouse.open(join(root, 'warehouse.duckdb'));
  const land = async (rows: readonly RequestRow[], generation = 0) => {
    const key = keyFactory(generation);
    await store.put(key, await encoder.encode(rows.map((r) => ({ ...r, generation }))));
    return key;
  };
  return { root, store, warehouse, land };
};

describe('embedded warehouse: generations (latest wins, resends harmless)', () => {
  it('replaces a row with the newer generation that changes it, and only then', async () => {
    // Prepare
    const { store, warehouse, land } = await fresh();
    const rows = sampleRequestRows(50);
    await land(rows);
    await warehouse.loadNewFiles(store);

    // Act: a replay that corrects one status, then the same replay again (a new run), then a resend of the live file.
    const corrected = rows.map((r, i) => (i === 7 ? { ...r, status: 503 } : r));
    const first = await (async () => {
      await land(corrected, 1_800_000_000_000);
      return warehouse.loadNewFiles(store);
    })();
    const again = await (async () => {
      await land(corrected, 1_800_000_000_500);
      return warehouse.loadNewFiles(store);
    })();
    await land(rows);
    const resend = await warehouse.loadNewFiles(store);

    // Assess
    expect(first).toMatchObject({ files: 1, rows: 0, replacedRows: 1 });
    expect(again).toMatchObject({ files: 1, rows: 0, replacedRows: 0, duplicateRows: 50 });
    expect(resend).toMatchObject({ rows: 0, replacedRows: 0, duplicateRows: 50 });
    const [row] = await warehouse.query(
      `SELECT status, generation, count(*) OVER () AS n FROM requests WHERE request_id = '${rows[7]!.request_id}'`,
    );
    expect(row).toEqual({ status: 503, generation: 1_800_000_000_000, n: 1 });
    expect(await warehouse.rowCount()).toBe(50);
    await warehouse.close();
  });

  it('keeps the newer row when an older generation loads after it', async () => {
    // Prepare
    const { store, warehouse, land } = await fresh();
    const [row] = sampleRequestRows(1);
    await land([{ ...row!, status: 200 }], 1_800_000_000_900);
    await land([{ ...row!, status: 500 }], 1_800_000_000_100);

    // Act
    await warehouse.loadNewFiles(store);

    // Assess
    expect(await warehouse.query('SELECT status, generation FROM requests')).toEqual([
      { status: 200, generation: 1_800_000_000_900 },
    ]);
    await warehouse.close();
  });

  it('evolves a warehouse and reads Parquet files from before the generation column (as generation 0)', async () => {
    // Prepare: a warehouse and a file with the first release's columns only.
    const root = join(dir, 'old');
    await mkdir(root, { recursive: true });
    const store = new LocalDirStore(join(root, 'lake'));
    const v1 = REQUEST_COLUMNS.filter((c) => c.name !== 'generation');
    const instance = await DuckDBInstance.create(join(root, 'warehouse.duckdb'));
    const db = await instance.connect();
    const encoded = await encoder.encode(sampleRequestRows(10));
    await store.put('tmp/new.parquet', encoded);
    await db.run(
      `CREATE TABLE requests AS SELECT ${v1.map((c) => `"${c.name}"`).join(', ')} FROM read_parquet('${store.pathOf('tmp/new.parquet')}') LIMIT 0`,
    );
    const oldKey = keyFactory();
    await db.run(
      `COPY (SELECT ${v1.map((c) => `"${c.name}"`).join(', ')} FROM read_parquet('${store.pathOf('tmp/new.parquet')}')) TO '${join(root, 'old.parquet')}' (FORMAT parquet)`,
    );
    db.closeSync();
    instance.closeSync();
    await store.put(oldKey, await readFile(join(root, 'old.parquet')));

    // Act
    const warehouse = await DuckDbWarehouse.open(join(root, 'warehouse.duckdb'));
    const loaded = await warehouse.loadNewFiles(store);

    // Assess
    expect(loaded).toMatchObject({ files: 1, rows: 10, failed: [] });
    expect(await warehouse.query('SELECT count(*) AS n, sum(generation) AS g FROM requests')).toEqual([
      { n: 10, g: 0 },
    ]);
    await warehouse.close();
  });
});
