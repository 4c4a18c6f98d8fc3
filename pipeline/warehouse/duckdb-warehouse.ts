import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  DERIVED_COLUMNS,
  duckdbColumnsDdl,
  duckdbColumnType,
  duckdbType,
  REQUEST_COLUMNS,
  REQUESTS_TABLE,
} from '../../schemas/request-row.ts';
import { ShardlineError } from '../errors.ts';
import {
  type CompactionManifest,
  compactionOf,
  readCompactionManifest,
} from '../land/compaction-manifest.ts';
import { LAKE } from '../land/lake-layout.ts';
import { LocalDirStore } from '../land/local-dir-store.ts';
import type { ObjectStore } from '../land/object-store.ts';
import { toPlainValue } from './plain-value.ts';

export interface WarehouseOpenOptions {
  /** Open without writing (`shardline query`); the file must exist. */
  readonly readOnly?: boolean;
  /** How long to wait for another process holding the file before giving up. */
  readonly lockTimeoutMs?: number;
  /**
   * After a load that loaded files, keep the file open this long for the next one (0: close after
   * each call). While files keep landing, a load every fraction of a second saves the open, the
   * catalog read and the close of each (the close is synchronous, on the calling thread). A load
   * that found nothing keeps it open only within this long of the last load that found files (the
   * loader's timer ticks between two landings); a later one, or any other call, closes the file
   * at once, so other processes get it whenever the stream is quiet, and at least every
   * `MAX_HOLD_MS` while loads follow one another.
   */
  readonly lingerMs?: number;
  /**
   * DuckDB threads of the file's instance (default: one per core). The streaming loader passes 1:
   * its loads are a few batch files each, which gain nothing from a second thread, and on a
   * machine whose cores the stage threads keep busy, DuckDB's idle worker spinning for tasks took
   * CPU from them (`--demo-events 20000` on 2 cores: p95 arrival → queryable ~3.5 s with the
   * default, ~3.2 s with 1). A catch-up load of many files is then slower, while the stage threads
   * catch up on the same backlog.
   */
  readonly threads?: number;
}

/** Longest a lingering warehouse keeps the file open across calls before closing it once. */
const MAX_HOLD_MS = 5_000;

/** What a load that found nothing new loaded. */
const nothingLoaded = (): LoadResult => ({
  files: 0,
  rows: 0,
  duplicateRows: 0,
  replacedRows: 0,
  compactedFiles: 0,
  failed: [],
  groupFallbacks: [],
});

const LOADED_FILES = '_shardline_loaded_files';
const INCOMING = '_shardline_incoming';
const INCOMING_NEW = '_shardline_incoming_new';
/** Files loaded in one transaction: enough to catch up after a pause, small enough to fall back file by file. */
const LOAD_GROUP_FILES = 64;

/** The row columns of a file: those it lacks (landed before they existed) read as their default. */
const selectWithDefaults = (present: (name: string) => boolean): string =>
  REQUEST_COLUMNS.map((c) =>
    present(c.name) ? `"${c.name}"` : `CAST(${c.default ?? 'NULL'} AS ${duckdbType(c.type)}) AS "${c.name}"`,
  ).join(', ');

/** Inside what is loaded, one row per request: the newest generation, then the first arrived. */
const ONE_ROW_PER_REQUEST =
  'QUALIFY row_number() OVER (PARTITION BY p.project_id, p.request_id, p.ts ORDER BY p.generation DESC, p.ingest_ts, p.sequence_number, p.sub_sequence) = 1';

/**
 * Deletes the rows that a newer generation in INCOMING replaces: latest wins, but only when it
 * changes something (re-running a replay changes nothing). Returns how many.
 */
