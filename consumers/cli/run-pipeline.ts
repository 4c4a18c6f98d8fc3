import { hostname } from 'node:os';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Logger } from '../../pipeline/observability/logger.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { FileCheckpointStore } from '../file-checkpoint-store.ts';
import { createKinesisClient } from '../kinesis-client.ts';
import { createDynamoClient } from '../leases/dynamo-client.ts';
import { LeaseTable } from '../leases/lease-table.ts';
import { StreamConsumer } from '../stream-consumer.ts';
import type { ConsumeConfig } from './consume-config.ts';
import { FreshnessTracker } from './freshness-tracker.ts';
import { type MetricsServer, startMetricsServer } from './metrics-server.ts';
import { WarehouseListing } from './warehouse-listing.ts';
import { WarehouseSnapshot } from './warehouse-reader.ts';
import { WorkerMetrics } from './worker-metrics.ts';

/** Rows and files the warehouse loaded since this process started. */

export interface WarehouseProgress {
  /** Parquet files of `requests` landed by this process. */
  landedFiles: number;
  /** Of those, or of earlier ones, files the warehouse loaded. */
  files: number;
  rows: number;
  /** Rows the warehouse did not insert because the same (project_id, request_id) was already loaded. */
  duplicateRows: number;
  lastError?: string;
}

export interface RunningPipeline {
  readonly pipeline: Pipeline;
  readonly consumer: StreamConsumer;
  readonly warehouse: DuckDbWarehouse | undefined;
  readonly warehouseProgress: WarehouseProgress;
  /** Kinesis arrival → queryable in the embedded warehouse. */
  readonly freshness: FreshnessTracker;
  /** This worker's id in the lease table (also a label of its metrics). */
  readonly workerId: string;
  readonly metrics: WorkerMetrics;
  /** Where /metrics and /health are served, when `metrics.port` is set. */
  readonly metricsUrl: string | undefined;
  /**
   * Loads whatever landed since the last load, now. Readers see it once the snapshot is next
   * refreshed (at once, or within max(loadInterval, 10 × the last copy)).
   */
  loadNow(): Promise<void>;
  /** Graceful: lands buffered batches, stores checkpoints, loads the last files, closes everything. */
  stop(): Promise<void>;
}

/**
 * Composition root shared by `shardline consume` and `shardline dev`: a stream consumer feeding the
 * pipeline, and the embedded warehouse loading what lands, every `loadIntervalMs`, each file once.
 */
