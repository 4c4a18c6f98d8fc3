import { constants, existsSync, statSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { ConfigError, ShardlineError } from '../../pipeline/errors.ts';
import { toPlainValue } from '../../pipeline/warehouse/plain-value.ts';
import { QueryError } from './errors.ts';

/*
 * Readers never stop writers. DuckDB lets one process open a file read-write, or any number of
 * processes read-only, never both: a 40 s analyst query holding the warehouse read-only froze
 * loading for 40 s. So the loader keeps a snapshot beside the warehouse, refreshed between loads
 * (copied between loads, once a load's CHECKPOINT wrote everything to the file and nothing
 * writes to it, so it is consistent, to a temporary name, then renamed
 * into place: a reader never sees a half-copied file, and a reader that has the old one open keeps
 * it). Readers (`shardline query`, the dashboard page, a DuckDB client) open the snapshot whenever
 * it exists, even when the warehouse has changed since: what they see is behind the warehouse by
 * at most one refresh. Only when there is no snapshot at all do they open the warehouse itself.
 *
 * Cost: a refresh copies the whole file (O(size); a copy-on-write clone where the file system has
 * them), so it runs at most every max(`minIntervalMs`, 10 × the last copy's cost): a 2 GB
 * warehouse that takes 4 s to copy is refreshed every 40 s, and loading never spends more than a
 * tenth of its time copying. The loader sets no floor of its own: a small warehouse (a few ms to
 * copy) is refreshed after every load, so what a load inserted is queryable when it ends, not up
 * to a load interval later (`--demo-events 20000`: p95 arrival → queryable ~0.3 s lower).
 *
 * A copy's cost is the time it took, but at most what its bytes need at `COPY_BYTES_PER_MS`
 * (200 MB/s): a copy slower than that was waiting for a busy machine (libuv's four pool threads
 * also run DuckDB's queries, gzip and file reads), not
 * copying, and the next one need not wait 10 times as long. Measured in `npm start -- --demo-events
 * 20000 --exit`: the same ~7 MB warehouse copied in 19 ms when the machine was idle and in 513 ms
 * while the demo producer sent its burst, after which no copy was allowed for 5.1 s and every
 * batch of the burst became queryable only at the forced copy on exit.
 */

/**
 * Copy speed below which a copy's time is not its cost (see above). Copying a file just written
 * (in the page cache) runs at memory speed: ~360 MB/s for that 7 MB file on this machine's idle
 * disk; AWS gp3 volumes give 125 MB/s before any page cache.
 */
export const COPY_BYTES_PER_MS = 200_000;

/** `warehouse.duckdb` → `warehouse.snapshot.duckdb`: what readers open. */
export const snapshotPathOf = (dbFile: string): string =>
  dbFile.endsWith('.duckdb') ? `${dbFile.slice(0, -'.duckdb'.length)}.snapshot.duckdb` : `${dbFile}.snapshot`;

const fileStamp = (file: string): string | undefined => {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return undefined;
  }
};

/** The file's size, from its stamp. */
const stampBytes = (stamp: string): number => Number(stamp.slice(stamp.indexOf(':') + 1));

/** What one `WarehouseSnapshot.refresh` did. */
export type SnapshotRefresh =
  /** Copied; readers see the warehouse as it is now. */
  | { readonly state: 'copied'; readonly ms: number }
  /** The snapshot already holds the warehouse as it is (or there is nothing to copy). */
  | { readonly state: 'current' }
  /**
   * Not yet: the last copy was too recent (see the cost above), or the file holds writes not yet
   * checkpointed (its WAL); readers see an older one.
   */
  | { readonly state: 'deferred'; readonly nextInMs: number };