const deleteReplaced = async (db: DuckDBConnection): Promise<number> => {
  const differs = DERIVED_COLUMNS.map((c) => `r."${c.name}" IS DISTINCT FROM p."${c.name}"`).join(' OR ');
  return (
    await db.run(
      `DELETE FROM ${REQUESTS_TABLE} r USING ${INCOMING} p
       WHERE r.project_id = p.project_id AND r.request_id = p.request_id AND r.ts = p.ts
         AND p.generation > r.generation AND (${differs})`,
    )
  ).rowsChanged;
};
const COLUMNS = REQUEST_COLUMNS.map((c) => `"${c.name}"`).join(', ');
const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const isLockConflict = (error: unknown): boolean =>
  error instanceof Error && /Could not set lock/i.test(error.message);

/** What one `loadNewFiles` did. `failed` files are not recorded as loaded and are retried next time. */
export interface LoadResult {
  readonly files: number;
  readonly rows: number;
  /** Rows of those files not inserted because their (project_id, request_id, ts) was already there. */
  readonly duplicateRows: number;
  /** Rows replaced by a row of a newer generation that differs from them (a replay that corrects). */
  readonly replacedRows: number;
  /** Compacted files recorded as loaded without reading them: every file they merge was loaded. */
  readonly compactedFiles: number;
  readonly failed: readonly { readonly key: string; readonly message: string }[];
  /**
   * Groups of files that failed to load together and were loaded again one by one, with the
   * group's error: each is slower, and names a file set that does not load as one.
   */
  readonly groupFallbacks: readonly { readonly files: number; readonly message: string }[];
}

/**
 * The embedded warehouse: a DuckDB file loaded from landed Parquet the way a SingleStore S3
 * pipeline loads a bucket, each file exactly once.
 *
 * Locking: DuckDB lets one process open a file read-write OR several read-only, never both, so a
 * read-only `shardline query` cannot open the file while a loader keeps it open. Therefore this
 * class opens the file for each call and closes it after (~15 ms), unless files are landing
 * (`lingerMs`: kept open for the next load, at most 5 s in a row), and waits (up to
 * `lockTimeoutMs`) when another process holds it. A load of partitions where nothing landed since
 * it last loaded them does not open it at all. Calls within one process run one at a time.
 * Readers use the snapshot the loader copies between loads (consumers/cli/warehouse-reader.ts).
 *
 * Deduplication: no primary key. Measured on 40 × 50k-row files, `INSERT OR IGNORE` with
 * PRIMARY KEY (project_id, request_id) loaded no faster than an anti-join and made the file 52%
 * larger (the ART index, which DuckDB also keeps in memory). So each load anti-joins on
 * (project_id, request_id) against the table and keeps the first-arrived row per key inside the
 * file, the way SingleStore's unique key with SKIP DUPLICATE KEY ERRORS drops a duplicate that
 * slipped by.
 *
 * Generations (schemas/README.md, "Backfills"): a row of a newer generation (a replay, under
 * `replays/requests/`) that differs in a derived column replaces the row with the same key; an
 * equal or older one (a resend, a replay loaded late) is dropped as above. Files landed before
 * the `generation` column existed are read with its default, 0.
 *
 * Compaction (pipeline/land/README.md): a compacted file whose manifest lists only files already
 * loaded is recorded as loaded without being read; otherwise it is loaded like any other file,
 * and the anti-join drops the rows already there.
 */
export class DuckDbWarehouse {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The file kept open between calls (`lingerMs`), since `openedAt`. */
  private held: { instance: DuckDBInstance; db: DuckDBConnection; openedAt: number } | undefined;
  private release: NodeJS.Timeout | undefined;
  /** Set by a call that should keep the file open after it (a load while files are landing). */
  private lingerAfter = false;
  /** When a load last loaded files (`Date.now()`). */
  private lastFilesAt = Number.NEGATIVE_INFINITY;
  /**
   * The Parquet keys a load of `within` listed and left none of pending (each loaded or recorded):
   * while a listing of the same prefixes shows no other key, there is nothing to load.
   */
  private settled: { readonly within: string; readonly keys: ReadonlySet<string> } | undefined;

