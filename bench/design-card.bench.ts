/**
 * bench:design-card — measures the five packages the project's brief named, on the same generated
 * request rows, so README's "Design-card packages" table quotes figures from this machine:
 *
 *   npm run bench:design-card -- [--rows 200000] [--batch 50000] [--parquetjs-rows 50000] [--kpl-records 200000]
 *
 * parquetjs-lite writes ~10x slower than the rest, so it gets the first `--parquetjs-rows` rows
 * only (the same rows, fewer of them) to keep the whole run near a minute on two cores.
 *
 * One JSON line per candidate, then a summary line with ratios to today's encoder:
 * - `ParquetEncoder` (COPY TO from a table function DuckDB pulls filled chunks from, zstd): rows/s,
 *   bytes/row, peak RSS delta.
 * - `parquetjs-lite`: the same columns with the closest schema it can express.
 * - `apache-arrow`: the same columns as an Arrow table, built with its builders and from typed
 *   arrays / raw UTF-8 buffers; then written as Parquet by `parquet-wasm` (arrow-rs in WebAssembly).
 * - `aws-kinesis-agg` against pipeline/decode/kpl.ts: aggregate and deaggregate, records/s.
 * - `@aws-sdk/client-firehose` and `@singlestore/http-client`: install footprint, types, import time
 *   (there is no Firehose or SingleStore to call here).
 *
 * Every candidate sorts each batch by (project_id, ts) as the encoder does, writes `--batch`-row
 * files, and every file is read back with DuckDB: row count and checksums of five columns must match
 * the input, or the line says `verified: false`. Each section runs in its own process, after a
 * 5,000-row warm-up; its peak RSS is sampled every 5 ms, between batches, and from the process's
 * max RSS, and is quoted as the rise over the RSS before the timed run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  Bool,
  type Data,
  type DataType,
  Field,
  Float64,
  Int16,
  Int32,
  Int64,
  makeBuilder,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  tableToIPC,
  Utf8,
} from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm';
import { aggregate, deaggregate, type KplSubRecord } from '../pipeline/decode/kpl.ts';
import {
  PARQUET_ROW_GROUP_SIZE,
  ParquetEncoder,
  sortedByProjectAndTime,
} from '../pipeline/encode/parquet-encoder.ts';
import { sampleRequestRows } from '../pipeline/encode/sample-request-rows.ts';
import { type ColumnDef, REQUEST_COLUMNS, type RequestRow } from '../schemas/request-row.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '50000' },
    'parquetjs-rows': { type: 'string', default: '50000' },
    'kpl-records': { type: 'string', default: '200000' },
    only: { type: 'string' },
  },
});
const total = Number(values.rows);
const batchRows = Number(values.batch);
const parquetjsRows = Math.min(total, Number(values['parquetjs-rows']));
const kplRecords = Number(values['kpl-records']);
for (const [name, n] of Object.entries({ rows: total, batch: batchRows, parquetjsRows, kplRecords })) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${n}`);
}

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const workDir = await mkdtemp(join(tmpdir(), 'shardline-design-card-'));
const SECTIONS = ['encoder', 'parquetjs', 'arrow-builders', 'arrow-buffers', 'kpl', 'packages'] as const;
type Section = (typeof SECTIONS)[number];
const only = values.only as Section | undefined;
if (only !== undefined && !SECTIONS.includes(only)) {
  throw new RangeError(`--only must be one of ${SECTIONS.join(', ')}, got ${only}`);
}
/**
 * A row with its generation (0 unless a replay set it), as the encoder writes it: parquetjs-lite
 * and Arrow refuse a missing value in a required column. Set in place: a copy of the row made
 * with a spread left every row ~2x slower to read (measured on the encoder: 45-53k rows/s
 * against 111-113k).
 */
const withGeneration = (row: RequestRow): RequestRow => {
  row.generation ??= 0;
  return row;
};
const rows =
  only === undefined || only === 'packages' ? [] : sampleRequestRows(total, { seed: 7 }).map(withGeneration);
const print = (line: object): void => console.log(JSON.stringify(line));
const MB = 1024 * 1024;
const round = (n: number, digits = 0): number => Number(n.toFixed(digits));

// ---------------------------------------------------------------------------------------------
// Measuring and verifying