export interface SnapshotOptions {
  /** Never refresh more often than this, whatever the copy costs. Default 0: 10 × the last copy only. */
  readonly minIntervalMs?: number;
  /** Refresh no more often than this many times the last copy's cost. Default 10. */
  readonly copyTimeFactor?: number;
  /**
   * The clock: when copies happen, and how long each took. Default: the wall clock in ms with
   * sub-millisecond resolution (a small warehouse's clone can take less than one ms, which
   * `Date.now` would report as 0, the value that means "no copy yet").
   */
  readonly now?: () => number;
  /** Copies the warehouse file to the snapshot's temporary name. Default: `copyFile` (a clone where the file system has them). */
  readonly copy?: (from: string, to: string) => Promise<void>;
}

const preciseNow = (): number => performance.timeOrigin + performance.now();

const cloneOrCopy = (from: string, to: string): Promise<void> =>
  copyFile(from, to, constants.COPYFILE_FICLONE);

/** The loader's side: copies the warehouse to its snapshot when the warehouse changed. */
export class WarehouseSnapshot {
  readonly path: string;
  #copied: string | undefined;
  #lastCopyAt: number | undefined;
  #lastCopyMs = 0;
  #lastCopyCostMs = 0;
  readonly #minIntervalMs: number;
  readonly #factor: number;
  readonly #now: () => number;
  readonly #copy: (from: string, to: string) => Promise<void>;

  constructor(
    readonly dbFile: string,
    options: SnapshotOptions = {},
  ) {
    this.path = snapshotPathOf(dbFile);
    this.#minIntervalMs = options.minIntervalMs ?? 0;
    this.#factor = options.copyTimeFactor ?? 10;
    this.#now = options.now ?? preciseNow;
    this.#copy = options.copy ?? cloneOrCopy;
  }

  /** How long the last copy took, in ms (0 before the first). */
  get lastCopyMs(): number {
    return this.#lastCopyMs;
  }

  /** What the last copy cost, in ms: its time, at most its bytes at `COPY_BYTES_PER_MS` (0 before the first). */
  get lastCopyCostMs(): number {
    return this.#lastCopyCostMs;
  }