  private constructor(
    private readonly dbFile: string,
    private readonly readOnly: boolean,
    private readonly lockTimeoutMs: number,
    private readonly lingerMs: number,
    private readonly threads: number | undefined,
  ) {}

  static async open(dbFile: string, options: WarehouseOpenOptions = {}): Promise<DuckDbWarehouse> {
    const readOnly = options.readOnly ?? false;
    if (readOnly) {
      await access(dbFile).catch((cause: unknown) => {
        throw new ShardlineError(
          `warehouse: no database at ${dbFile}; load data first (shardline dev) or fix the path`,
          {
            cause,
          },
        );
      });
    }
    const warehouse = new DuckDbWarehouse(
      dbFile,
      readOnly,
      options.lockTimeoutMs ?? 15_000,
      readOnly ? 0 : (options.lingerMs ?? 0),
      options.threads,
    );
    if (!readOnly) {
      await warehouse.withConnection(async (db) => {
        await db.run(`CREATE TABLE IF NOT EXISTS ${REQUESTS_TABLE} (\n  ${duckdbColumnsDdl()}\n)`);
        await db.run(
          `CREATE TABLE IF NOT EXISTS ${LOADED_FILES} (key VARCHAR PRIMARY KEY, rows BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL)`,
        );
        await evolveSchema(db);
      });
    }
    return warehouse;
  }

  /**
   * Loads every `requests/` Parquet file of `store` not loaded before. Each file's rows and its
   * key in `_shardline_loaded_files` are committed in one transaction: a crash leaves a file
   * either fully loaded and recorded, or neither, so it is never loaded twice nor skipped.
   * `localRoot` is the directory behind the keys when the store is local (read in place).
   *
   * `within`: list only these key prefixes (say the last hours' partitions and `replays/`), so that
   * a load costs what is recent, not every file the lake ever held; a full listing (the default)
   * is still needed now and then for files that land late into older partitions.
   */
  loadNewFiles(
    store: ObjectStore,
    localRoot?: string,
    options: { readonly within?: readonly string[] } = {},
  ): Promise<LoadResult> {
    if (this.readOnly) {
      return Promise.reject(
        new ShardlineError('warehouse: opened read-only; open it without readOnly to load files'),
      );
    }
    const root = localRoot ?? (store instanceof LocalDirStore ? store.rootDir : undefined);
    const { within } = options;
    const listing = async (): Promise<string[]> => {
      const prefixes = within ?? [`${REQUESTS_TABLE}/`, LAKE.replays];
      const keys: string[] = [];
      for (const prefix of prefixes) keys.push(...(await store.list(prefix)));
      // Prefixes may overlap (a caller's partitions): each key once.
      return [...new Set(keys)].filter((k) => k.endsWith('.parquet'));
    };
    const withinKey = JSON.stringify(within ?? null);
    if (this.closed)
      return Promise.reject(new ShardlineError('warehouse: used after close(); open it again'));
    return (async () => {
      const parquet = await listing();
      // Nothing landed since a load of the same partitions left none of their files pending: the
      // file is not opened. A streaming loader's timer ticks every `loadIntervalMs` on a quiet
      // stream, and each tick opened the file, read its catalog and closed it again (the close
      // synchronous on the calling thread: 5-77 ms in the demo). Only for partial listings
      // (`within`), whose keys are few enough to keep between loads.
      const settled = this.settled;
      if (
        settled !== undefined &&
        settled.within === withinKey &&
        parquet.every((k) => settled.keys.has(k))
      ) {
        return nothingLoaded();
      }
      return this.withConnection((db) => this.loadListed(db, store, root, within, withinKey, parquet));
    })();
  }

