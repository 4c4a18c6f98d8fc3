import { constants, existsSync, statSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { ConfigError, ShardlineError } from '../../pipeline/errors.ts';
import { toPlainValue } from '../../pipeline/warehouse/plain-value.ts';
import { QueryError } from './errors.ts';

/*
 * Readers never stop writers. DuckDB lets one process open a file read-write, or any number of
 * processes read-only, never both: a 40 s analyst query holding the warehouse read-only froze
 * loading for 40 s. So the loader keeps a snapshot beside the warehouse, refreshed after every
 * load that changed the file (copied while no connection is open, so it is consistent, then
 * renamed into place, which never waits for a reader: a reader keeps the file it opened).
 * Readers (`shardline query`, the dashboard page, a DuckDB client) open the snapshot read-only.
 * Only when there is no current snapshot, and so no loader keeping one, do they open the
 * warehouse itself, read-only.
 */

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

/** The loader's side: copies the warehouse to its snapshot when the warehouse changed. */
export class WarehouseSnapshot {
  readonly path: string;
  #copied: string | undefined;

  constructor(readonly dbFile: string) {
    this.path = snapshotPathOf(dbFile);
  }

  /**
   * Call only while no connection to the warehouse is open (between loads). Resolves with the
   * milliseconds the copy took, or undefined when nothing changed since the last copy.
   */
  async refresh(): Promise<number | undefined> {
    const stamp = fileStamp(this.dbFile);
    if (stamp === undefined || existsSync(`${this.dbFile}.wal`)) return undefined;
    if (stamp === this.#copied && existsSync(this.path)) return undefined;
    const started = performance.now();
    const temp = `${this.path}.${process.pid}.tmp`;
    try {
      // A copy-on-write clone where the file system has them, a plain copy elsewhere.
      await copyFile(this.dbFile, temp, constants.COPYFILE_FICLONE);
      await rename(temp, this.path);
    } catch (cause) {
      await rm(temp, { force: true });
      throw new ShardlineError(
        `warehouse: could not refresh the readers' snapshot ${this.path}: ${(cause as Error).message}; queries see the previous one`,
        { cause, retriable: true },
      );
    }
    this.#copied = stamp;
    return performance.now() - started;
  }
}

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: Record<string, unknown>[];
}

/** Which file a reader opens for `dbFile`: the snapshot when it is current, else the warehouse. */
export const readableFile = (dbFile: string): { file: string; snapshot: boolean } => {
  const snapshot = snapshotPathOf(dbFile);
  const main = existsSync(dbFile) ? statSync(dbFile).mtimeMs : undefined;
  const snap = existsSync(snapshot) ? statSync(snapshot).mtimeMs : undefined;
  if (snap !== undefined && (main === undefined || snap >= main)) return { file: snapshot, snapshot: true };
  if (main !== undefined) return { file: dbFile, snapshot: false };
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
