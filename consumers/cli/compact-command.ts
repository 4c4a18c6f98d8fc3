import { compactLake } from '../../pipeline/land/compactor.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { type LakeContextOptions, lakeContext } from './lake-context.ts';
import { SourceProgress } from './source-progress.ts';

export interface CompactCommandOptions extends LakeContextOptions {
  /** Minutes an hour must have been over before it is compacted. */
  readonly closedForMinutes: number;
  readonly maxRowsPerFile: number;
  readonly hour?: string;
  readonly dryRun: boolean;
  readonly load: boolean;
}

/**
 * `shardline compact`: closed hours of `requests/` merged into few large files (see
 * pipeline/land/compactor.ts for why no reader sees a row twice or misses one). Run by hand, or
 * hourly as a scheduled task in production (pipeline/land/README.md).
 */
export async function runCompact(
  o: CompactCommandOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): Promise<number> {
  const started = Date.now();
  const ctx = lakeContext(o);
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
      onHour: (done, total, hour) => {
        state.records += hour.rows;
        state.bytes += hour.sourceBytes;
        state.fraction = done / total;
      },
    });
    state.done = true;
  } finally {
    progress.stop();
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
  };
  if (!o.dryRun && o.load && ctx.warehouseFile !== undefined) {
    const warehouse = await DuckDbWarehouse.open(ctx.warehouseFile);
    try {
      const loaded = await warehouse.loadNewFiles(ctx.store);
      summary.warehouse = {
        compactedFilesRecorded: loaded.compactedFiles,
        filesLoaded: loaded.files,
        newRows: loaded.rows,
      };
    } finally {
      await warehouse.close();
    }
  }
  summary.seconds = Math.round((Date.now() - started) / 100) / 10;
  err.write(
    `compacted ${summary.hoursCompacted} of ${summary.hours} closed hours${o.dryRun ? ' (dry run)' : ''}: ${summary.filesBefore} files → ${summary.filesAfter}, ${summary.rows} rows\n`,
  );
  out.write(`${JSON.stringify(summary)}\n`);
  return 0;
}
