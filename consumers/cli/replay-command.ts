import { DamagedArchiveObject } from '../../pipeline/archive/raw-archive.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { LAKE } from '../../pipeline/land/lake-layout.ts';
import type { ObjectStore } from '../../pipeline/land/object-store.ts';
import {
  listArchiveObjects,
  readArchiveObject,
  readLaterArchiveObjects,
} from '../../pipeline/replay/archive-source.ts';
import { ReplayRun } from '../../pipeline/replay/replay-run.ts';
import { toKinesisApi } from '../kinesis-api.ts';
import { createKinesisClient } from '../kinesis-client.ts';
import { readStreamRange } from '../range-reader.ts';
import { type LakeContextOptions, lakeContext, loadLakeIntoWarehouse } from './lake-context.ts';
import { SourceProgress, type SourceState } from './source-progress.ts';

export interface ReplayOptions extends LakeContextOptions {
  readonly source: 'stream' | 'archive';
  /** ISO 8601 date-times; records that arrived in [from, to) are replayed. */
  readonly from: string;
  readonly to?: string;
  readonly dryRun: boolean;
  /** Archive: replay the other objects when one cannot be read, listing it in the summary. */
  readonly skipDamaged?: boolean;
  /** Re-run a replay that stopped halfway under its own generation (same keys, replaced). */
  readonly generation?: number;
  /** Load the replayed files into the embedded warehouse when there is one (default true). */
  readonly load: boolean;
  /** Stream: least ms between two GetRecords calls on one shard (default 1000; Kinesis allows 5/s, shared with the workers). */
  readonly pollIntervalMs?: number;
}

/** The newest generation a replay manifest (`_shardline/replays/g=<n>.json`) records, or undefined. */
export const latestGeneration = async (store: ObjectStore): Promise<number | undefined> => {
  let latest: number | undefined;
  for (const key of await store.list(LAKE.replayManifests)) {
    const m = /g=(\d+)\.json$/.exec(key);
    if (m !== null && (latest === undefined || Number(m[1]) > latest)) latest = Number(m[1]);
  }
  return latest;
};

const time = (field: string, value: string): Date => {
  const ms = Date.parse(value);
  if (!/\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new ConfigError(
      field,
      `${JSON.stringify(value)} is not an ISO 8601 date-time; e.g. 2026-11-22T10:00:00Z`,
    );
  }
  return new Date(ms);
};

/**
 * `shardline replay`: records that arrived in [from, to), from the stream (each shard from
 * AT_TIMESTAMP, in memory only: no lease, no checkpoint) or from the raw archive, through today's
 * pipeline into `replays/requests/g=<generation>/`; then the embedded warehouse loads them, and a
 * replayed row replaces the row it re-derives when it differs. Progress per source on stderr, a
 * JSON summary as the last line of stdout.
 */
