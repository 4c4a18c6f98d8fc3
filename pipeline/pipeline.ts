import { hostname } from 'node:os';
import { WorkerMemory } from './batch/worker-memory.ts';
import { type PipelineConfig, stageThreads } from './config.ts';
import { Deduplicator, randomKeySeed } from './dedupe/deduplicator.ts';
import { ParquetEncoder } from './encode/parquet-encoder.ts';
import { GeoIp } from './enrich/geo-ip.ts';
import { openEnricher } from './enrich/open-enricher.ts';
import { RouteBook } from './enrich/routes/route-book.ts';
import {
  applyRouteUpdates,
  loadRouteUpdates,
  storeLearned,
  syncRouteBook,
  upkeepLearned,
} from './enrich/routes/route-store.ts';
import { LandingStatus } from './land/landing-status.ts';
import { LocalDirStore } from './land/local-dir-store.ts';
import type { ObjectStore } from './land/object-store.ts';
import { S3Store } from './land/s3-store.ts';
import type { Logger } from './observability/logger.ts';
import { silentLogger } from './observability/logger.ts';
import type { LandedBatch, ShardActivity } from './shard-processor.ts';
import { ShardProcessor } from './shard-processor.ts';
import { RecordStage } from './stages/record-stage.ts';
import { InProcessStages, type RecordStages } from './stages/record-stages.ts';
import { ThreadStages } from './stages/thread-stages.ts';
import type { PipelineCounters, ProcessorStart, ShardRecordProcessorFactory } from './types.ts';

/**
 * A stage thread's heap bound: ~128 MB for code and caches (user agents, geo, secrets, routes),
 * 128 MB for the chunks in flight (two per processor pinned to it, each stopped at
 * `PREPARE_MAX_BYTES` of lines plus one record), and twice the worker's batch bound (rows are
 * counted at ~3x their line, and all of a worker's batches may sit in one thread).
 */
export const stageHeapLimitMb = (maxWorkerBytes: number): number =>
  Math.ceil(256 + (2 * maxWorkerBytes) / 2 ** 20);

/** A processor re-created within this long of the last one stopping is a restart, not a new start. */
const RESTART_GRACE_MS = 1_000;

export const newCounters = (): PipelineCounters => ({
  records: 0,
  logs: 0,
  landed: 0,
  deduplicated: 0,
  deadLettered: 0,
  filtered: 0,
  files: 0,
});

export const createObjectStore = (lake: PipelineConfig['lake']): ObjectStore =>
  lake.type === 'local'
    ? new LocalDirStore(lake.dir)
    : new S3Store({
        bucket: lake.bucket,
        prefix: lake.prefix,
        region: lake.region,
        endpoint: lake.endpoint,
        forcePathStyle: lake.forcePathStyle ?? lake.endpoint !== undefined,
      });

/** Default of `routesRetireAfterMs`: a worker that saved no learned route for a week is gone. */
const ROUTES_RETIRE_AFTER_MS = 7 * 24 * 3_600_000;
/** How often `upkeepRoutes` does its work (it lists and reads every learned-route object). */
const ROUTES_UPKEEP_MS = 3_600_000;

export interface PipelineOptions {
  readonly store?: ObjectStore;
  readonly logger?: Logger;
  readonly onLanded?: (batch: LandedBatch) => void;
  /** This worker's name in the stored learned routes (default: the host name). */
  readonly routesWorker?: string;
  /** How often learned routes are stored and the other workers' taken in (default 60 s; 0: never). */
  readonly routesSyncMs?: number;
  /**
   * Learned routes of a worker that has not saved for this long are folded into the project's
   * retired snapshot and their object deleted (default 7 days; see `upkeepLearned`).
   */
  readonly routesRetireAfterMs?: number;
  /** Maps object keys before they land (a replay's own prefix); default: the live keys. */
  readonly keyOf?: (key: string) => string;
  /** Written into every row (a replay's run id); default 0, live ingestion. */
  readonly generation?: number;
  /** The processors' clock; a replay freezes it so that batches are cut by rows and bytes only. */
  readonly now?: () => number;
}

/**
 * Everything the shard processors of one process share: the deduplication window (a resent record
 * may arrive on any shard), the record stages (decode → enrich → encode, on worker threads by
 * default: `stages.threads`) and the object store.
 */
