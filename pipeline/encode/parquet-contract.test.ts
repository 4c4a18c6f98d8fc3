import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ColumnDef,
  type ColumnType,
  REQUEST_COLUMNS,
  type RequestRow,
} from '../../schemas/request-row.ts';
import { EXAMPLE_PIPELINE_CONFIG } from '../../schemas/singlestore/example-pipeline.ts';
import { createRequestsPipelineSql } from '../../schemas/singlestore/requests-pipeline.ts';
import { singlestoreType } from '../../schemas/singlestore/singlestore-type.ts';
import { PARQUET_ROW_GROUP_SIZE, ParquetEncoder } from './parquet-encoder.ts';
import { sampleRequestRows } from './sample-request-rows.ts';

/**
 * The file contract that readers rely on (DuckDB's warehouse loader and the SingleStore pipeline's
 * column mapping), checked on the bytes ParquetEncoder writes: Parquet types per column, zstd,
 * dictionary-encoded strings, row groups, sort order, and every value back as it went in, across
 * the encoder's 2,048-row chunk boundaries.
 */

let dir: string;
let reader: DuckDBInstance;
let db: DuckDBConnection;
let encoder: ParquetEncoder;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parquet-contract-test-'));
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

const encodeToFile = async (rows: readonly RequestRow[]): Promise<string> => {
  const file = join(dir, `${files++}.parquet`);
  await writeFile(file, await encoder.encode(rows));
  return file;
};

const query = async (sql: string): Promise<Record<string, unknown>[]> =>
  (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];

/** Rows as RequestRow-shaped objects, in file order (timestamps as µs bigints, int64 as numbers). */
const readRows = async (file: string): Promise<RequestRow[]> => {
  const select = REQUEST_COLUMNS.map((c) => {
    if (c.type === 'timestamp') return `epoch_us("${c.name}") AS "${c.name}"`;
    if (c.type === 'int64') return `"${c.name}"::DOUBLE AS "${c.name}"`;
    return `"${c.name}"`;
  }).join(', ');
  return (await query(`SELECT ${select} FROM read_parquet('${file}')`)) as unknown as RequestRow[];
};

const byProjectAndTime = (a: RequestRow, b: RequestRow): number =>
  a.project_id < b.project_id ? -1 : a.project_id > b.project_id ? 1 : a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0;

/** Physical type, converted type and logical type DuckDB reports for each column type. */
const PARQUET_TYPES: Record<ColumnType, { type: string; converted: string | null; logical: RegExp | null }> =
  {
    timestamp: {
      type: 'INT64',
      converted: 'TIMESTAMP_MICROS',
      logical: /TimestampType\(.*MICROS=MicroSeconds/,
    },
    string: { type: 'BYTE_ARRAY', converted: 'UTF8', logical: null },
    int16: { type: 'INT32', converted: 'INT_16', logical: null },
    int32: { type: 'INT32', converted: 'INT_32', logical: null },
    int64: { type: 'INT64', converted: 'INT_64', logical: null },
    float64: { type: 'DOUBLE', converted: null, logical: null },
    bool: { type: 'BOOLEAN', converted: null, logical: null },
  };

/** Strings around DuckDB's 12-byte inline limit, in ASCII and multi-byte UTF-8, empty and long. */
const EDGE_STRINGS = [
  '',
  'a',
  'abcdefghijkl', // 12 bytes: inline
  'abcdefghijklm', // 13 bytes: pointer
  'üüüüüü', // 12 bytes of UTF-8 in 6 UTF-16 units
  'üüüüüüü', // 14 bytes of UTF-8 in 7 units
  '😀', // a surrogate pair: 4 bytes
  '/v1/o\'reilly/"quoted"/ünïcödé/😀/日本語',
  'x'.repeat(16_384),
  `{"a":"${'é'.repeat(5_000)}"}`,
];

/** 5,000 sample rows (three chunks and a part) with the edge cases spread across chunk boundaries. */
const edgeCaseRows = (): RequestRow[] => {
  const rows = sampleRequestRows(5_000, { seed: 17 });
  const ints = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, 5_000_000_000, Number.MAX_SAFE_INTEGER];
  for (const [i, row] of rows.entries()) {
    const edge = EDGE_STRINGS[i % EDGE_STRINGS.length] as string;
    if (i % 3 === 0) row.path = edge;
    if (i % 5 === 1) row.user_agent = edge;
    if (i % 7 === 2) row.project_id = edge;
    // Whole chunks without a value, then chunks with some: validity is per chunk.
    if (i < 2_048 || i % 11 === 0) row.city = null;
    if (i >= 2_048 && i < 4_096) row.headers = null;
    row.bytes_out = i % 13 === 0 ? null : (ints[i % ints.length] as number);
    if (i % 13 === 0 && i % ints.length > 0) row.bytes_in = -(ints[i % ints.length] as number);
    if (i % 17 === 0) row.status = i % 2 === 0 ? 32_767 : -32_768;
    if (i % 19 === 0) row.sub_sequence = i % 2 === 0 ? 2 ** 31 - 1 : -(2 ** 31);
    if (i % 23 === 0) row.ts = i % 2 === 0 ? 0n : -1n;
    if (i % 29 === 0) row.latency_ms = i % 2 === 0 ? 1e-300 : 1.7976931348623157e308;
    if (i % 31 === 0) row.generation = 1_795_000_000_123;
  }
  return rows;
};

