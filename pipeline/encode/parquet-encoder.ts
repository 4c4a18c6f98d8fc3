import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BIGINT,
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBInstance,
  DuckDBTableFunction,
} from '@duckdb/node-api';
import { REQUEST_COLUMNS, type RequestRow } from '../../schemas/request-row.ts';
import { EncodeError } from '../errors.ts';
import { CHUNK_ROWS, ColumnChunkFiller, duckdbTypeOf } from './column-chunk-filler.ts';
import type { PackedRows } from './packed-rows.ts';

/**
 * Rows per Parquet row group. 16,384 (8 DuckDB vectors) costs ~2% in file size against one
 * 122,880-row group (measured on 100k realistic rows: 4.01 MB vs 3.92 MB) but, since rows are
 * sorted by (project_id, ts), gives readers per-group min/max statistics to skip other projects,
 * lets DuckDB read one file on several threads, and bounds what a reader must hold per column
 * chunk when request/response bodies are large (up to 16 KiB each).
 */
export const PARQUET_ROW_GROUP_SIZE = 16_384;

/**
 * The table function a file's COPY reads its rows from: `shardline_rows(job)` scans the rows of
 * one `encode` call, filled chunk by chunk by JS (see `ParquetEncoder`).
 */
const ROWS_FUNCTION = 'shardline_rows';

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
 * DuckDB connections (lanes), each running one file's COPY at a time. Filling chunks runs on the
 * JS thread while the writing runs on a libuv thread, so with two a shard's file can be written
 * while another's is filled; more would only queue behind the same cores.
 */
const DEFAULT_CONNECTIONS = 2;

/**
 * Settings of an encoder's in-memory DuckDB.
 *
 * - `threads: 1`. A process runs one encoder per stage thread, and the stage threads are already
 *   one per core: a DuckDB that also took every core ran two threads per stage thread, and its
 *   second one spun between the small tasks of a file's COPY. Each COPY now runs on the libuv
 *   thread that runs the query (two lanes still let a batch append while another is written).
 * - The allocator hands back what a task freed once the task used more than 512 KiB (DuckDB's
 *   default keeps up to 128 MiB per thread for the next task). A file's COPY peaks at a few tens of
 *   MB on whichever libuv thread ran it, so that memory stayed in up to four threads' caches.
 * - `allocator_bulk_deallocation_flush_threshold`: see `PURGE_EVERY_MS`; the instance starts with
 *   the threshold that does not purge.
 *
 * bench:pipeline at 1,000,000 records, `threads: 1` and both thresholds at 512 KiB, 2 interleaved
 * pairs against 1 thread per core and both at 4 MB (the settings before, 2026-11-30): 23,430 / 27,375 records/s against 21,944 / 24,372; peak RSS
 * 668 / 689 MB against 730 / 725; 83.2 / 71.0 µs of CPU a record against 89.0 / 80.1. A threshold
 * of 0 held 591-640 MB at 300k records but cost ~8 µs a record (a purge after every task).
 */
const INSTANCE_OPTIONS = {
  threads: '1',
  allocator_flush_threshold: '512KB',
  allocator_bulk_deallocation_flush_threshold: '4MB',
};

/**
 * How often an encoder lets DuckDB hand its freed memory back to the system, at most.
 *
 * DuckDB purges every jemalloc arena of the process (`madvise` of every freed page) before it
 * reserves a buffer larger than `allocator_bulk_deallocation_flush_threshold`. A file's COPY
 * reserves ~25 such buffers (a 1 MiB dictionary for each of the 25 string columns, then page buffers
 * of up to 2 MiB), so a threshold of 512 KB purged ~25 times per file: each `madvise` flushes the TLB
 * of every core running the process, and the next file faulted every page back in (perf: 18% of
 * the libuv threads' samples in `madvise`, ~10% in page faults, and 12-24% kernel time on the stage
 * threads and event loop). With 4 MB (decimal: above the 2 MiB buffers) no COPY purges, and freed
 * pages are reused by the next file, but jemalloc keeps them for its decay time (1 s dirty, then
 * 1 s lazily freed, still counted in RSS): bench:pipeline's peak RSS rose from 455-485 MB to
 * 501-540 MB, over the worker's 512 MB bound.
 *
 * So the instance keeps 4 MB, and at most once every `PURGE_EVERY_MS`, before a file, the encoder
 * purges once (`purge`: a one-row COPY under 512 KB): a purge a second per stage thread instead of
 * ~25 per file. bench:pipeline at 1M records, 3 interleaved pairs against a purge on every file
 * (2026-12-02): 21,304-22,297 records/s against 18,340-20,967, 87-91 µs of CPU a record against
 * 92-106, peak RSS 481-491 MB against 464-485 (README, Benchmarks). Purging every 250 or 500 ms
 * instead measured the same within noise (2 runs each: 478-502 MB, 83-89 µs). The threshold is
 * DuckDB's own setting, so a purge is whatever DuckDB's build does (jemalloc's purge in its Linux
 * builds).
 */