  /** `loadNewFiles` once the keys are listed and some may be new. */
  private async loadListed(
    db: DuckDBConnection,
    store: ObjectStore,
    root: string | undefined,
    within: readonly string[] | undefined,
    withinKey: string,
    parquet: readonly string[],
  ): Promise<LoadResult> {
    const loadedRows = (
      await db.runAndReadAll(
        within === undefined
          ? `SELECT key FROM ${LOADED_FILES}`
          : `SELECT key FROM ${LOADED_FILES} WHERE ${within.length === 0 ? 'false' : within.map((p) => `starts_with(key, ${sqlString(p)})`).join(' OR ')}`,
      )
    ).getRows();
    const loaded = new Set(loadedRows.map((r) => r[0] as string));
    const pending = parquet.filter((k) => !loaded.has(k));
    let rows = 0;
    let duplicateRows = 0;
    let replacedRows = 0;
    let compactedFiles = 0;
    let files = 0;
    const failed: { key: string; message: string }[] = [];
    const groupFallbacks: { files: number; message: string }[] = [];
    let tempDir: string | undefined;
    // The output files of one compaction share a manifest: read it once per load.
    const manifests = new Map<string, Promise<CompactionManifest | undefined>>();
    // Plain files are loaded in groups, one transaction each (a few statements for the group,
    // not per file); a group that fails is loaded again file by file, so one bad file is
    // named and left for the next load while the others go in.
    let group: { key: string; path: string }[] = [];
    const loadGroup = async (): Promise<void> => {
      const entries = group;
      group = [];
      if (entries.length === 0) return;
      if (entries.length > 1) {
        try {
          const result = await this.loadFiles(db, entries);
          rows += result.inserted - result.replaced;
          replacedRows += result.replaced;
          duplicateRows += result.total - result.inserted;
          files += entries.length;
          for (const { key } of entries) loaded.add(key);
          return;
        } catch (error) {
          // Loaded again one by one below, where the file at fault is reported.
          groupFallbacks.push({
            files: entries.length,
            message: error instanceof Error ? error.message : String(error),
          });
        }
      }
      for (const { key, path } of entries) {
        try {
          const result = await this.loadFile(db, key, path, store);
          rows += result.inserted - result.replaced;
          replacedRows += result.replaced;
          duplicateRows += result.total - result.inserted;
          files += 1;
          loaded.add(key);
        } catch (error) {
          failed.push({ key, message: error instanceof Error ? error.message : String(error) });
        }
      }
    };
    try {
      for (const key of pending) {
        // One file that cannot be loaded (truncated, foreign schema) must not hold back the
        // files after it: it is reported, left unrecorded, and tried again at the next load.
        try {
          if (compactionOf(key) !== undefined) {
            // Whether it is covered depends on what is loaded so far, the group included.
            await loadGroup();
            if (await this.coveredByCompaction(db, store, key, loaded, manifests)) {
              compactedFiles += 1;
              continue;
            }
          }
          let path: string;
          if (root !== undefined) {
            path = join(root, ...key.split('/'));
          } else {
            tempDir ??= await mkdtemp(join(tmpdir(), 'shardline-load-'));
            path = join(tempDir, `${group.length}.parquet`);
            await writeFile(path, await store.get(key));
          }
          group.push({ key, path });
          if (group.length >= LOAD_GROUP_FILES) await loadGroup();
        } catch (error) {
          failed.push({ key, message: error instanceof Error ? error.message : String(error) });
        }
      }
      await loadGroup();
    } finally {
      if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    }
    // Files are landing: the next load is likely soon (see `lingerMs`). An empty load between
    // two landings keeps the file too: in a burst the loader's timer ticked between landings,
    // and each such load closed the file (`npm start -- --demo-events 20000`: 9 closes during
    // the burst, 5-77 ms each on the event loop, and as many opens).
    const now = Date.now();
    if (files > 0) this.lastFilesAt = now;
    this.lingerAfter = now - this.lastFilesAt < this.lingerMs;
    this.settled =
      within !== undefined && failed.length === 0 ? { within: withinKey, keys: new Set(parquet) } : undefined;
    return { files, rows, duplicateRows, replacedRows, compactedFiles, failed, groupFallbacks };
  }

