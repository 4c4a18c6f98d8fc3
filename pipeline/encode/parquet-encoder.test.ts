import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbType, REQUEST_COLUMNS, type RequestRow } from '../../schemas/request-row.ts';
import { PackedRows } from './packed-rows.ts';
import { PARQUET_ROW_GROUP_SIZE, ParquetEncoder, PURGE_AFTER_RSS_GROWTH_BYTES } from './parquet-encoder.ts';
import { sampleRequestRows } from './sample-request-rows.ts';

let dir: string;
let reader: DuckDBInstance;
let db: DuckDBConnection;
let encoder: ParquetEncoder;
let fileCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parquet-encoder-test-'));
  reader = await DuckDBInstance.create(':memory:');
  db = await reader.connect();
  encoder = await ParquetEncoder.create();
});

afterAll(async () => {
  await encoder.close();
  db.closeSync();
  reader.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const toFile = async (bytes: Uint8Array): Promise<string> => {
  const file = join(dir, `${fileCount++}.parquet`);
  await writeFile(file, bytes);
  return file;
};

const query = async (sql: string): Promise<Record<string, unknown>[]> =>
  (await db.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];

/** Reads a file back as RequestRow-shaped objects, in file order. */
const readRows = async (file: string): Promise<RequestRow[]> => {
  const select = REQUEST_COLUMNS.map((c) => {
    if (c.type === 'timestamp') return `epoch_us("${c.name}") AS "${c.name}"`;
    if (c.type === 'int64') return `"${c.name}"::DOUBLE AS "${c.name}"`;
    return `"${c.name}"`;
  }).join(', ');
  return (await query(`SELECT ${select} FROM read_parquet('${file}')`)) as unknown as RequestRow[];
};

const byRequestId = (a: RequestRow, b: RequestRow): number =>
  a.request_id < b.request_id ? -1 : a.request_id > b.request_id ? 1 : 0;

/** Sample rows plus the edge cases a plain sample does not hit. */
const edgeCaseRows = (): RequestRow[] => {
  const rows = sampleRequestRows(5_000, { seed: 7 }).reverse();
  const [first, second] = rows as [RequestRow, RequestRow];
  first.bytes_out = 5_000_000_000;
  first.bytes_in = null;
  first.path = '/v1/o\'reilly/"quoted"/ünïcödé/😀';
  first.ts = 1_736_935_200_123_457n;
  second.bytes_out = -1;
  second.host = null;
  second.headers = null;
  return rows;
};

describe('ParquetEncoder', () => {
  it('round-trips every value of every column', async () => {
    // Prepare
    const rows = edgeCaseRows();

    // Act
    const file = await toFile(await encoder.encode(rows));

    // Assess
    const back = await readRows(file);
    expect(back.length).toBe(rows.length);
    // `generation` unset in a row is written as its default, 0 (live ingestion).
    const expected = rows.map((r) => ({ ...r, generation: r.generation ?? 0 }));
    expect([...back].sort(byRequestId)).toEqual(expected.sort(byRequestId));
  });

  it('gives each 2,048-row chunk of a file its own nulls, from objects and from packed rows', async () => {
    // Prepare: in file order, nullable columns null in every row of the first and third chunks
    // and in none of the second, so that a chunk filled after another keeps nothing of its nulls.
    const rows = sampleRequestRows(3 * 2_048 + 100, { seed: 41 }).map((row, i) => ({
      ...row,
      project_id: 'p',
      ts: 1_736_935_200_000_000n + BigInt(i),
    }));
    rows.forEach((row, i) => {
      const chunk = Math.floor(i / 2_048);
      if (chunk % 2 === 0) {
        row.query = null;
        row.host = null;
        row.bytes_in = null;
        row.country = null;
      } else {
        row.query = `q=${i}`;
        row.host = `h${i}.example.com`;
        row.bytes_in = i;
        row.country = 'DE';
      }
    });
    const packed = new PackedRows();
    for (const row of rows) packed.append(row);

    // Act
    const fromObjects = await readRows(await toFile(await encoder.encode([...rows].reverse())));
    const fromPacked = await readRows(
      await toFile(await encoder.encodePacked(packed, Int32Array.from(rows.keys()).reverse())),
    );

    // Assess
    const expected = rows.map((r) => ({ ...r, generation: r.generation ?? 0 }));
    expect(fromObjects).toEqual(expected);
    expect(fromPacked).toEqual(expected);
  });

  it('writes the schema columns in order with their DuckDB types and logical TIMESTAMP(µs)', async () => {
    // Prepare
    const rows = sampleRequestRows(100);

    // Act
    const file = await toFile(await encoder.encode(rows));

    // Assess
    const described = await query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    expect(described.map((d) => [d.column_name, d.column_type])).toEqual(
      REQUEST_COLUMNS.map((c) => [c.name, duckdbType(c.type)]),
    );
    const ts = await query(`SELECT logical_type FROM parquet_schema('${file}') WHERE name = 'ts'`);
    expect(String(ts[0]?.logical_type)).toMatch(/TimestampType.*MICROS=MicroSeconds/);
  });

  it('compresses with zstd and dictionary-encodes repetitive strings', async () => {
    // Prepare
    const rows = sampleRequestRows(3_000);

    // Act
    const file = await toFile(await encoder.encode(rows));

    // Assess
    const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
    expect(codecs.map((c) => c.compression)).toEqual(['ZSTD']);
    const encodings = await query(
      `SELECT path_in_schema, encodings FROM parquet_metadata('${file}') WHERE path_in_schema IN ('project_id', 'endpoint', 'user_agent')`,
    );
    expect(encodings).toHaveLength(3);
    for (const e of encodings) expect(String(e.encodings)).toMatch(/DICTIONARY/);
  });

  it('sorts rows by (project_id, ts) and splits them into row groups of the chosen size', async () => {
    // Prepare
    const rows = sampleRequestRows(PARQUET_ROW_GROUP_SIZE + 5_000, { seed: 3 }).reverse();

    // Act
    const file = await toFile(await encoder.encode(rows));

    // Assess
    const back = await readRows(file);
    for (let i = 1; i < back.length; i++) {
      const [a, b] = [back[i - 1] as RequestRow, back[i] as RequestRow];
      const ordered = a.project_id < b.project_id || (a.project_id === b.project_id && a.ts <= b.ts);
      if (!ordered) expect.fail(`row ${i} is out of (project_id, ts) order`);
    }
    const groups = await query(
      `SELECT DISTINCT row_group_id, row_group_num_rows::INTEGER AS n FROM parquet_metadata('${file}') ORDER BY row_group_id`,
    );
    expect(groups.map((g) => g.n)).toEqual([PARQUET_ROW_GROUP_SIZE, 5_000]);
  });

  it('runs more concurrent encode calls than connections without mixing their rows', async () => {
    // Prepare: the default pool has 2 connections, so the third call waits for one.
    const batches = [11, 12, 13].map((seed, i) => sampleRequestRows(1_000 * (i + 2), { seed }));

    // Act
    const encoded = await Promise.all(batches.map((rows) => encoder.encode(rows)));

    // Assess
    for (const [i, bytes] of encoded.entries()) {
      const back = await readRows(await toFile(bytes));
      expect(back.map((r) => r.request_id).sort()).toEqual(batches[i]!.map((r) => r.request_id).sort());
    }
  });

  it('lets encode calls already made finish when closed, including one waiting for a connection', async () => {
    // Prepare
    const own = await ParquetEncoder.create({ connections: 1 });
    const a = sampleRequestRows(1_000, { seed: 21 });
    const b = sampleRequestRows(500, { seed: 22 });

    // Act
    const pending = [own.encode(a), own.encode(b)];
    await own.close();

    // Assess
    const [bytesA, bytesB] = await Promise.all(pending);
    expect((await readRows(await toFile(bytesA!))).length).toBe(1_000);
    expect((await readRows(await toFile(bytesB!))).length).toBe(500);
  });

  it('encodes an empty batch as a valid file with no rows', async () => {
    // Act
    const file = await toFile(await encoder.encode([]));

    // Assess
    const count = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`);
    expect(count[0]?.n).toBe(0);
  });

  it('rejects a row that breaks the schema with a retriable EncodeError and keeps working', async () => {
    // Prepare
    const bad = sampleRequestRows(10);
    (bad[3] as { project_id: unknown }).project_id = null;

    // Act
    const failed = encoder.encode(bad);

    // Assess
    await expect(failed).rejects.toMatchObject({ name: 'EncodeError', retriable: true });
    const file = await toFile(await encoder.encode(sampleRequestRows(10)));
    expect((await readRows(file)).length).toBe(10);
  });

  it('purges at most once per purgeEveryMs, writes the same file either way, and restores the threshold', async () => {
    // Prepare
    const always = await ParquetEncoder.create({ connections: 1, purgeEveryMs: 0 });
    const rarely = await ParquetEncoder.create({
      connections: 1,
      purgeEveryMs: 60_000,
      purgeAfterRssGrowthBytes: Number.POSITIVE_INFINITY,
    });
    const rows = sampleRequestRows(3_000, { seed: 31 });

    try {
      // Act
      const purged: Uint8Array[] = [];
      const kept: Uint8Array[] = [];
      for (let i = 0; i < 3; i++) {
        purged.push(await always.encode(rows));
        kept.push(await rarely.encode(rows));
      }

      // Assess
      expect(always.purges).toBe(3);
      // The first file purges (none before it), the next two fall within the minute.
      expect(rarely.purges).toBe(1);
      for (let i = 0; i < 3; i++) expect(Buffer.from(kept[i]!).equals(Buffer.from(purged[i]!))).toBe(true);
      // Back to the threshold that does not purge after each purge: 4 MB (4,000,000 bytes, printed
      // by DuckDB in MiB).
      expect(await always.bulkThreshold()).toBe('3.8 MiB');
      expect(await rarely.bulkThreshold()).toBe('3.8 MiB');
    } finally {
      await always.close();
      await rarely.close();
    }
  });

  it('purges before the interval is over once the process grew by PURGE_AFTER_RSS_GROWTH_BYTES', async () => {
    // Prepare
    const own = await ParquetEncoder.create({ connections: 1, purgeEveryMs: 3_600_000 });
    const rows = sampleRequestRows(100, { seed: 32 });
    try {
      await own.encode(rows);
      await own.encode(rows);
      const before = own.purges;

      // Act: pages the process touches (Buffer.alloc writes its fill) beyond the allowed growth.
      const held = Buffer.alloc(PURGE_AFTER_RSS_GROWTH_BYTES + 16 * 1024 * 1024, 1);
      await own.encode(rows);
      const after = own.purges;
      await own.encode(rows);

      // Assess: the first file purged, the second did not (within the hour), the one after the
      // growth did, and the next did not (its baseline is the RSS after that purge).
      expect(held[held.length - 1]).toBe(1);
      expect(before).toBe(1);
      expect(after).toBe(2);
      expect(own.purges).toBe(2);
    } finally {
      await own.close();
    }
  });

  it('refuses a purge interval that is not a number >= 0', async () => {
    await expect(ParquetEncoder.create({ purgeEveryMs: -1 })).rejects.toThrow(/purgeEveryMs/);
    await expect(ParquetEncoder.create({ purgeEveryMs: Number.NaN })).rejects.toThrow(/purgeEveryMs/);
    await expect(ParquetEncoder.create({ purgeAfterRssGrowthBytes: 0 })).rejects.toThrow(/RssGrowth/);
  });

  it('refuses to encode after close', async () => {
    // Prepare
    const closed = await ParquetEncoder.create();
    await closed.close();

    // Act
    const attempt = closed.encode(sampleRequestRows(1));

    // Assess
    await expect(attempt).rejects.toThrow(/after close/);
  });
});