export const PURGE_EVERY_MS = 1_000;
/**
 * A purge is also due, sooner than `PURGE_EVERY_MS`, once the process's RSS grew this much since
 * the last one: what DuckDB frees between purges is then never more than about this much. With
 * the interval alone, bench:pipeline's peak RSS was 478-512 MB in 22 runs at 1M records (the
 * 512 MB bound reached once); with this as well, 3 interleaved pairs: 475 / 489 / 481 MB against
 * 489 / 486 / 507, at 86-94 µs of CPU a record against 78-82 (20,519-22,376 records/s against
 * 23,797-24,749): still under the 92-117 µs of a purge on every file, with the bound kept.
 */
export const PURGE_AFTER_RSS_GROWTH_BYTES = 32 * 1024 * 1024;
const RETAIN_THRESHOLD = INSTANCE_OPTIONS.allocator_bulk_deallocation_flush_threshold;
const PURGE_THRESHOLD = '512KB';
const setBulkThreshold = (value: string): string =>
  `SET GLOBAL allocator_bulk_deallocation_flush_threshold = '${value}'`;

/** Fills `chunk` with the file's rows `start … start + count - 1` (file order), with a lane's filler. */
type Fill = (chunk: DuckDBDataChunk, filler: ColumnChunkFiller, start: number, count: number) => void;

/** One file's rows, as its COPY scans them: how far the scan got, and what stopped it. */
interface Job {
  readonly rows: number;
  readonly fill: Fill;
  readonly filler: ColumnChunkFiller;
  next: number;
  /** What the fill threw (a value a column cannot hold): the error the file fails with. */
  error?: unknown;
}

/** A connection, with the table function registered on it, and its chunk filler. */
interface Lane {
  readonly connection: DuckDBConnection;
  readonly filler: ColumnChunkFiller;
}

/**
 * `shardline_rows(job BIGINT)`: the rows of job `job` of `jobs`, in file order, with the columns
 * and types of REQUEST_COLUMNS. DuckDB calls its functions on the JS thread (@duckdb/node-api runs
 * them there whichever thread asks), one chunk of up to 2,048 rows per call; one scanning thread,
 * so that the rows keep the order they are given in.
 */
const rowsFunction = (jobs: ReadonlyMap<number, Job>): DuckDBTableFunction =>
  DuckDBTableFunction.create({
    name: ROWS_FUNCTION,
    parameterTypes: [BIGINT],
    bindFunction: (info) => {
      const id = Number(info.getParameter(0));
      const job = jobs.get(id);
      if (job === undefined) {
        info.setError(`${ROWS_FUNCTION}: no rows are being encoded as job ${id}`);
        return;
      }
      for (const c of REQUEST_COLUMNS) info.addResultColumn(c.name, duckdbTypeOf(c.type));
      info.setCardinality(job.rows, true);
      info.setBindData({ id });
    },
    initFunction: (info) => {
      info.setMaxThreads(1);
      info.setInitData({});
    },
    mainFunction: (info, output) => {
      const job = jobs.get((info.bindData as { id: number }).id);
      const count = job === undefined ? 0 : Math.min(CHUNK_ROWS, job.rows - job.next);
      if (job === undefined || count <= 0) {
        output.rowCount = 0;
        return;
      }
      try {
        job.fill(output, job.filler, job.next, count);
        job.next += count;
      } catch (error) {
        job.error = error;
        output.rowCount = 0;
        // The name only: the file fails with `job.error` itself, whose message names the column.
        info.setError(`rows refused (${error instanceof Error ? error.name : typeof error})`);
      }
    },
  });

