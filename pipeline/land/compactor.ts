import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbType, REQUEST_COLUMNS } from '../../schemas/request-row.ts';
import { PARQUET_ROW_GROUP_SIZE } from '../encode/parquet-encoder.ts';
import { ShardlineError } from '../errors.ts';
import {
  type CompactionManifest,
  compactedKey,
  compactionOf,
  manifestKeyOf,
  readCompactionManifest,
} from './compaction-manifest.ts';
import { LAKE } from './lake-layout.ts';
import type { ObjectStore } from './object-store.ts';

export interface CompactOptions {
  /** An hour is compacted once it ended at least this long ago (late shards land into it). */
  readonly closedForMs: number;
  /** Rows per compacted file. */
  readonly maxRowsPerFile: number;
  readonly dryRun?: boolean;
  readonly now?: number;
  /** Only this hour (`requests/dt=…/hr=…/`). */
  readonly hour?: string;
  readonly onHour?: (done: number, total: number, hour: HourCompaction) => void;
  /**
   * Merged files are deleted only once the hour ended at least `closedForMs + deleteAfterMs` ago
   * (default 0), so a warehouse loading the lake with lag (SingleStore's pipeline) has loaded them
   * by then. Ignored when `loaded` is given.
   */
  readonly deleteAfterMs?: number;
  /**
   * Which of an hour's merged files the warehouse has loaded (SingleStore:
   * `information_schema.PIPELINES_FILES` in state `Loaded`): only those are deleted; the others
   * are kept and deleted by a later run once loaded.
   */
  readonly loaded?: (hour: string, keys: readonly string[]) => Promise<ReadonlySet<string>>;
}

export interface HourCompaction {
  readonly hour: string;
  readonly sources: number;
  readonly outputs: number;
  readonly rows: number;
  readonly sourceBytes: number;
  readonly outputBytes: number;
  /** Why nothing was done: `one file`, `open`. */
  readonly skipped?: string;
  /** Merged files kept for a later run (not loaded by the warehouse yet, or within --delete-after). */
  readonly kept?: number;
  readonly keptReason?: string;
}

const HOUR = /^(requests\/dt=(\d{4}-\d{2}-\d{2})\/hr=(\d{2})\/)/;
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Merges each closed hour of `requests/` into few large Parquet files, sorted by (project_id, ts)
 * with today's row groups, without a reader ever missing a row:
 *
 * 1. the hour's files (small batch files and earlier compacted ones) are the sources; their
 *    sorted keys hash to the compaction id, so a run that stopped is redone under the same keys;
 * 2. the compacted files are written (`compacted-<id>-<part>.parquet`, same partition) and read
 *    back: the row count must equal the sources';
 * 3. the manifest (`_shardline/compaction/<hour><id>.json`, the sources and outputs) is written:
 *    from here the compacted files stand for the sources;
 * 4. the sources are deleted, but only those the SingleStore pipeline has loaded (`loaded`), or
 *    once the hour is `deleteAfterMs` older; the rest stay for a later run (which deletes them
 *    from the manifest). Until then the hour holds both: the warehouses load each key once and
 *    drop rows they hold (their unique key), and lake readers that go through the documented
 *    `requests_latest` view (pipeline/land/README.md) deduplicate per request, so none of them
 *    sees a row twice or misses one. A reader of the raw files without that view sees both.
 */
export const compactLake = async (store: ObjectStore, options: CompactOptions): Promise<HourCompaction[]> => {
  if (store.delete === undefined) {
    throw new ShardlineError(
      `compaction: ${store.describe()} cannot delete objects; it needs a local or S3 lake`,
    );
  }
  const now = options.now ?? Date.now();
  const byHour = new Map<string, string[]>();
  for (const key of await store.list(LAKE.requests)) {
    const m = HOUR.exec(key);
    if (m === null || !key.endsWith('.parquet')) continue;
    if (options.hour !== undefined && m[1] !== options.hour) continue;
    const hourEnd = Date.parse(`${m[2]}T${m[3]}:00:00Z`) + 3_600_000;
    if (hourEnd + options.closedForMs > now) continue;
    byHour.set(m[1]!, [...(byHour.get(m[1]!) ?? []), key]);
  }
  const hours = [...byHour.keys()].sort();
  const results: HourCompaction[] = [];
  for (const [i, hour] of hours.entries()) {
    const result = await compactHour(store, hour, byHour.get(hour)!, options, now);
    results.push(result);
    options.onHour?.(i + 1, hours.length, result);
  }
  return results;
};