  query(sql: string): Promise<Record<string, unknown>[]> {
    // Any SQL may change what is loaded: the next load reads the file again.
    this.settled = undefined;
    return this.withConnection(async (db) => {
      const reader = await db.runAndReadAll(sql);
      const names = reader.columnNames();
      return reader.getRows().map((row) => {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) out[names[i] as string] = toPlainValue(row[i] ?? null);
        return out;
      });
    });
  }

  /**
   * One prepared statement with `$name` parameters bound from `values` (a named dashboard query).
   * Unlike `query`, the SQL must be a single statement.
   */
  queryWithParams(sql: string, values: Readonly<Record<string, string>>): Promise<Record<string, unknown>[]> {
    this.settled = undefined;
    return this.withConnection(async (db) => {
      const reader = await db.runAndReadAll(sql, { ...values });
      const names = reader.columnNames();
      return reader.getRows().map((row) => {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) out[names[i] as string] = toPlainValue(row[i] ?? null);
        return out;
      });
    });
  }

  async rowCount(): Promise<number> {
    const [row] = await this.query(`SELECT count(*) AS n FROM ${REQUESTS_TABLE}`);
    return Number(row?.n ?? 0);
  }

  /**
   * Runs `task` while this process holds the file, after a CHECKPOINT (opening the file if it is
   * not held, waiting for another process's lock as a load does). No other process can write the
   * file meanwhile, so a copy `task` makes of it is whole: the readers' snapshot is copied so.
   * Keeps the file open afterwards if the call before wanted it kept (`lingerMs`).
   */
  whileHeld<T>(task: () => Promise<T>): Promise<T> {
    return this.withConnection(
      async (db) => {
        if (!this.readOnly) await db.run('CHECKPOINT');
        return task();
      },
      { keepLinger: true },
    );
  }

  /** Waits for calls in flight, closes the file; later calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    clearTimeout(this.release);
    this.closeHeld();
  }

  private closeHeld(): void {
    const held = this.held;
    this.held = undefined;
    if (held === undefined) return;
    held.db.closeSync();
    held.instance.closeSync();
  }

  /**
   * A compacted file (`shardline compact`) holds rows of files it replaced. When its manifest
   * names only files this warehouse loaded, it is recorded as loaded without being read; a file
   * without a manifest (a compaction that stopped halfway) or merging a file never loaded is
   * loaded normally, and the anti-join drops what is already there.
   */
  private async coveredByCompaction(
    db: DuckDBConnection,
    store: ObjectStore,
    key: string,
    loaded: ReadonlySet<string>,
    manifests: Map<string, Promise<CompactionManifest | undefined>>,
  ): Promise<boolean> {
    const compaction = compactionOf(key);
    if (compaction === undefined) return false;
    let read = manifests.get(compaction.manifestKey);
    if (read === undefined) {
      read = readCompactionManifest(store, compaction.manifestKey);
      manifests.set(compaction.manifestKey, read);
    }
    const manifest = await read;
    if (manifest === undefined || !manifest.sources.every((source) => loaded.has(source))) return false;
    await db.run(`INSERT INTO ${LOADED_FILES} VALUES (${sqlString(key)}, 0, now()::TIMESTAMP)`);
    return true;
  }

  /**
   * Loads files in one transaction and records each in `_shardline_loaded_files` with the rows it
   * added. Inside what is loaded, the newest generation then the first-arrived row of a key wins;
   * a newer generation that differs replaces the row held; the rest is anti-joined against the
   * table. Throws (and commits nothing) if any file cannot be read.
   */
  private async loadFiles(
    db: DuckDBConnection,
    entries: readonly { key: string; path: string }[],
  ): Promise<{ inserted: number; replaced: number; total: number }> {
    const list = (paths: readonly string[]) => `[${paths.map(sqlString).join(', ')}]`;
    await db.run('BEGIN TRANSACTION');
    try {
      // Files landed before a column existed lack it: files are read in groups of equal columns.
      const columnsOf = new Map<string, Set<string>>();
      for (const [file, name] of (
        await db.runAndReadAll(
          `SELECT file_name, name FROM parquet_schema(${list(entries.map((e) => e.path))})`,
        )
      ).getRows() as [string, string][]) {
        const names = columnsOf.get(file) ?? new Set<string>();
        names.add(name);
        columnsOf.set(file, names);
      }
      const bySignature = new Map<string, { present: Set<string>; paths: string[] }>();
      for (const { path } of entries) {
        const present = columnsOf.get(path) ?? new Set<string>();
        const signature = REQUEST_COLUMNS.map((c) => (present.has(c.name) ? '1' : '0')).join('');
        const group = bySignature.get(signature) ?? { present, paths: [] };
        group.paths.push(path);
        bySignature.set(signature, group);
      }
      const reads = [...bySignature.values()].map(
        ({ present, paths }) =>
          `SELECT ${selectWithDefaults((name) => present.has(name))}, filename AS _file FROM read_parquet(${list(paths)}, filename = true)`,
      );
      await db.run(
        `CREATE OR REPLACE TEMP TABLE ${INCOMING} AS
         SELECT * FROM (${reads.join(' UNION ALL ')}) p ${ONE_ROW_PER_REQUEST}`,
      );
      const [[total, newest]] = (
        await db.runAndReadAll(
          `SELECT (SELECT count(*) FROM read_parquet(${list(entries.map((e) => e.path))}))::BIGINT, coalesce(max(generation), 0)::BIGINT FROM ${INCOMING}`,
        )
      ).getRows() as [[bigint, bigint]];
      const replaced = newest > 0n ? await deleteReplaced(db) : 0;
      const antiJoined = `FROM ${INCOMING} p
         ANTI JOIN ${REQUESTS_TABLE} r ON r.project_id = p.project_id AND r.request_id = p.request_id AND r.ts = p.ts`;
      const insert = (from: string) =>
        db.run(
          `INSERT INTO ${REQUESTS_TABLE} (${COLUMNS}) SELECT ${REQUEST_COLUMNS.map((c) => `p."${c.name}"`).join(', ')} ${from}`,
        );
      let inserted: number;
      let perFile: Map<string, bigint | number>;
      if (entries.length === 1) {
        inserted = (await insert(antiJoined)).rowsChanged;
        perFile = new Map([[entries[0]!.path, inserted]]);
      } else {
        // The new rows are kept apart once, to count them per file.
        await db.run(`CREATE OR REPLACE TEMP TABLE ${INCOMING_NEW} AS SELECT p.* ${antiJoined}`);
        inserted = (await insert(`FROM ${INCOMING_NEW} p`)).rowsChanged;
        perFile = new Map(
          (
            await db.runAndReadAll(`SELECT _file, count(*)::BIGINT FROM ${INCOMING_NEW} GROUP BY _file`)
          ).getRows() as [string, bigint][],
        );
        await db.run(`DROP TABLE ${INCOMING_NEW}`);
      }
      await db.run(
        `INSERT INTO ${LOADED_FILES} VALUES ${entries
          .map(({ key, path }) => `(${sqlString(key)}, ${perFile.get(path) ?? 0}, now()::TIMESTAMP)`)
          .join(', ')}`,
      );
      await db.run(`DROP TABLE ${INCOMING}`);
      await db.run('COMMIT');
      return { inserted, replaced, total: Number(total) };
    } catch (cause) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw cause;
    }
  }

  /** One file, as `loadFiles` does; an error names the file and says what happens next. */
  private async loadFile(
    db: DuckDBConnection,
    key: string,
    path: string,
    store: ObjectStore,
  ): Promise<{ inserted: number; replaced: number; total: number }> {
    try {
      return await this.loadFiles(db, [{ key, path }]);
    } catch (cause) {
      throw new ShardlineError(
        `warehouse: could not load ${key} from ${store.describe()}: ${cause instanceof Error ? cause.message : String(cause)}; nothing of it was committed, the next load retries it (if the file is damaged, move it aside)`,
        { cause, retriable: true },
      );
    }
  }

  /** Opens the file for one call and closes it after, so other processes can take their turn. */
  private withConnection<T>(
    task: (db: DuckDBConnection) => Promise<T>,
    options: { keepLinger?: boolean } = {},
  ): Promise<T> {
    if (this.closed)
      return Promise.reject(new ShardlineError('warehouse: used after close(); open it again'));
    const run = async (): Promise<T> => {
      clearTimeout(this.release);
      if (options.keepLinger !== true) this.lingerAfter = false;
      if (this.held === undefined) {
        const instance = await this.openInstance();
        try {
          this.held = { instance, db: await instance.connect(), openedAt: Date.now() };
        } catch (error) {
          instance.closeSync();
          throw error;
        }
      }
      const { db, openedAt } = this.held;
      let failed = false;
      try {
        return await task(db);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        // Written back on DuckDB's threads, so that closing (which checkpoints what is left,
        // synchronously) does not hold the event loop that reads shards and lands batches; and
        // so that the file is whole for the readers' snapshot between calls.
        if (!this.readOnly) await db.run('CHECKPOINT').catch(() => undefined);
        // A call that failed closes the file: the next one starts from a fresh connection.
        const keep = this.lingerAfter && this.lingerMs > 0 && !this.closed;
        if (failed || !keep || Date.now() - openedAt >= MAX_HOLD_MS) {
          this.closeHeld();
        } else {
          this.release = setTimeout(() => {
            // A close that fails must not stop the calls queued after it.
            this.queue = this.queue.then(() => this.closeHeld()).catch(() => undefined);
          }, this.lingerMs);
          this.release.unref();
        }
      }
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async openInstance(): Promise<DuckDBInstance> {
    const options: Record<string, string> = this.readOnly ? { access_mode: 'READ_ONLY' } : {};
    if (this.threads !== undefined) options.threads = String(this.threads);
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
      try {
        return await DuckDBInstance.create(this.dbFile, options);
      } catch (cause) {
        if (!isLockConflict(cause) || Date.now() + wait > deadline) {
          throw new ShardlineError(
            isLockConflict(cause)
              ? `warehouse: ${this.dbFile} stayed locked by another process for ${this.lockTimeoutMs} ms; stop the other shardline process or retry when its load is done`
              : `warehouse: could not open ${this.dbFile}: ${cause instanceof Error ? cause.message : String(cause)}; check the path and its permissions`,
            { cause, retriable: isLockConflict(cause) },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}

/**
 * Adds the row columns a warehouse created by an earlier release lacks (the row schema only
 * appends columns); existing rows take the column's default.
 */
const evolveSchema = async (db: DuckDBConnection): Promise<void> => {
  const existing = new Set(
    (
      await db.runAndReadAll(
        `SELECT column_name FROM information_schema.columns WHERE table_name = ${sqlString(REQUESTS_TABLE)} AND table_schema = current_schema()`,
      )
    )
      .getRows()
      .map((r) => String(r[0])),
  );
  for (const c of REQUEST_COLUMNS) {
    if (existing.has(c.name)) continue;
    // DuckDB adds columns without constraints: NOT NULL is left to the loader, which always sets it.
    const type = duckdbColumnType(c).replace(' NOT NULL', '');
    await db.run(`ALTER TABLE ${REQUESTS_TABLE} ADD COLUMN "${c.name}" ${type}`);
  }
};