interface Measured<T> {
  readonly result: T;
  readonly seconds: number;
  readonly peakRssDeltaMB: number;
}

/** `run` calls `sample` between synchronous stretches, where the 5 ms timer cannot fire. */
const measure = async <T>(run: (sample: () => void) => Promise<T> | T): Promise<Measured<T>> => {
  globalThis.gc?.();
  const before = process.memoryUsage.rss();
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  let peak = before;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, 5);
  const t0 = performance.now();
  try {
    const result = await run(sample);
    const seconds = (performance.now() - t0) / 1000;
    peak = Math.max(peak, process.memoryUsage.rss());
    const maxRssAfter = process.resourceUsage().maxRSS * 1024;
    if (maxRssAfter > maxRssBefore) peak = Math.max(peak, maxRssAfter);
    return { result, seconds, peakRssDeltaMB: round((peak - before) / MB) };
  } finally {
    clearInterval(timer);
  }
};

interface Checksum {
  rows: number;
  statusSum: number;
  bytesOutSum: number;
  tsMicrosSum: string;
  pathChars: number;
  cities: number;
}

const checksumOf = (input: readonly RequestRow[]): Checksum => {
  let statusSum = 0;
  let bytesOutSum = 0;
  let tsMicrosSum = 0n;
  let pathChars = 0;
  let cities = 0;
  for (const r of input) {
    statusSum += r.status;
    bytesOutSum += r.bytes_out ?? 0;
    tsMicrosSum += r.ts;
    pathChars += r.path.length;
    if (r.city !== null) cities++;
  }
  return { rows: input.length, statusSum, bytesOutSum, tsMicrosSum: String(tsMicrosSum), pathChars, cities };
};

/** Reads the files back with DuckDB: the same checksum as the input, and the type DuckDB sees for `ts`. */
const verify = async (files: readonly string[], expected: Checksum) => {
  const list = `[${files.map((f) => `'${f}'`).join(', ')}]`;
  const duckdb = await DuckDBInstance.create(':memory:');
  const verifier = await duckdb.connect();
  const reader = await verifier.runAndReadAll(
    `SELECT count(*)::BIGINT AS rows, sum(status)::BIGINT AS statusSum, sum(bytes_out)::BIGINT AS bytesOutSum,
            sum(epoch_us(ts))::HUGEINT::VARCHAR AS tsMicrosSum, sum(length(path))::BIGINT AS pathChars,
            count(city)::BIGINT AS cities, any_value(typeof(ts)) AS tsType
     FROM read_parquet(${list})`,
  );
  const got = reader.getRowObjectsJS()[0] as Record<string, unknown>;
  verifier.closeSync();
  duckdb.closeSync();
  const actual: Checksum = {
    rows: Number(got.rows),
    statusSum: Number(got.statusSum),
    bytesOutSum: Number(got.bytesOutSum),
    tsMicrosSum: String(got.tsMicrosSum),
    pathChars: Number(got.pathChars),
    cities: Number(got.cities),
  };
  const verified = JSON.stringify(actual) === JSON.stringify(expected);
  return { verified, tsReadAs: String(got.tsType), ...(verified ? {} : { expected, actual }) };
};

const batches = (input: readonly RequestRow[]): RequestRow[][] => {
  const out: RequestRow[][] = [];
  for (let i = 0; i < input.length; i += batchRows) out.push(input.slice(i, i + batchRows));
  return out;
};

/** Row order of the encoder's files. */
const sortedRows = sortedByProjectAndTime;

const sizeOf = async (files: readonly string[]): Promise<number> =>
  (await Promise.all(files.map((f) => stat(f)))).reduce((sum, s) => sum + s.size, 0);

const allChecksum = checksumOf(rows);

/** A run over other rows before timing, so that JIT compilation and first-call setup are not timed. */
const warmUpRows = (): RequestRow[] =>
  sampleRequestRows(Math.min(total, 5_000), { seed: 99 }).map(withGeneration);

// ---------------------------------------------------------------------------------------------
// (a) today's encoder