export async function runReplay(
  o: ReplayOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): Promise<number> {
  const started = new Date();
  const from = time('--from', o.from);
  const to = o.to === undefined ? started : time('--to', o.to);
  if (to <= from) throw new ConfigError('--to', `must be after --from (${from.toISOString()})`);
  const generation = o.generation ?? started.getTime();
  if (!Number.isSafeInteger(generation) || generation <= 0) {
    throw new ConfigError('--generation', 'must be a positive integer (a replay id: epoch ms of its start)');
  }
  const ctx = lakeContext(o);
  // The generation is this machine's clock: one behind an earlier replay's would make this
  // replay's rows lose to that one's (latest generation wins), silently.
  const latest = await latestGeneration(ctx.store);
  if (
    latest !== undefined &&
    (generation < latest || (generation === latest && o.generation === undefined))
  ) {
    err.write(
      `warning: generation ${generation} is not newer than generation ${latest} of an earlier replay in the lake (is this machine's clock behind?): rows that replay re-derived win over this one's; pass --generation ${latest + 1} or later to replace them\n`,
    );
  }
  const run = await ReplayRun.start({ config: ctx.config, lake: ctx.store, generation, dryRun: o.dryRun });
  const progress = new SourceProgress(err);
  err.write(
    `replay ${o.dryRun ? '(dry run) ' : ''}generation ${generation}: ${o.source} ${from.toISOString()} → ${to.toISOString()}, into ${run.store.describe()}\n`,
  );
  /** Archive objects that could not be read, skipped with --skip-damaged. */
  const damaged: { key: string; error: string }[] = [];
  /** Reads the range from its source into the run. */
  const feedRun = async (): Promise<void> => {
    if (o.source === 'archive') {
      const keys = await listArchiveObjects(ctx.store, from, to);
      const state = progress.add(`archive (${keys.length} objects)`);
      const feed = async (key: string): Promise<number> => {
        let read: Awaited<ReturnType<typeof readArchiveObject>>;
        try {
          read = await readArchiveObject(ctx.store, key, from, to);
        } catch (error) {
          if (!(error instanceof DamagedArchiveObject)) throw error;
          if (o.skipDamaged !== true) {
            throw new DamagedArchiveObject(
              `${error.message}; add --skip-damaged to replay the other objects (the damaged ones are listed in the summary)`,
              { cause: error },
            );
          }
          err.write(`warning: skipped ${error.message}\n`);
          damaged.push({ key, error: error.message });
          // Its records' times are unknown: a shard's later objects are still followed.
          return Number.NEGATIVE_INFINITY;
        }
        const { records, oldestMs } = read;
        if (records.length > 0) await run.feed(records[0]!.shardId, records);
        state.records += records.length;
        state.bytes += records.reduce((n, r) => n + r.data.byteLength, 0);
        return oldestMs;
      };
      for (const [i, key] of keys.entries()) {
        await feed(key);
        state.fraction = (i + 1) / keys.length;
      }
      // A shard read far behind lands hours of arrivals in one batch, keyed by its newest.
      await readLaterArchiveObjects(ctx.store, to, feed);
      state.done = true;
    } else {
      const stream = ctx.config.stream;
      const client = createKinesisClient({ region: stream.region, endpoint: stream.endpoint });
      const states = new Map<string, SourceState>();
      try {
        await readStreamRange({
          api: toKinesisApi(client),
          streamName: stream.name,
          from,
          to,
          ...(o.pollIntervalMs === undefined ? {} : { minPollIntervalMs: o.pollIntervalMs }),
          onRecords: (shardId, records) => run.feed(shardId, records),
          onProgress: (p) => {
            let state = states.get(p.shardId);
            if (state === undefined) {
              state = progress.add(p.shardId);
              states.set(p.shardId, state);
            }
            state.records = p.records;
            state.bytes = p.bytes;
            state.done = p.done;
            if (p.lastArrivalMs !== undefined) {
              state.fraction = Math.min(
                1,
                (p.lastArrivalMs - from.getTime()) / (to.getTime() - from.getTime()),
              );
            }
          },
        });
      } finally {
        client.destroy();
      }
    }
  };
  progress.start();
  try {
    await feedRun();
  } catch (error) {
    // The stage threads would keep the process alive after the error is printed.
    await run.abort().catch(() => undefined);
    throw error;
  } finally {
    progress.stop();
  }

  const summary: Record<string, unknown> = {
    ...(await run.finish({
      source: o.source,
      from: from.toISOString(),
      to: to.toISOString(),
      startedAt: started.toISOString(),
    })),
  };
  const loaded = !o.dryRun && o.load ? await loadLakeIntoWarehouse(ctx) : undefined;
  if (loaded !== undefined) {
    summary.warehouse = {
      files: loaded.files,
      newRows: loaded.rows,
      replacedRows: loaded.replacedRows,
      unchangedRows: loaded.duplicateRows,
      failedFiles: loaded.failed.length,
    };
  }
  if (damaged.length > 0) summary.damagedObjects = damaged;
  summary.seconds = Math.round((Date.now() - started.getTime()) / 100) / 10;
  err.write(
    `replayed ${summary.records} records: ${summary.landed} rows, ${summary.deduplicated} duplicates, ${summary.deadLettered} dead letters, ${summary.objects} objects${o.dryRun ? ' (dry run: nothing written)' : ` under replays/requests/g=${generation}/`}\n`,
  );
  out.write(`${JSON.stringify(summary)}\n`);
  return 0;
}