describe('ParquetEncoder file contract', () => {
  it('writes every column with the Parquet type its readers expect', async () => {
    // Act
    const file = await encodeToFile(sampleRequestRows(3_000));

    // Assess
    const schema = await query(
      `SELECT name, type, converted_type, logical_type FROM parquet_schema('${file}') WHERE name <> 'duckdb_schema'`,
    );
    expect(schema.map((s) => s.name)).toEqual(REQUEST_COLUMNS.map((c) => c.name));
    for (const [i, c] of REQUEST_COLUMNS.entries()) {
      const expected = PARQUET_TYPES[c.type];
      const got = schema[i] as Record<string, unknown>;
      expect({ column: c.name, type: got.type, converted: got.converted_type }).toEqual({
        column: c.name,
        type: expected.type,
        converted: expected.converted,
      });
      if (expected.logical) expect(String(got.logical_type)).toMatch(expected.logical);
    }
  });

  it('compresses every column chunk with zstd and dictionary-encodes repetitive strings', async () => {
    // Prepare
    const rows = sampleRequestRows(PARQUET_ROW_GROUP_SIZE + 3_000, { seed: 5 });
    const repetitive = REQUEST_COLUMNS.filter(
      (c) => c.type === 'string' && new Set(rows.map((r) => r[c.name as keyof RequestRow])).size < 1_000,
    ).map((c): string => c.name);

    // Act
    const file = await encodeToFile(rows);

    // Assess
    const chunks = await query(
      `SELECT row_group_id, path_in_schema, compression, encodings FROM parquet_metadata('${file}')`,
    );
    expect(chunks).toHaveLength(2 * REQUEST_COLUMNS.length);
    expect(new Set(chunks.map((c) => c.compression))).toEqual(new Set(['ZSTD']));
    expect(repetitive).toEqual(
      expect.arrayContaining(['project_id', 'method', 'endpoint', 'user_agent', 'shard_id']),
    );
    for (const chunk of chunks.filter((c) => repetitive.includes(String(c.path_in_schema)))) {
      expect({ column: chunk.path_in_schema, encodings: String(chunk.encodings) }).toEqual({
        column: chunk.path_in_schema,
        encodings: expect.stringMatching(/DICTIONARY/),
      });
    }
  });

  it('gives back every value, sorted by (project_id, ts), across chunk boundaries', async () => {
    // Prepare
    const rows = edgeCaseRows();

    // Act
    const back = await readRows(await encodeToFile(rows));

    // Assess
    const expected = [...rows].sort(byProjectAndTime).map((r) => ({ ...r, generation: r.generation ?? 0 }));
    expect(back.length).toBe(rows.length);
    for (let i = 0; i < back.length; i++) {
      // One row at a time, so that a failure names the row instead of printing 5,000.
      const [a, b] = [back[i] as RequestRow, expected[i] as RequestRow];
      if (a.project_id !== b.project_id || a.ts !== b.ts)
        expect.fail(`row ${i} is out of (project_id, ts) order`);
    }
    const key = (r: RequestRow) => r.request_id;
    expect([...back].sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual(
      [...expected].sort((a, b) => (key(a) < key(b) ? -1 : 1)),
    );
  });

  it('refuses a value its column cannot hold, naming the column and not the value', async () => {
    // Prepare
    const cases: [keyof RequestRow, unknown][] = [
      ['path', 42],
      ['project_id', null],
      ['status', 40_000],
      ['status', 200.5],
      ['sub_sequence', 2 ** 31],
      ['bytes_out', 2 ** 60],
      ['ts', 1_736_935_200_000_000],
      ['is_bot', 'yes please'],
      ['latency_ms', '12.5 ms'],
    ];

    for (const [column, value] of cases) {
      const rows = sampleRequestRows(3_000, { seed: 9 });
      (rows[2_500] as unknown as Record<string, unknown>)[column] = value;

      // Act
      const attempt = encoder.encode(rows);

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'EncodeError',
        retriable: true,
        message: expect.stringContaining(`column ${column} `),
      });
      if (value !== null) await expect(attempt).rejects.not.toThrow(String(value));
    }
  });

  it('has every field the SingleStore requests pipeline maps, with a type its SET clause or column accepts', async () => {
    // Prepare
    const sql = createRequestsPipelineSql(EXAMPLE_PIPELINE_CONFIG, '{}');
    const mapped = [...sql.matchAll(/^\s+(@?)`?(\w+)`? <- `(\w+)`/gm)].map(([, variable, target, field]) => ({
      variable: variable === '@',
      target: target as string,
      field: field as string,
    }));
    const file = await encodeToFile(sampleRequestRows(100));

    // Act
    const schema = new Map(
      (await query(`SELECT name, type, converted_type FROM parquet_schema('${file}')`)).map((s) => [
        String(s.name),
        { type: String(s.type), converted: s.converted_type === null ? null : String(s.converted_type) },
      ]),
    );

    // Assess
    expect(mapped.length).toBeGreaterThan(30);
    for (const m of mapped) {
      const column = REQUEST_COLUMNS.find((c) => c.name === m.field) as ColumnDef;
      const parquet = schema.get(m.field);
      expect({ field: m.field, inFile: parquet !== undefined }).toEqual({ field: m.field, inFile: true });
      if (m.variable) {
        // Converted in SET: microseconds added to the epoch, or a boolean compared as text.
        const set = new RegExp(`INTERVAL @${m.field} MICROSECOND|CAST\\(@${m.field} AS CHAR\\)`);
        expect(sql).toMatch(set);
        expect(parquet?.type).toBe(column.type === 'timestamp' ? 'INT64' : 'BOOLEAN');
      } else {
        const target = singlestoreType(column);
        const accepts = /CHAR|TEXT/.test(target)
          ? parquet?.type === 'BYTE_ARRAY' && parquet.converted === 'UTF8'
          : /^(SMALLINT|INT)$/.test(target)
            ? parquet?.type === 'INT32'
            : target === 'BIGINT'
              ? parquet?.type === 'INT64'
              : target === 'DOUBLE' && parquet?.type === 'DOUBLE';
        expect({ field: m.field, target, parquet, accepts }).toEqual({
          field: m.field,
          target,
          parquet,
          accepts: true,
        });
      }
    }
  });
});
