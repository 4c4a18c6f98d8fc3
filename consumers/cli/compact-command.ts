import { ConfigError } from '../../pipeline/errors.ts';
import { compactLake } from '../../pipeline/land/compactor.ts';
import { type LakeContextOptions, lakeContext, loadLakeIntoWarehouse } from './lake-context.ts';
import { openSingleStore, type SingleStoreSession } from './singlestore-session.ts';
import { SourceProgress } from './source-progress.ts';

export interface CompactCommandOptions extends LakeContextOptions {
  /** Minutes an hour must have been over before it is compacted. */
  readonly closedForMinutes: number;
  readonly maxRowsPerFile: number;
  readonly hour?: string;
  readonly dryRun: boolean;
  readonly load: boolean;
  /**
   * Minutes past an hour's close before its merged files are deleted, when no SingleStore
   * pipeline is checked (default 60: the next hourly run deletes them).
   */
  readonly deleteAfterMinutes?: number;
  /** SingleStore URL (default: $SINGLESTORE_URL); with a pipeline, deletes wait for it to load. */
  readonly singlestoreUrl?: string;
  /**
   * The SingleStore pipeline loading this lake: only merged files it shows as `Loaded` in
   * PIPELINES_FILES are deleted. Default `shardline_requests` when the config's warehouse is
   * `none` (SingleStore loads the lake) and a URL is set.
   */
  readonly singlestorePipeline?: string;
}

/*
 * https://docs.singlestore.com/cloud/reference/information-schema-reference/pipelines/pipelines-files/
 * FILE_NAME is the object's key as the pipeline lists it (with the lake's prefix): matched by suffix.
 */
export const LOADED_FILES_SQL = `SELECT file_name
FROM information_schema.PIPELINES_FILES
WHERE database_name = DATABASE() AND pipeline_name = ? AND file_state = 'Loaded' AND file_name LIKE ?`;

/** The keys among `keys` (all of one hour) that the pipeline has loaded. */
export const loadedBySingleStore =
  (db: SingleStoreSession, pipeline: string) =>
  async (hour: string, keys: readonly string[]): Promise<ReadonlySet<string>> => {
    const names = (await db.query(LOADED_FILES_SQL, [pipeline, `%${hour}%`])).rows.map((r) =>
      String(r.file_name),
    );
    const loaded = new Set<string>();
    for (const key of keys) if (names.some((n) => n === key || n.endsWith(`/${key}`))) loaded.add(key);
    return loaded;
  };

/**
 * `shardline compact`: closed hours of `requests/` merged into few large files (see
 * pipeline/land/compactor.ts for why no reader of the documented `requests_latest` view or of a
 * warehouse sees a row twice or misses one). Merged files are deleted once SingleStore has loaded
 * them (when its pipeline is configured), else `deleteAfterMinutes` past the hour's close. Run by hand, or
 * hourly as a scheduled task in production (pipeline/land/README.md).
 */
export async function runCompact(
  o: CompactCommandOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): Promise<number> {
  const started = Date.now();
  const ctx = lakeContext(o);
  const url = o.singlestoreUrl ?? process.env.SINGLESTORE_URL;
  const pipeline =
    o.singlestorePipeline ??
    (ctx.config.warehouse.type === 'none' && url !== undefined && url !== ''
      ? 'shardline_requests'
      : undefined);
  if (pipeline !== undefined && (url === undefined || url === '')) {
    throw new ConfigError('--singlestore-pipeline', 'needs a SingleStore URL: --url or $SINGLESTORE_URL');
  }
  const db = pipeline !== undefined && !o.dryRun ? await openSingleStore(url) : undefined;
  const progress = new SourceProgress(err);
  const state = progress.add('hours');
  progress.start();
  let results: Awaited<ReturnType<typeof compactLake>>;
  try {
    results = await compactLake(ctx.store, {
      closedForMs: o.closedForMinutes * 60_000,
      maxRowsPerFile: o.maxRowsPerFile,
      dryRun: o.dryRun,
      hour: o.hour,
      deleteAfterMs: (o.deleteAfterMinutes ?? 60) * 60_000,
      loaded: db === undefined ? undefined : loadedBySingleStore(db, pipeline as string),
      onHour: (done, total, hour) => {
        state.records += hour.rows;
        state.bytes += hour.sourceBytes;
        state.fraction = done / total;
      },
    });
    state.done = true;
  } finally {
    progress.stop();
    await db?.end();
  }
  const compacted = results.filter((r) => r.skipped === undefined);
  const summary: Record<string, unknown> = {
    dryRun: o.dryRun,
    hours: results.length,
    hoursCompacted: compacted.length,
    filesBefore: compacted.reduce((n, r) => n + r.sources, 0),
    filesAfter: compacted.reduce((n, r) => n + r.outputs, 0),
    rows: compacted.reduce((n, r) => n + r.rows, 0),
    mbBefore: Math.round(compacted.reduce((n, r) => n + r.sourceBytes, 0) / 1e5) / 10,
    mbAfter: Math.round(compacted.reduce((n, r) => n + r.outputBytes, 0) / 1e5) / 10,
    filesKept: results.reduce((n, r) => n + (r.kept ?? 0), 0),
    deletesWaitFor:
      pipeline !== undefined
        ? `SingleStore pipeline ${pipeline} (PIPELINES_FILES Loaded)`
        : `${o.deleteAfterMinutes ?? 60} min past the hour's close`,
  };
  const loaded = !o.dryRun && o.load ? await loadLakeIntoWarehouse(ctx) : undefined;
  if (loaded !== undefined) {
    summary.warehouse = {
      compactedFilesRecorded: loaded.compactedFiles,
      filesLoaded: loaded.files,
      newRows: loaded.rows,
    };
  }
  summary.seconds = Math.round((Date.now() - started) / 100) / 10;
  err.write(
    `compacted ${summary.hoursCompacted} of ${summary.hours} closed hours${o.dryRun ? ' (dry run)' : ''}: ${summary.filesBefore} files → ${summary.filesAfter}, ${summary.rows} rows\n`,
  );
  if (Number(summary.filesKept) > 0) {
    const reasons = [...new Set(results.flatMap((r) => (r.keptReason === undefined ? [] : [r.keptReason])))];
    err.write(
      `kept ${summary.filesKept} merged files (${reasons.join('; ')}): the next run deletes them; readers of the requests_latest view or a warehouse see each row once meanwhile\n`,
    );
  }
  out.write(`${JSON.stringify(summary)}\n`);
  return 0;
}