  /**
   * Call only between loads (the file checkpointed, no write under way; the loader may keep it
   * open, see `lingerMs` of DuckDbWarehouse.open). `force` ignores the interval (on shutdown, so
   * that readers see the last load). `hold` runs the copy while no other process can write the
   * file (the loader passes `DuckDbWarehouse.whileHeld`): without it, a `shardline replay` or
   * `compact` taking the file between the load and the copy could be copied half-written.
   */
  async refresh(options: { force?: boolean; hold?: SnapshotHold } = {}): Promise<SnapshotRefresh> {
    const skip = this.#skip(options.force === true);
    if (skip !== undefined) return skip;
    const copy = async (): Promise<SnapshotRefresh> => {
      // Again, now that the file is held: it may have changed since.
      const stamp = fileStamp(this.dbFile);
      if (stamp === undefined || this.#copiedAlready(stamp)) return { state: 'current' };
      // Written to and not checkpointed (a CHECKPOINT that failed, or no hold): a copy would miss
      // what the WAL holds, so readers keep the last snapshot, and nothing new is queryable yet.
      if (existsSync(`${this.dbFile}.wal`)) return { state: 'deferred', nextInMs: this.#minIntervalMs };
      const started = this.#now();
      const temp = `${this.path}.${process.pid}.tmp`;
      try {
        // A copy-on-write clone where the file system has them, a plain copy elsewhere; under a
        // temporary name, renamed into place once complete.
        await this.#copy(this.dbFile, temp);
        await rename(temp, this.path);
      } catch (cause) {
        await rm(temp, { force: true });
        throw new ShardlineError(
          `warehouse: could not refresh the readers' snapshot ${this.path}: ${(cause as Error).message}; queries see the previous one`,
          { cause, retriable: true },
        );
      }
      this.#copied = stamp;
      this.#lastCopyAt = this.#now();
      this.#lastCopyMs = this.#lastCopyAt - started;
      this.#lastCopyCostMs = Math.min(this.#lastCopyMs, stampBytes(stamp) / COPY_BYTES_PER_MS);
      return { state: 'copied', ms: this.#lastCopyMs };
    };
    return options.hold === undefined ? copy() : options.hold(copy);
  }

  /** The snapshot already holds the file as it is. */
  #copiedAlready(stamp: string): boolean {
    return stamp === this.#copied && existsSync(this.path);
  }

  /** Why no copy is needed now (nothing changed, or the last copy is too recent), if none is. */
  #skip(force: boolean): SnapshotRefresh | undefined {
    const stamp = fileStamp(this.dbFile);
    if (stamp === undefined || this.#copiedAlready(stamp)) return { state: 'current' };
    if (!force && this.#lastCopyAt !== undefined && existsSync(this.path)) {
      const interval = Math.max(this.#minIntervalMs, this.#factor * this.#lastCopyCostMs);
      const since = this.#now() - this.#lastCopyAt;
      if (since < interval) return { state: 'deferred', nextInMs: interval - since };
    }
    return undefined;
  }
}

/** Runs a snapshot copy while the warehouse file is held (`DuckDbWarehouse.whileHeld`). */
export type SnapshotHold = (copy: () => Promise<SnapshotRefresh>) => Promise<SnapshotRefresh>;

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: Record<string, unknown>[];
}

/**
 * Which file a reader opens for `dbFile`: the snapshot whenever it exists (behind the warehouse by
 * at most one refresh), else the warehouse itself.
 */
export const readableFile = (dbFile: string): { file: string; snapshot: boolean } => {
  const snapshot = snapshotPathOf(dbFile);
  if (existsSync(snapshot)) return { file: snapshot, snapshot: true };
  if (existsSync(dbFile)) return { file: dbFile, snapshot: false };
  throw new ConfigError('--db', `no warehouse at ${dbFile}: run \`npm start\` first, or pass --db <file>`);
};

const isLocked = (e: unknown) => e instanceof Error && /Could not set lock/i.test(e.message);

/**
 * Runs one query read-only on the warehouse's snapshot (or the warehouse when it has none) and
 * closes the file after. `values` bind `$name` parameters. A SQL error becomes a QueryError with
 * DuckDB's message and position.
 */
export const queryWarehouse = async (
  dbFile: string,
  sql: string,
  values?: Readonly<Record<string, string>>,
): Promise<QueryResult> => {
  const target = readableFile(dbFile);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(target.file, { access_mode: 'READ_ONLY' });
  } catch (cause) {
    if (isLocked(cause) && !target.snapshot && existsSync(snapshotPathOf(dbFile))) {
      // A writer holds the warehouse and its snapshot is a little behind: read the snapshot.
      return queryFile(snapshotPathOf(dbFile), sql, values);
    }
    throw new ShardlineError(
      isLocked(cause)
        ? `warehouse: ${target.file} is open for writing by another process that keeps no snapshot for readers; query again once it is done, or stop it`
        : `warehouse: cannot open ${target.file}: ${(cause as Error).message}`,
      { cause, retriable: isLocked(cause) },
    );
  }
  return runOn(instance, sql, values);
};

const queryFile = async (file: string, sql: string, values?: Readonly<Record<string, string>>) =>
  runOn(await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' }), sql, values);

const runOn = async (
  instance: DuckDBInstance,
  sql: string,
  values?: Readonly<Record<string, string>>,
): Promise<QueryResult> => {
  try {
    const db = await instance.connect();
    try {
      let reader: Awaited<ReturnType<typeof db.runAndReadAll>>;
      try {
        reader =
          values === undefined ? await db.runAndReadAll(sql) : await db.runAndReadAll(sql, { ...values });
      } catch (cause) {
        throw new QueryError('duckdb', (cause as Error).message, { cause });
      }
      const columns = reader.columnNames();
      const rows = reader.getRows().map((row) => {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < columns.length; i++) out[columns[i] as string] = toPlainValue(row[i] ?? null);
        return out;
      });
      return { columns, rows };
    } finally {
      db.closeSync();
    }
  } finally {
    instance.closeSync();
  }
};