/**
 * Encodes request rows into one zstd Parquet file, sorted by (project_id, ts), with the columns,
 * order and types of REQUEST_COLUMNS. Uses an in-memory DuckDB; concurrent `encode` calls (several
 * shard processors) each take a free connection or wait for one.
 *
 * A file is one `COPY (SELECT * FROM shardline_rows(job)) TO …`: DuckDB's Parquet writer pulls
 * the rows from a table function that fills its data chunks column by column from typed arrays
 * (ColumnChunkFiller), not one native call per value, already in file order (a stable sort of
 * references, see `sortedByProjectAndTime`). The rows go straight from the stage's packed columns
 * into the writer: no staging table, so no appender copying each chunk and flushing it into one on
 * the JS thread, and no scan of it. Filling a chunk runs on the JS thread; dictionary encoding,
 * zstd and writing on a libuv thread, while the calling thread serves other shards between
 * chunks. One scanning thread keeps the rows in the order given (`preserve_insertion_order`, on by
 * default), which the contract test checks.
 *
 * 20 files of 6,000 packed rows, in one process, 3 interleaved rounds (2026-12-02): 87,728-95,384
 * rows/s against 48,623-54,441 through a staging table and its appender, 6.1-6.4 µs of JS thread a
 * row against 10.4-11.7, 10.5-11.2 µs of CPU a row against 18.3-20.9; the same bytes.
 */
