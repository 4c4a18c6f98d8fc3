import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckdbColumnsDdl, type RequestRow } from '../../schemas/request-row.ts';
import { EncodeError } from '../errors.ts';
import { ColumnChunkFiller } from './column-chunk-filler.ts';

/**
 * Rows per Parquet row group. 16,384 (8 DuckDB vectors) costs ~2% in file size against one
 * 122,880-row group (measured on 100k realistic rows: 4.01 MB vs 3.92 MB) but, since rows are
 * sorted by (project_id, ts), gives readers per-group min/max statistics to skip other projects,
 * lets DuckDB read one file on several threads, and bounds what a reader must hold per column
 * chunk when request/response bodies are large (up to 16 KiB each).
 */
export const PARQUET_ROW_GROUP_SIZE = 16_384;

const STAGING = 'shardline_staging';

/**
 * Rows in file order, (project_id, ts), ties in arrival order (the sort is stable), so the same
 * batch always gives the same file. Sorting references in JS costs ~0.5 µs a row; DuckDB's
 * ORDER BY moved every column of every row (bench:stages encode 89.7k → 107.8k rows/s).
 */
export const sortedByProjectAndTime = (rows: readonly RequestRow[]): RequestRow[] =>
  [...rows].sort((a, b) =>
    a.project_id < b.project_id
      ? -1
      : a.project_id > b.project_id
        ? 1
        : a.ts < b.ts
          ? -1
          : a.ts > b.ts
            ? 1
            : 0,
  );

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * DuckDB connections, each with its own staging table. Appending runs on the JS thread while
 * sorting and writing run on DuckDB's threads, so with two a shard can append its batch while the
 * previous batch is still being written; more would only queue behind the same two cores.
 */
const DEFAULT_CONNECTIONS = 2;

/**
 * DuckDB's allocator keeps what a task freed, up to 128 MiB by default, for the next task. An
 * encoder's task (one file's COPY) peaks at a few tens of MB, so that memory stayed with each
 * stage thread between files; handing it back after every task costs nothing measurable and
 * lowers bench:pipeline's peak RSS by ~25-30 MB (801/792 → 769/766 MB at 300k records, 2 pairs).
 */
const ALLOCATOR = {
  allocator_flush_threshold: '4MB',
  allocator_bulk_deallocation_flush_threshold: '4MB',
};

/** A connection and the chunk filler that appends to its staging table. */
interface Lane {
  readonly connection: DuckDBConnection;
  readonly filler: ColumnChunkFiller;
}

/**
 * Encodes request rows into one zstd Parquet file, sorted by (project_id, ts), with the columns,
 * order and types of REQUEST_COLUMNS. Uses an in-memory DuckDB; concurrent `encode` calls (several
 * shard processors) each take a free connection or wait for one, and never share a staging table.
 *
 * Rows reach the staging table column by column, as DuckDB data chunks filled from typed arrays
 * (ColumnChunkFiller), not one native call per value, already in file order (a stable sort of
 * references, see `sortedByProjectAndTime`); dictionary encoding, zstd and writing run on
 * DuckDB's threads while the event loop serves other shards. DuckDB keeps insertion order
 * (`preserve_insertion_order`, on by default), which the contract test checks.
 */
export class ParquetEncoder {
  private readonly idle: Lane[];
  private readonly waiting: ((lane: Lane) => void)[] = [];
  /** `encode` calls under way or waiting for a connection; `close` waits for them. */
  private pending = 0;
  private drained: (() => void) | undefined;
  private files = 0;
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    lanes: Lane[],
    private readonly workDir: string,
  ) {
    this.idle = lanes;
  }

  static async create(options: { connections?: number } = {}): Promise<ParquetEncoder> {
    const count = options.connections ?? DEFAULT_CONNECTIONS;
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`ParquetEncoder: connections must be an integer >= 1, got ${count}`);
    }
    const workDir = await mkdtemp(join(tmpdir(), 'shardline-encode-'));
    try {
      const instance = await DuckDBInstance.create(':memory:', ALLOCATOR);
      const lanes: Lane[] = [];
      for (let i = 0; i < count; i++) {
        lanes.push({ connection: await instance.connect(), filler: new ColumnChunkFiller() });
      }
      return new ParquetEncoder(instance, lanes, workDir);
    } catch (cause) {
      await rm(workDir, { recursive: true, force: true });
      throw new EncodeError(
        'could not start the in-memory DuckDB used to write Parquet; check that @duckdb/node-api is installed for this platform',
        { cause },
      );
    }
  }

  async encode(rows: readonly RequestRow[]): Promise<Uint8Array> {
    if (this.closed) {
      throw new EncodeError('encode() called after close(); create a new ParquetEncoder');
    }
    this.pending++;
    try {
      const lane = this.idle.pop() ?? (await new Promise<Lane>((r) => this.waiting.push(r)));
      try {
        return await this.encodeNow(lane, rows);
      } finally {
        const next = this.waiting.shift();
        if (next) next(lane);
        else this.idle.push(lane);
      }
    } finally {
      if (--this.pending === 0) this.drained?.();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Calls already made still run; only new calls are refused.
    if (this.pending > 0) await new Promise<void>((r) => (this.drained = r));
    for (const { connection } of this.idle) connection.closeSync();
    this.instance.closeSync();
    await rm(this.workDir, { recursive: true, force: true });
  }

  private async encodeNow({ connection, filler }: Lane, rows: readonly RequestRow[]): Promise<Uint8Array> {
    const file = join(this.workDir, `${this.files++}.parquet`);
    try {
      await connection.run(`CREATE OR REPLACE TEMP TABLE ${STAGING} (${duckdbColumnsDdl()})`);
      const appender = await connection.createAppender(STAGING);
      try {
        filler.append(appender, sortedByProjectAndTime(rows));
        appender.closeSync();
      } catch (cause) {
        try {
          appender.clear();
          appender.closeSync();
        } catch {
          // The staging table is dropped below anyway; the first error is the one to report.
        }
        throw cause;
      }
      await connection.run(
        // Appended in order (DuckDB keeps insertion order): no ORDER BY over every column.
        `COPY (SELECT * FROM ${STAGING}) TO ${sqlString(file)} ` +
          `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_SIZE})`,
      );
      const bytes = await readFile(file);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (cause) {
      throw new EncodeError(
        `could not encode ${rows.length} rows as Parquet: ${cause instanceof Error ? cause.message : String(cause)}; the batch is kept and retried (check free space in ${this.workDir})`,
        { cause },
      );
    } finally {
      await Promise.all([
        rm(file, { force: true }),
        connection.run(`DROP TABLE IF EXISTS ${STAGING}`).catch(() => undefined),
      ]);
    }
  }
}