const encoderSection = async (): Promise<void> => {
  const encoder = await ParquetEncoder.create();
  await encoder.encode(warmUpRows());
  const m = await measure(async () => {
    const out: Uint8Array[] = [];
    for (const batch of batches(rows)) out.push(await encoder.encode(batch));
    return out;
  });
  await encoder.close();
  const files = await Promise.all(
    m.result.map(async (bytes, i) => {
      const file = join(workDir, `duckdb-${i}.parquet`);
      await writeFile(file, bytes);
      return file;
    }),
  );
  const bytes = await sizeOf(files);
  print({
    section: 'encoder',
    candidate: 'ParquetEncoder (@duckdb/node-api table function + COPY TO)',
    rows: total,
    rowsPerSecond: round(total / m.seconds),
    bytesPerRow: round(bytes / total, 1),
    peakRssDeltaMB: m.peakRssDeltaMB,
    compression: 'zstd',
    ...(await verify(files, allChecksum)),
  });
};

// ---------------------------------------------------------------------------------------------
// (b) parquetjs-lite

interface ParquetjsWriter {
  appendRow(row: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}
interface Parquetjs {
  ParquetSchema: new (fields: Record<string, object>) => object;
  ParquetWriter: {
    openFile(schema: object, path: string, opts?: { rowGroupSize?: number }): Promise<ParquetjsWriter>;
  };
}
// No published types; only these calls are used.
const parquetjs = require('parquetjs-lite') as Parquetjs;

/** The closest parquetjs-lite types: converted (legacy) types only, PLAIN encoding, no zstd. */
const parquetjsType = (c: ColumnDef): string => {
  switch (c.type) {
    case 'timestamp':
      return 'TIMESTAMP_MICROS';
    case 'string':
      return 'UTF8';
    case 'int16':
      return 'INT_16';
    case 'int32':
      return 'INT_32';
    case 'int64':
      return 'INT64';
    case 'float64':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
  }
};

const parquetjsSection = async (): Promise<void> => {
  const input = rows.slice(0, parquetjsRows);
  const schema = new parquetjs.ParquetSchema(
    Object.fromEntries(
      REQUEST_COLUMNS.map((c) => [
        c.name,
        { type: parquetjsType(c), optional: c.nullable, compression: 'SNAPPY' },
      ]),
    ),
  );
  const m = await measure(async () => {
    const files: string[] = [];
    for (const [i, batch] of batches(input).entries()) {
      const file = join(workDir, `parquetjs-${i}.parquet`);
      const writer = await parquetjs.ParquetWriter.openFile(schema, file, {
        rowGroupSize: PARQUET_ROW_GROUP_SIZE,
      });
      for (const row of sortedRows(batch)) await writer.appendRow(row as unknown as Record<string, unknown>);
      await writer.close();
      files.push(file);
    }
    return files;
  });
  const bytes = await sizeOf(m.result);
  print({
    section: 'parquetjs',
    candidate: 'parquetjs-lite',
    rows: parquetjsRows,
    rowsPerSecond: round(parquetjsRows / m.seconds),
    bytesPerRow: round(bytes / parquetjsRows, 1),
    peakRssDeltaMB: m.peakRssDeltaMB,
    compression: 'snappy (its only codecs: UNCOMPRESSED, GZIP, SNAPPY)',
    cannotExpress: [
      'zstd',
      'dictionary encoding (writes PLAIN only)',
      'logical TIMESTAMP(MICROS, UTC) annotation: only the legacy TIMESTAMP_MICROS converted type',
      'per-column statistics (min/max) for row-group skipping',
    ],
    ...(await verify(m.result, checksumOf(input))),
  });
};

// ---------------------------------------------------------------------------------------------
// (c) apache-arrow, and parquet-wasm to write Parquet from it

const arrowType = (c: ColumnDef): DataType => {
  switch (c.type) {
    case 'timestamp':
      return new TimestampMicrosecond();
    case 'string':
      return new Utf8();
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
  }
};
const arrowSchema = new Schema(REQUEST_COLUMNS.map((c) => new Field(c.name, arrowType(c), c.nullable)));
type Cell = string | number | bigint | boolean | null;
const cell = (row: RequestRow, name: string): Cell => (row as unknown as Record<string, Cell>)[name] ?? null;

const tableOf = (children: Data[], length: number): Table =>
  new Table([
    new RecordBatch(arrowSchema, makeData({ type: new Struct(arrowSchema.fields), length, children })),
  ]);

/** Arrow's own builders, one `append` per value (its Timestamp builder takes epoch ms as a number). */
const buildWithBuilders = (batch: readonly RequestRow[]): Table => {
  const children = REQUEST_COLUMNS.map((c) => {
    const builder = makeBuilder({ type: arrowType(c), nullValues: [null] });
    for (const row of batch) {
      const v = cell(row, c.name);
      if (v === null) builder.append(null);
      else if (c.type === 'timestamp') builder.append(Number(v as bigint) / 1000);
      else if (c.type === 'int64') builder.append(BigInt(v as number));
      else builder.append(v);
    }
    return builder.finish().flush() as Data;
  });
  return tableOf(children, batch.length);
};

const validity = (batch: readonly RequestRow[], name: string): { bitmap: Uint8Array; nulls: number } => {
  const bitmap = new Uint8Array((batch.length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < batch.length; i++) {
    if (cell(batch[i] as RequestRow, name) === null) nulls++;
    else bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  }
  return { bitmap, nulls };
};

const numbers = <A extends Int16Array | Int32Array | Float64Array>(
  batch: readonly RequestRow[],
  c: ColumnDef,
  Typed: new (length: number) => A,
): A => {
  const data = new Typed(batch.length);
  for (let i = 0; i < batch.length; i++)
    data[i] = (cell(batch[i] as RequestRow, c.name) as number | null) ?? 0;
  return data;
};

/** One column written straight into typed arrays, or one UTF-8 buffer for a string column. */
const bufferColumn = (batch: readonly RequestRow[], c: ColumnDef): Data => {
  const n = batch.length;
  const type = arrowType(c);
  const { bitmap, nulls } = c.nullable ? validity(batch, c.name) : { bitmap: undefined, nulls: 0 };
  const nullBitmap = nulls > 0 ? bitmap : undefined;
  switch (c.type) {
    case 'string': {
      let capacity = 0;
      for (const row of batch) capacity += ((cell(row, c.name) as string | null)?.length ?? 0) * 3;
      const data = Buffer.allocUnsafe(capacity);
      const valueOffsets = new Int32Array(n + 1);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const v = cell(batch[i] as RequestRow, c.name) as string | null;
        if (v !== null) at += data.write(v, at, 'utf8');
        valueOffsets[i + 1] = at;
      }
      return makeData({ type: type as Utf8, length: n, nullCount: nulls, nullBitmap, valueOffsets, data });
    }
    case 'timestamp': {
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) data[i] = cell(batch[i] as RequestRow, c.name) as bigint;
      return makeData({
        type: type as TimestampMicrosecond,
        length: n,
        nullCount: nulls,
        nullBitmap,
        data,
      });
    }
    case 'int64': {
      // Two 32-bit halves (little-endian) instead of a BigInt per value; values stay below 2^53.
      const halves = new Int32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const v = (cell(batch[i] as RequestRow, c.name) as number | null) ?? 0;
        halves[2 * i] = v | 0;
        halves[2 * i + 1] = Math.floor(v / 4_294_967_296);
      }
      const data = new BigInt64Array(halves.buffer);
      return makeData({ type: type as Int64, length: n, nullCount: nulls, nullBitmap, data });
    }
    case 'bool': {
      const data = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) {
        if (cell(batch[i] as RequestRow, c.name) === true)
          data[i >> 3] = (data[i >> 3] as number) | (1 << (i & 7));
      }
      return makeData({ type: type as Bool, length: n, nullCount: nulls, nullBitmap, data });
    }
    case 'int16':
      return makeData({
        type: type as Int16,
        length: n,
        nullCount: nulls,
        nullBitmap,
        data: numbers(batch, c, Int16Array),
      });
    case 'int32':
      return makeData({
        type: type as Int32,
        length: n,
        nullCount: nulls,
        nullBitmap,
        data: numbers(batch, c, Int32Array),
      });
    case 'float64':
      return makeData({
        type: type as Float64,
        length: n,
        nullCount: nulls,
        nullBitmap,
        data: numbers(batch, c, Float64Array),
      });
  }
};