const compactHour = async (
  store: ObjectStore,
  hour: string,
  keys: readonly string[],
  options: CompactOptions,
  now: number,
): Promise<HourCompaction> => {
  const remove = store.delete!.bind(store);
  let kept = 0;
  let keptReason: string | undefined;
  /** Deletes the merged files that may go now; counts the others. */
  const removeSources = async (keys: readonly string[]) => {
    if (keys.length === 0) return;
    let deletable: ReadonlySet<string>;
    if (options.loaded !== undefined) {
      deletable = await options.loaded(hour, keys);
      keptReason = 'not loaded by SingleStore yet';
    } else {
      const m = HOUR.exec(hour)!;
      const hourEnd = Date.parse(`${m[2]}T${m[3]}:00:00Z`) + 3_600_000;
      const due = hourEnd + options.closedForMs + (options.deleteAfterMs ?? 0) <= now;
      deletable = due ? new Set(keys) : new Set();
      keptReason = 'within --delete-after';
    }
    for (const key of keys) {
      if (deletable.has(key)) await remove(key);
      else kept++;
    }
  };
  const withKept = (r: HourCompaction): HourCompaction => (kept === 0 ? r : { ...r, kept, keptReason });
  // Compacted files count as sources once their manifest exists; without one they are the
  // leftovers of a run that stopped, never sources (their rows are in the files they merged).
  const manifests = new Map<string, CompactionManifest | undefined>();
  const committed = async (key: string) => {
    const c = compactionOf(key)!;
    if (!manifests.has(c.id)) manifests.set(c.id, await readCompactionManifest(store, c.manifestKey));
    return manifests.get(c.id);
  };
  const present = new Set(keys);
  const sources: string[] = [];
  const leftovers: string[] = [];
  for (const key of keys) {
    if (compactionOf(key) === undefined) sources.push(key);
    else if ((await committed(key)) !== undefined) sources.push(key);
    else leftovers.push(key);
  }
  // A run that stopped after its manifest: finish deleting what that manifest covers.
  const covered = new Set<string>();
  for (const m of manifests.values()) for (const s of m?.sources ?? []) if (present.has(s)) covered.add(s);
  if (covered.size > 0 && options.dryRun !== true) await removeSources([...covered]);
  const live = sources.filter((k) => !covered.has(k));
  const skippedHour = (skipped: HourCompaction['skipped']): HourCompaction =>
    withKept({ hour, sources: live.length, outputs: 0, rows: 0, sourceBytes: 0, outputBytes: 0, skipped });
  if (live.length <= 1) {
    return skippedHour('one file');
  }
  const compactedIds = new Set(live.map((k) => compactionOf(k)?.id));
  if (compactedIds.size === 1 && !compactedIds.has(undefined)) {
    return skippedHour('compacted');
  }
  live.sort();
  const id = createHash('sha256').update(live.join('\n')).digest('hex').slice(0, 16);
  const work = await mkdtemp(join(tmpdir(), 'shardline-compact-'));
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    let sourceBytes = 0;
    const paths: string[] = [];
    for (const [i, key] of live.entries()) {
      const body = await store.get(key);
      sourceBytes += body.byteLength;
      const path = join(work, `in-${i}.parquet`);
      await writeFile(path, body);
      paths.push(path);
    }
    const list = `[${paths.map(sqlString).join(', ')}]`;
    const columns = new Set(
      (await db.runAndReadAll(`SELECT DISTINCT name FROM parquet_schema(${list})`))
        .getRows()
        .map((r) => String(r[0])),
    );
    const select = REQUEST_COLUMNS.map((c) =>
      columns.has(c.name)
        ? c.default === undefined
          ? `"${c.name}"`
          : `coalesce("${c.name}", ${c.default})::${duckdbType(c.type)} AS "${c.name}"`
        : `CAST(${c.default ?? 'NULL'} AS ${duckdbType(c.type)}) AS "${c.name}"`,
    ).join(', ');
    await db.run(
      `CREATE TABLE rows AS SELECT ${select} FROM read_parquet(${list}, union_by_name = true)
       ORDER BY project_id, ts, request_id, generation, shard_id, sequence_number, sub_sequence`,
    );
    const [[total]] = (await db.runAndReadAll('SELECT count(*)::BIGINT FROM rows')).getRows() as [[bigint]];
    const rows = Number(total);
    const parts = Math.max(1, Math.ceil(rows / options.maxRowsPerFile));
    const outputs: string[] = [];
    let outputBytes = 0;
    let written = 0;
    for (let part = 0; part < parts; part++) {
      const path = join(work, `out-${part}.parquet`);
      await db.run(
        `COPY (SELECT * FROM rows ORDER BY rowid LIMIT ${options.maxRowsPerFile} OFFSET ${part * options.maxRowsPerFile})
         TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_SIZE})`,
      );
      const [[n]] = (
        await db.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${sqlString(path)})`)
      ).getRows() as [[bigint]];
      written += Number(n);
      const body = await readFile(path);
      outputBytes += body.byteLength;
      const key = compactedKey(hour, id, part);
      if (options.dryRun !== true) await store.put(key, body);
      outputs.push(key);
    }
    if (written !== rows) {
      throw new ShardlineError(
        `compaction of ${hour}: wrote ${written} rows of ${rows}; nothing was deleted, run it again`,
        { retriable: true },
      );
    }
    if (options.dryRun !== true) {
      const manifest: CompactionManifest = {
        version: 1,
        id,
        hour,
        rows,
        sources: live,
        outputs,
        createdAt: new Date().toISOString(),
      };
      await store.put(manifestKeyOf(hour, id), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
      const keep = new Set(outputs);
      // Leftovers (compacted files of a run that stopped before its manifest) hold only rows of
      // the sources: deleting them never loses a row, whatever a warehouse loaded.
      for (const key of leftovers) if (!keep.has(key)) await remove(key);
      await removeSources(live.filter((k) => !keep.has(k)));
    }
    return withKept({ hour, sources: live.length, outputs: outputs.length, rows, sourceBytes, outputBytes });
  } finally {
    db.closeSync();
    instance.closeSync();
    await rm(work, { recursive: true, force: true });
  }
};