export const runPipeline = async (
  config: ConsumeConfig,
  options: {
    logger: Logger;
    client?: KinesisClient;
    onLanded?: (batch: LandedBatch) => void;
    /** Overrides `checkpoints.workerId` (`shardline consume --worker-id`). */
    workerId?: string;
  },
): Promise<RunningPipeline> => {
  const checkpoints = config.checkpoints;
  const workerId =
    options.workerId ??
    (checkpoints.type === 'dynamodb' ? checkpoints.workerId : undefined) ??
    `${hostname()}-${process.pid}`;
  const logger =
    checkpoints.type === 'dynamodb' ? options.logger.child({ worker: workerId }) : options.logger;
  let metrics: WorkerMetrics | undefined;
  const client =
    options.client ?? createKinesisClient({ region: config.stream.region, endpoint: config.stream.endpoint });
  const progress: WarehouseProgress = { landedFiles: 0, files: 0, rows: 0, duplicateRows: 0 };
  const freshness = new FreshnessTracker();
  // Which part of the lake each warehouse load lists. Files waiting to load: those the loader
  // listed and could not load at its last load (stuck files stay counted), plus what this
  // process landed since that listing.
  const listing = new WarehouseListing();
  const pipeline = await Pipeline.create(config, {
    logger,
    onLanded: (batch) => {
      if (batch.rows > 0) {
        progress.landedFiles += 1;
        if (config.warehouse.type === 'duckdb') listing.landed(batch.keys);
        // What landed is loaded now, not at the next tick of the interval (freshness).
        loadSoon();
      }
      // Measured only where a load will make it queryable; with SingleStore loading the lake
      // (warehouse `none`) nothing here would ever take it off the pending list.
      if (config.warehouse.type === 'duckdb') freshness.landed(batch);
      metrics?.onLanded(batch);
      options.onLanded?.(batch);
    },
  });
  const warehouse =
    config.warehouse.type === 'duckdb'
      ? // While files keep landing, the next load comes within a load interval: the file stays
        // open for it (other processes get it once the stream is quiet, or within 5 s).
        await DuckDbWarehouse.open(config.warehouse.file, {
          lingerMs: 2 * config.warehouse.loadIntervalMs,
          threads: 1,
        })
      : undefined;

  const snapshot =
    config.warehouse.type === 'duckdb' ? new WarehouseSnapshot(config.warehouse.file) : undefined;
  let landedAtLastListing = 0;
  let loading: Promise<void> = Promise.resolve();
  let loadQueued = false;
  const refreshSnapshot = async (force: boolean): Promise<boolean> => {
    if (!snapshot || !warehouse) return true;
    try {
      const done = await snapshot.refresh({ force, hold: (copy) => warehouse.whileHeld(copy) });
      if (done.state === 'copied') {
        metrics?.onSnapshot(done.ms / 1000);
        logger.debug('warehouse snapshot refreshed', { ms: Math.round(done.ms) });
      }
      return done.state !== 'deferred';
    } catch (err) {
      metrics?.onSnapshot(undefined);
      logger.warn('readers keep the previous warehouse snapshot', { err });
      return false;
    }
  };
  const load = (force: boolean): Promise<void> => {
    if (!warehouse) return Promise.resolve();
    // Loads never overlap: each waits for the previous one, as a pipeline's batches do.
    loading = loading.then(async () => {
      loadQueued = false;
      const startedAt = Date.now();
      const landedBefore = progress.landedFiles;
      try {
        // Most loads list only the recent hours (and replays); see WarehouseListing for when a
        // load lists the whole lake.
        const plan = listing.plan(startedAt, force);
        const loaded = await warehouse.loadNewFiles(
          pipeline.store,
          undefined,
          plan.within === undefined ? {} : { within: plan.within },
        );
        listing.listed(
          plan,
          startedAt,
          loaded.failed.map((f) => f.key),
        );
        landedAtLastListing = landedBefore;
        // Between loads nothing writes to the file: the moment to copy the readers' snapshot (at most
        // every max(loadInterval, 10 × the last copy), see warehouse-reader.ts). What a load
        // inserted is queryable for readers once the snapshot holds it, so arrival → queryable is
        // measured only then.
        if (await refreshSnapshot(force))
          metrics?.onQueryable(freshness.loaded(startedAt, new Set(loaded.failed.map((f) => f.key))));
        progress.files += loaded.files;
        progress.rows += loaded.rows;
        progress.duplicateRows += loaded.duplicateRows;
        metrics?.onWarehouseLoad({
          seconds: (Date.now() - startedAt) / 1000,
          files: loaded.files,
          rows: loaded.rows,
          duplicateRows: loaded.duplicateRows,
          failedFiles: loaded.failed.length,
        });
        if (loaded.duplicateRows > 0) {
          logger.info('warehouse skipped rows whose request id it already holds', {
            rows: loaded.duplicateRows,
          });
        }
        if (loaded.files > 0)
          logger.debug('warehouse loaded files', { files: loaded.files, rows: loaded.rows });
        for (const g of loaded.groupFallbacks) {
          logger.warn('warehouse could not load files together; loaded them one by one', g);
        }
        for (const f of loaded.failed) {
          progress.lastError = `${f.key}: ${f.message}`;
          logger.error('warehouse could not load a file; loading the others, will retry it', f);
        }
      } catch (err) {
        progress.lastError = err instanceof Error ? err.message : String(err);
        const locked = err instanceof Error && /locked by another process/.test(err.message);
        metrics?.onWarehouseLoad({
          seconds: (Date.now() - startedAt) / 1000,
          files: 0,
          rows: 0,
          duplicateRows: 0,
          failedFiles: 0,
          error: locked ? 'locked' : 'other',
        });
        logger.error(
          locked
            ? 'warehouse load waited for a process holding the warehouse file (a DuckDB client or query opened on it rather than on its snapshot); will retry'
            : 'warehouse load failed; will retry',
          { err },
        );
      }
    });
    return loading;
  };
  const loadNow = (): Promise<void> => load(false);
  /** One load queued behind the running one, however many batches land meanwhile. */
  const loadSoon = (): void => {
    if (loadQueued) return;
    loadQueued = true;
    void loadNow();
  };
  // Through loadSoon, as landings are: while one load waits (for a lock another process holds,
  // up to 15 s), ticks must not queue one more load each, which stop() would then wait through.
  const timer =
    config.warehouse.type === 'duckdb' ? setInterval(loadSoon, config.warehouse.loadIntervalMs) : undefined;

  const { name: streamName, region, endpoint: _endpoint, ...consumerConfig } = config.stream;
  const dynamo =
    checkpoints.type === 'dynamodb'
      ? createDynamoClient({ region: checkpoints.region ?? region, endpoint: checkpoints.endpoint })
      : undefined;
  const consumer = new StreamConsumer({
    ...consumerConfig,
    client,
    streamName,
    ...(checkpoints.type === 'dynamodb'
      ? {
          leases: {
            table: new LeaseTable({
              client: dynamo!,
              tableName: checkpoints.table ?? `shardline-leases-${streamName}`,
            }),
            workerId,
            failoverTimeMs: checkpoints.failoverTimeMs,
            renewalIntervalMs: checkpoints.renewalIntervalMs,
            maxLeasesToStealAtOneTime: checkpoints.maxLeasesToStealAtOneTime,
          },
        }
      : { checkpointStore: new FileCheckpointStore(checkpoints.path, { streamName }) }),
    processorFactory: pipeline,
    logger,
  });
  const workerMetrics = new WorkerMetrics(
    workerId,
    consumer,
    pipeline,
    {
      failingAfterMs: config.metrics.failingAfterMs,
      stallAfterMs: Math.max(config.metrics.stallAfterMs, config.batch.maxAgeMs * 2),
      maxLeaseScanAgeMs: checkpoints.type === 'dynamodb' ? checkpoints.failoverTimeMs : 0,
    },
    Date.now,
    warehouse
      ? { pendingFiles: () => listing.waiting + (progress.landedFiles - landedAtLastListing) }
      : undefined,
  );
  metrics = workerMetrics;
  let server: MetricsServer | undefined;
  if (config.metrics.port !== undefined) {
    server = await startMetricsServer({
      port: config.metrics.port,
      host: config.metrics.host,
      metrics: () => workerMetrics.render(),
      health: () => workerMetrics.health(),
    });
    logger.info('metrics served', { url: `${server.url}/metrics`, health: `${server.url}/health` });
  }
  await consumer.start();

  return {
    pipeline,
    consumer,
    warehouse,
    warehouseProgress: progress,
    freshness,
    workerId,
    metrics: workerMetrics,
    metricsUrl: server?.url,
    loadNow,
    stop: async () => {
      await consumer.stop();
      await server?.close();
      dynamo?.destroy();
      if (timer) clearInterval(timer);
      // The last load, and a snapshot holding it whatever the interval, for readers after us.
      await load(true);
      await warehouse?.close();
      await pipeline.close();
      workerMetrics.close();
      if (!options.client) client.destroy();
    },
  };
};