const buildFromBuffers = (batch: readonly RequestRow[]): Table =>
  tableOf(
    REQUEST_COLUMNS.map((c) => bufferColumn(batch, c)),
    batch.length,
  );

const writeWithParquetWasm = (table: Table): Uint8Array => {
  const properties = new parquetWasm.WriterPropertiesBuilder()
    .setCompression(parquetWasm.Compression.ZSTD)
    .setMaxRowGroupSize(PARQUET_ROW_GROUP_SIZE)
    .build();
  return parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(tableToIPC(table, 'stream')), properties);
};

const arrowSection = async (section: 'arrow-builders' | 'arrow-buffers'): Promise<void> => {
  const [variant, build] =
    section === 'arrow-builders'
      ? ['builders', buildWithBuilders]
      : ['typed arrays + raw UTF-8 buffers', buildFromBuffers];
  writeWithParquetWasm(build(sortedRows(warmUpRows())));
  let buildSeconds = 0;
  let writeSeconds = 0;
  const m = await measure((sample) => {
    const out: Uint8Array[] = [];
    for (const batch of batches(rows)) {
      const t0 = performance.now();
      const table = build(sortedRows(batch));
      sample();
      const t1 = performance.now();
      out.push(writeWithParquetWasm(table));
      sample();
      buildSeconds += (t1 - t0) / 1000;
      writeSeconds += (performance.now() - t1) / 1000;
    }
    return out;
  });
  const files = await Promise.all(
    m.result.map(async (bytes, i) => {
      const file = join(workDir, `${section}-${i}.parquet`);
      await writeFile(file, bytes);
      return file;
    }),
  );
  const bytes = await sizeOf(files);
  print({
    section,
    candidate: `apache-arrow (${variant}) + parquet-wasm`,
    rows: total,
    buildRowsPerSecond: round(total / buildSeconds),
    parquetWriteRowsPerSecond: round(total / writeSeconds),
    rowsPerSecond: round(total / m.seconds),
    bytesPerRow: round(bytes / total, 1),
    peakRssDeltaMB: m.peakRssDeltaMB,
    compression: 'zstd',
    ...(await verify(files, allChecksum)),
  });
};