export class Pipeline implements ShardRecordProcessorFactory {
  readonly counters = newCounters();
  /** Whether this process's landing works, shared by its processors. */
  readonly landing = new LandingStatus();
  /** What the processors' batches (open or landing) hold, against `batch.maxWorkerBytes`. */
  readonly memory: WorkerMemory;
  private readonly released = new Map<string, number>();
  private readonly activity = new Map<string, ShardActivity>();
  private routesTimer: NodeJS.Timeout | undefined;
  /** Closes the geo-IP files the stages read, after them. */
  private closeGeo: (() => void) | undefined;
  /** The names this process's route books store their learning under. */
  private routeWorkers: readonly string[] = [];
  private routesRetireAfterMs = ROUTES_RETIRE_AFTER_MS;
  private lastRoutesUpkeep = Number.NEGATIVE_INFINITY;
  /** The timer's sync and upkeep under way: one at a time, and `close` waits for it. */
  private routesRound: Promise<void> | undefined;

  private constructor(
    readonly config: PipelineConfig,
    readonly store: ObjectStore,
    readonly stages: RecordStages,
    /**
     * Each project's learned and declared routes, stored under `_shardline/routes/` in the lake,
     * when the stages run in this thread; stage threads keep their own (see `syncRoutes`).
     */
    readonly routes: RouteBook,
    private readonly shared: Omit<
      ConstructorParameters<typeof ShardProcessor>[1],
      | 'counters'
      | 'stages'
      | 'store'
      | 'batch'
      | 'released'
      | 'dedupeWindowMs'
      | 'deadLetterBytes'
      | 'landing'
      | 'activity'
      | 'archiveLevel'
      | 'memory'
    >,
  ) {
    this.memory = new WorkerMemory(config.batch.maxWorkerBytes);
  }