export class ParquetEncoder {
  private readonly idle: Lane[];
  /** Files being written, by the job number their COPY passes to `shardline_rows`. */
  private readonly jobs: Map<number, Job>;
  private nextJob = 0;
  private readonly waiting: ((lane: Lane) => void)[] = [];
  /** `encode` calls under way or waiting for a connection; `close` waits for them. */
  private pending = 0;
  private drained: (() => void) | undefined;
  private files = 0;
  private closed = false;
  /** When the last purge was made (`performance.now()`); none yet. */
  private lastPurge = Number.NEGATIVE_INFINITY;
  /** The process's RSS right after the last purge. */
  private rssAfterPurge = 0;
  /** Purges made (for tests and diagnostics). */
  purges = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    lanes: Lane[],
    jobs: Map<number, Job>,
    private readonly workDir: string,
    private readonly purgeEveryMs: number,
    private readonly purgeAfterRssGrowthBytes: number,
  ) {
    this.idle = lanes;
    this.jobs = jobs;
  }

  /**
   * `connections`: DuckDB connections (lanes), default 2. `purgeEveryMs`: freed memory goes back
   * to the system at most once in this many milliseconds, before a file (`PURGE_EVERY_MS`); 0
   * purges before every file. `purgeAfterRssGrowthBytes`: or sooner, once the process's RSS grew
   * this much since the last purge (`PURGE_AFTER_RSS_GROWTH_BYTES`).
   */
  static async create(
    options: { connections?: number; purgeEveryMs?: number; purgeAfterRssGrowthBytes?: number } = {},
  ): Promise<ParquetEncoder> {
    const count = options.connections ?? DEFAULT_CONNECTIONS;
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`ParquetEncoder: connections must be an integer >= 1, got ${count}`);
    }
    const purgeEveryMs = options.purgeEveryMs ?? PURGE_EVERY_MS;
    if (!(purgeEveryMs >= 0)) {
      throw new RangeError(`ParquetEncoder: purgeEveryMs must be a number >= 0, got ${purgeEveryMs}`);
    }
    const growth = options.purgeAfterRssGrowthBytes ?? PURGE_AFTER_RSS_GROWTH_BYTES;
    if (!(growth > 0)) {
      throw new RangeError(`ParquetEncoder: purgeAfterRssGrowthBytes must be a number > 0, got ${growth}`);
    }
    const workDir = await mkdtemp(join(tmpdir(), 'shardline-encode-'));
    try {
      const instance = await DuckDBInstance.create(':memory:', INSTANCE_OPTIONS);
      const jobs = new Map<number, Job>();
      const lanes: Lane[] = [];
      for (let i = 0; i < count; i++) {
        const connection = await instance.connect();
        connection.registerTableFunction(rowsFunction(jobs));
        lanes.push({ connection, filler: new ColumnChunkFiller() });
      }
      return new ParquetEncoder(instance, lanes, jobs, workDir, purgeEveryMs, growth);
    } catch (cause) {
      await rm(workDir, { recursive: true, force: true });
      throw new EncodeError(
        'could not start the in-memory DuckDB used to write Parquet; check that @duckdb/node-api is installed for this platform',
        { cause },
      );
    }
  }

  async encode(rows: readonly RequestRow[]): Promise<Uint8Array> {
    const sorted = sortedByProjectAndTime(rows);
    return this.withLane(sorted.length, (chunk, filler, start, count) =>
      filler.fillRows(chunk, sorted, start, count),
    );
  }

  /**
   * Encodes rows `indices` of `packed` (a stage's held rows) into one file, as `encode` does rows
   * given as objects: the same file for the same rows. Their values were checked when packed.
   */
  async encodePacked(packed: PackedRows, indices: ArrayLike<number>): Promise<Uint8Array> {
    const order = packed.sortedOrder(indices);
    return this.withLane(order.length, (chunk, filler, start, count) =>
      filler.fillPackedRows(chunk, packed, order.subarray(start, start + count)),
    );
  }

  private async withLane(rows: number, fill: Fill): Promise<Uint8Array> {
    if (this.closed) {
      throw new EncodeError('encode() called after close(); create a new ParquetEncoder');
    }
    this.pending++;
    try {
      const lane = this.idle.pop() ?? (await new Promise<Lane>((r) => this.waiting.push(r)));
      try {
        return await this.encodeNow(lane, rows, fill);
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

  /** True (and the clock restarted) if a purge is due before this file; see `PURGE_EVERY_MS`. */
  private purgeDue(): boolean {
    const now = performance.now();
    if (
      now - this.lastPurge < this.purgeEveryMs &&
      process.memoryUsage.rss() - this.rssAfterPurge < this.purgeAfterRssGrowthBytes
    ) {
      return false;
    }
    this.lastPurge = now;
    this.purges += 1;
    return true;
  }

  /**
   * One purge of DuckDB's allocator: with the purging threshold, a one-row COPY reserves one buffer
   * above it (its string column's 1 MiB dictionary), so DuckDB purges once; then the threshold
   * that does not purge again. Best effort: a failure costs only memory held a little longer, and
   * a threshold left at 512 KB only the speed of purging on every file, never a wrong file.
   */
  private async purge(connection: DuckDBConnection): Promise<void> {
    const file = join(this.workDir, `purge-${this.files++}.parquet`);
    try {
      await connection.run(setBulkThreshold(PURGE_THRESHOLD));
      await connection.run(`COPY (SELECT 'purge' AS s) TO ${sqlString(file)} (FORMAT parquet)`);
    } catch {
      // See above: nothing to undo but the threshold.
    } finally {
      await connection.run(setBulkThreshold(RETAIN_THRESHOLD)).catch(() => undefined);
      await rm(file, { force: true }).catch(() => undefined);
      this.rssAfterPurge = process.memoryUsage.rss();
    }
  }

  /** The instance's `allocator_bulk_deallocation_flush_threshold` now, as DuckDB prints it. */
  async bulkThreshold(): Promise<string> {
    const lane = this.idle[0];
    if (lane === undefined) throw new EncodeError('bulkThreshold() needs an idle connection');
    const result = await lane.connection.runAndReadAll(
      `SELECT current_setting('allocator_bulk_deallocation_flush_threshold')`,
    );
    return String(result.getRows()[0]?.[0]);
  }

  private async encodeNow({ connection, filler }: Lane, rows: number, fill: Fill): Promise<Uint8Array> {
    const file = join(this.workDir, `${this.files++}.parquet`);
    // Before this file: what the previous files freed goes back to the system.
    if (this.purgeDue()) await this.purge(connection);
    const id = this.nextJob++;
    const job: Job = { rows, fill, filler, next: 0 };
    this.jobs.set(id, job);
    try {
      // The rows come in file order (DuckDB keeps insertion order on one scanning thread): no
      // ORDER BY over every column, no staging table.
      await connection.run(
        `COPY (SELECT * FROM ${ROWS_FUNCTION}(${id})) TO ${sqlString(file)} ` +
          `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_SIZE})`,
      );
      if (job.next !== rows) throw new Error(`the scan gave ${job.next} of ${rows} rows`);
      const bytes = await readFile(file);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      // A value refused while filling: the file fails with that error, which names the column.
      const cause = job.error ?? error;
      throw new EncodeError(
        `could not encode ${rows} rows as Parquet: ${cause instanceof Error ? cause.message : String(cause)}; the batch is kept and retried (check free space in ${this.workDir})`,
        { cause },
      );
    } finally {
      this.jobs.delete(id);
      await rm(file, { force: true });
    }
  }
}