// ---------------------------------------------------------------------------------------------
// (d) aws-kinesis-agg against pipeline/decode/kpl.ts

interface LibraryUserRecord {
  readonly partitionKey: string;
  readonly data: string;
}
interface AwsKinesisAgg {
  aggregate(
    records: readonly { partitionKey: string; data: Buffer }[],
    onEncoded: (encoded: { partitionKey: string; data: Buffer }, done: (error?: Error) => void) => void,
    afterAll: () => void,
    onError: (error: Error) => void,
  ): void;
  deaggregateSync(
    record: { PartitionKey: string; SequenceNumber: string; Data: Uint8Array },
    computeChecksums: boolean,
    done: (error: Error | null, records?: LibraryUserRecord[]) => void,
  ): void;
}
// Its published types import the v2 `aws-sdk` and `aws-lambda`; only these two calls are used.
const agg = require('aws-kinesis-agg') as AwsKinesisAgg;

const kplSection = async (): Promise<void> => {
  const encoder = new TextEncoder();
  const userRecords: KplSubRecord[] = new Array(kplRecords);
  for (let i = 0; i < kplRecords; i++) {
    const r = rows[i % total] as RequestRow;
    const line = JSON.stringify({
      ts: String(r.ts),
      request_id: r.request_id,
      method: r.method,
      path: r.path,
      status: r.status,
      latency_ms: r.latency_ms,
      user_agent: r.user_agent,
      headers: r.headers,
    });
    userRecords[i] = { partitionKey: r.project_id, data: encoder.encode(line) };
  }
  const payloadBytes = userRecords.reduce((sum, r) => sum + r.data.length, 0);

  // Groups below the 1 MiB Kinesis record limit, as the library's own aggregator cuts them.
  const groups: KplSubRecord[][] = [];
  let group: KplSubRecord[] = [];
  let groupBytes = 0;
  for (const r of userRecords) {
    const size = r.data.length + r.partitionKey.length + 16;
    if (groupBytes + size > 1_000_000 && group.length > 0) {
      groups.push(group);
      group = [];
      groupBytes = 0;
    }
    group.push(r);
    groupBytes += size;
  }
  if (group.length > 0) groups.push(group);

  // Warm-up: the first group through each implementation, both ways.
  deaggregate(aggregate(groups[0] ?? []));
  await new Promise<void>((resolve, reject) =>
    agg.aggregate(
      userRecords.slice(0, 1000).map((r) => ({ partitionKey: r.partitionKey, data: Buffer.from(r.data) })),
      (encoded, done) => {
        agg.deaggregateSync(
          { PartitionKey: 'p', SequenceNumber: '0', Data: encoded.data },
          true,
          () => undefined,
        );
        done();
      },
      resolve,
      reject,
    ),
  );
  const ours = await measure(() => groups.map((g) => aggregate(g)));
  const oursDeagg = await measure(() => ours.result.reduce((n, a) => n + deaggregate(a).length, 0));

  const libraryInput = userRecords.map((r) => ({
    partitionKey: r.partitionKey,
    data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength),
  }));
  const library = await measure(
    () =>
      new Promise<Buffer[]>((resolve, reject) => {
        const out: Buffer[] = [];
        agg.aggregate(
          libraryInput,
          (encoded, done) => {
            out.push(encoded.data);
            done();
          },
          () => resolve(out),
          reject,
        );
      }),
  );
  const libraryDeaggregate = (aggregates: readonly Uint8Array[]): number => {
    let n = 0;
    for (const [i, data] of aggregates.entries()) {
      agg.deaggregateSync(
        { PartitionKey: 'p', SequenceNumber: String(i), Data: data },
        true,
        (error, records) => {
          if (error) throw error;
          n += records?.length ?? 0;
        },
      );
    }
    return n;
  };
  const libraryDeagg = await measure(() => libraryDeaggregate(library.result));

  // Each side reads the other's output: the same user records.
  const crossOurs = library.result.reduce((n, a) => n + deaggregate(a).length, 0);
  const crossLibrary = libraryDeaggregate(ours.result);
  const verified =
    oursDeagg.result === kplRecords &&
    libraryDeagg.result === kplRecords &&
    crossOurs === kplRecords &&
    crossLibrary === kplRecords;

  print({
    section: 'kpl',
    candidate: 'aws-kinesis-agg vs pipeline/decode/kpl.ts',
    userRecords: kplRecords,
    meanRecordBytes: round(payloadBytes / kplRecords),
    aggregates: { ours: ours.result.length, library: library.result.length },
    aggregateRecordsPerSecond: {
      ours: round(kplRecords / ours.seconds),
      library: round(kplRecords / library.seconds),
    },
    deaggregateRecordsPerSecond: {
      ours: round(kplRecords / oursDeagg.seconds),
      library: round(kplRecords / libraryDeagg.seconds),
    },
    libraryNotes: 'deaggregate returns each record as base64 text; MD5 checked on both sides',
    verified,
  });
};