  static async create(config: PipelineConfig, options: PipelineOptions = {}): Promise<Pipeline> {
    const store = options.store ?? createObjectStore(config.lake);
    const logger = options.logger ?? silentLogger;
    const worker = options.routesWorker ?? hostname();
    // A worker that starts (or restarts) templates with what the group learned so far.
    // Null when they cannot be read: the books then store nothing until a sync loads them.
    const routeUpdates = await loadRouteUpdates(store).catch((err: unknown): null => {
      logger.error('routes: could not load learned routes; learning from scratch until a sync loads them', {
        err,
      });
      return null;
    });
    const routes = new RouteBook({ worker });
    // One seed for every stage's key hashes: copies of a request read by different shards meet.
    const keySeed = randomKeySeed();
    const settings = { decode: config.decode, timeWindow: config.validate.time, keySeed };
    const threads = stageThreads(config.stages.threads);
    let stages: RecordStages;
    // Geo-IP files are opened once here, and closed after the stages (`close`), or at once if the
    // stages do not start.
    let closeGeo: (() => void) | undefined;
    try {
      if (threads === 0) {
        if (routeUpdates === null) routes.awaitLoad();
        else applyRouteUpdates(routes, routeUpdates);
        const geo = await GeoIp.forConfig(config.enrich.geoIp);
        closeGeo = () => geo.close();
        const enrich = openEnricher(config, routes, geo);
        stages = new InProcessStages(new RecordStage(enrich, await ParquetEncoder.create(), settings));
      } else {
        // Each thread reads the geo-IP files through its own few MB of page cache (a replacement
        // thread too).
        const geoFiles = await GeoIp.filesForConfig(config.enrich.geoIp);
        if (geoFiles !== undefined) closeGeo = () => GeoIp.closeFiles(geoFiles);
        stages = await ThreadStages.start(
          threads,
          (slot) => ({
            settings,
            enrich: { enrich: config.enrich, redaction: config.redaction },
            ...(geoFiles === undefined ? {} : { geoIp: geoFiles }),
            // Each thread learns routes on its own, like another worker, and stores them as one.
            routesWorker: `${worker}.t${slot}`,
            routeUpdates,
            heapLimitMb: stageHeapLimitMb(config.batch.maxWorkerBytes),
          }),
          logger,
        );
      }
    } catch (error) {
      closeGeo?.();
      throw error;
    }
    if (threads > 0) {
      logger.info('stage threads started', {
        threads,
        heapLimitMb: stageHeapLimitMb(config.batch.maxWorkerBytes),
      });
    }
    const pipeline = new Pipeline(config, store, stages, routes, {
      dedupe: new Deduplicator({
        windowMs: config.dedupe.windowMs,
        maxKeys: config.dedupe.maxKeys,
        seed: keySeed,
      }),
      logger,
      onLanded: options.onLanded,
      ...(options.keyOf === undefined ? {} : { keyOf: options.keyOf }),
      ...(options.generation === undefined ? {} : { generation: options.generation }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    pipeline.closeGeo = closeGeo;
    pipeline.routeWorkers =
      threads === 0 ? [worker] : Array.from({ length: threads }, (_, slot) => `${worker}.t${slot}`);
    pipeline.routesRetireAfterMs = options.routesRetireAfterMs ?? ROUTES_RETIRE_AFTER_MS;
    const syncMs = options.routesSyncMs ?? 60_000;
    if (syncMs > 0) {
      // Not at shutdown: the upkeep reads every stored learned route, and a stop should be quick.
      // One round at a time: an upkeep that re-saves an own snapshot must not race a sync storing it.
      pipeline.routesTimer = setInterval(() => {
        if (pipeline.routesRound !== undefined) return;
        pipeline.routesRound = pipeline
          .syncRoutes()
          .then(() => pipeline.upkeepRoutes())
          .finally(() => {
            pipeline.routesRound = undefined;
          });
      }, syncMs);
      pipeline.routesTimer.unref();
    }
    return pipeline;
  }

  /** Takes in the other workers' learned routes and stores this worker's; failures wait for the next sync. */
  async syncRoutes(): Promise<void> {
    const stages = this.stages;
    const sync =
      stages instanceof ThreadStages
        ? async () => {
            // Loaded first: a thread that could not load (at start, or restarted) adds its stored
            // learning in before it stores (messages reach a thread in order).
            stages.applyRoutes(await loadRouteUpdates(this.store));
            await storeLearned(this.store, await stages.takeRoutes());
          }
        : () => syncRouteBook(this.routes, this.store);
    await sync().catch((err: unknown) =>
      this.shared.logger.error('routes: sync failed; retried at the next one', { err }),
    );
  }

  /** At most once an hour: keeps this worker's learned routes fresh and retires quiet workers' (`upkeepLearned`). */
  async upkeepRoutes(nowMs = Date.now()): Promise<void> {
    if (nowMs - this.lastRoutesUpkeep < ROUTES_UPKEEP_MS) return;
    this.lastRoutesUpkeep = nowMs;
    try {
      const done = await upkeepLearned(this.store, {
        nowMs,
        retireAfterMs: this.routesRetireAfterMs,
        ownWorkers: this.routeWorkers,
      });
      if (done.retired > 0) {
        this.shared.logger.info('routes: folded the learning of quiet workers into the retired snapshot', {
          ...done,
        });
      }
    } catch (err) {
      this.shared.logger.warn('routes: upkeep of learned routes failed; retried in an hour', { err });
    }
  }

  create(shardId: string, start?: ProcessorStart): ShardProcessor {
    const now = Date.now();
    let activity = this.activity.get(shardId);
    if (activity === undefined) {
      activity = { waitingSince: undefined, lastLandedAt: undefined, inactiveSince: undefined };
      this.activity.set(shardId, activity);
    } else if (activity.inactiveSince !== undefined && now - activity.inactiveSince > RESTART_GRACE_MS) {
      // The shard comes back after a pause (lease re-acquired): what waited before is not ours to report.
      activity.waitingSince = undefined;
    }
    // A processor restarted at once after a failure keeps `waitingSince`: a shard that keeps failing stays stuck.
    activity.inactiveSince = undefined;
    return new ShardProcessor(
      shardId,
      {
        ...this.shared,
        batch: this.config.batch,
        memory: this.memory,
        counters: this.counters,
        stages: this.stages,
        store: this.store,
        released: this.released,
        dedupeWindowMs: this.config.dedupe.windowMs,
        deadLetterBytes: this.config.deadLetters.originalBytes,
        archiveLevel: this.config.archive.enabled ? this.config.archive.level : undefined,
        landing: this.landing,
        activity,
      },
      start,
    );
  }

  /** Shards this process is processing now, and since when their oldest unlanded record waits. */
  shardActivity(): ReadonlyMap<string, Readonly<ShardActivity>> {
    return new Map([...this.activity].filter(([, a]) => a.inactiveSince === undefined));
  }

  async close(): Promise<void> {
    if (this.routesTimer !== undefined) clearInterval(this.routesTimer);
    await this.routesRound;
    await this.syncRoutes();
    try {
      await this.stages.close();
    } finally {
      this.closeGeo?.();
      this.closeGeo = undefined;
    }
  }
}