// ---------------------------------------------------------------------------------------------
// (e) footprint, types and import time of every named package

interface NpmNode {
  path?: string;
  dependencies?: Record<string, NpmNode>;
}

const closure = (node: NpmNode, into: Set<string>): Set<string> => {
  if (node.path !== undefined) {
    if (into.has(node.path)) return into;
    into.add(node.path);
  }
  for (const child of Object.values(node.dependencies ?? {})) closure(child, into);
  return into;
};

/** Bytes on disk of one installed package, without the packages nested in its node_modules. */
const packageBytes = (dir: string): number => {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += packageBytes(path);
    else if (entry.isFile()) bytes += statSync(path).size;
  }
  return bytes;
};

const shipsTypes = (name: string): string => {
  const dir = join(root, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  if (manifest.types !== undefined || manifest.typings !== undefined || existsSync(join(dir, 'index.d.ts'))) {
    return 'yes';
  }
  const typesName = `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
  return existsSync(join(root, 'node_modules', typesName)) ? typesName : 'no';
};

/** Median of three cold imports, each in a fresh Node process. */
const importMs = (name: string): number => {
  const script = `const t = performance.now(); await import(${JSON.stringify(name)}); console.log(performance.now() - t);`;
  const times = [0, 1, 2].map((): number =>
    Number(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }),
    ),
  );
  return round(times.sort((a, b) => a - b)[1] as number, 1);
};

const NAMED = [
  '@aws-sdk/client-firehose',
  'aws-kinesis-agg',
  // '@singlestore/http-client' was measured here (README "Design-card packages") and then removed
  // from the repository: the Data API is reached with fetch.
  'apache-arrow',
  'parquetjs-lite',
  'parquet-wasm',
] as const;
const packagesSection = (): void => {
  const tree = JSON.parse(
    execFileSync('npm', ['ls', '--all', '--json', '--long'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 256 * MB,
    }),
  ) as NpmNode;
  const topLevel = tree.dependencies ?? {};
  for (const name of NAMED) {
    const own = closure(topLevel[name] ?? {}, new Set());
    const others = new Set<string>();
    for (const [other, node] of Object.entries(topLevel)) if (other !== name) closure(node, others);
    const exclusive = [...own].filter((p) => !others.has(p));
    const manifest = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
      license: string;
      dependencies?: Record<string, string>;
    };
    print({
      section: 'packages',
      package: name,
      version: manifest.version,
      license: manifest.license,
      packagesInTree: own.size,
      packagesAddedToThisRepo: exclusive.length,
      mbAddedToThisRepo: round(exclusive.reduce((sum, p) => sum + packageBytes(p), 0) / MB, 1),
      directDependencies: Object.keys(manifest.dependencies ?? {}),
      typescriptTypes: shipsTypes(name),
      coldImportMs: importMs(name),
    });
  }
};

// ---------------------------------------------------------------------------------------------

const runSection = async (section: Section): Promise<void> => {
  if (section === 'encoder') await encoderSection();
  else if (section === 'parquetjs') await parquetjsSection();
  else if (section === 'arrow-builders' || section === 'arrow-buffers') await arrowSection(section);
  else if (section === 'kpl') await kplSection();
  else packagesSection();
};

type Line = Record<string, unknown>;
const ratio = (a: unknown, b: unknown): number => round(Number(a) / Number(b), 2);

/** Each section in its own process, so that one's heap and DuckDB's memory do not count in another's RSS. */
const runAll = (): void => {
  const lines: Line[] = [];
  for (const section of SECTIONS) {
    const args = [
      ...process.execArgv,
      process.argv[1] as string,
      ...process.argv.slice(2),
      '--only',
      section,
    ];
    const out = execFileSync(process.execPath, args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    for (const text of out.split('\n')) {
      if (!text.startsWith('{')) continue;
      console.log(text);
      lines.push(JSON.parse(text) as Line);
    }
  }
  const get = (section: string): Line => lines.find((l) => l.section === section) ?? {};
  const [encoder, parquetjs, builders, buffers, kpl] = [
    'encoder',
    'parquetjs',
    'arrow-builders',
    'arrow-buffers',
    'kpl',
  ].map(get) as Line[];
  const aggregateRate = (kpl?.aggregateRecordsPerSecond ?? {}) as Line;
  const deaggregateRate = (kpl?.deaggregateRecordsPerSecond ?? {}) as Line;
  print({
    summary: 'design-card',
    rows: total,
    batchRows,
    encoderRowsPerSecond: encoder?.rowsPerSecond,
    allVerified: lines.every((l) => l.verified !== false),
    rowsPerSecondVsEncoder: {
      parquetjsLite: ratio(parquetjs?.rowsPerSecond, encoder?.rowsPerSecond),
      arrowBuildersParquetWasm: ratio(builders?.rowsPerSecond, encoder?.rowsPerSecond),
      arrowBuffersParquetWasm: ratio(buffers?.rowsPerSecond, encoder?.rowsPerSecond),
      arrowBuildersBuildOnly: ratio(builders?.buildRowsPerSecond, encoder?.rowsPerSecond),
      arrowBuffersBuildOnly: ratio(buffers?.buildRowsPerSecond, encoder?.rowsPerSecond),
    },
    bytesPerRowVsEncoder: {
      parquetjsLite: ratio(parquetjs?.bytesPerRow, encoder?.bytesPerRow),
      arrowParquetWasm: ratio(buffers?.bytesPerRow, encoder?.bytesPerRow),
    },
    kplLibraryVsOurs: {
      aggregate: ratio(aggregateRate.library, aggregateRate.ours),
      deaggregate: ratio(deaggregateRate.library, deaggregateRate.ours),
    },
    loadavg1m: round(loadavg()[0] ?? 0, 2),
  });
};

try {
  if (only === undefined) runAll();
  else await runSection(only);
} finally {
  await rm(workDir, { recursive: true, force: true });
}
