import type { PipelineConfig } from '../config.ts';
import { LAKE, replayKeyOf } from '../land/lake-layout.ts';
import type { ObjectStore } from '../land/object-store.ts';
import type { Logger } from '../observability/logger.ts';
import { Pipeline } from '../pipeline.ts';
import type { PipelineCounters, ShardRecordProcessor, SourceRecord } from '../types.ts';
import { ReplayStore } from './replay-store.ts';

export interface ReplayRunOptions {
  /** Today's pipeline config: decode bounds, validation, enrichment and redaction as they are now. */
  readonly config: PipelineConfig;
  readonly lake: ObjectStore;
  /** Run id written into every row; newer generations replace older rows (schemas/README.md). */
  readonly generation: number;
  /** Count what the replay would land, write nothing. */
  readonly dryRun?: boolean;
  readonly logger?: Logger;
}

/** What a replay did: the pipeline's counters and what it landed. */
export interface ReplaySummary extends PipelineCounters {
  readonly generation: number;
  readonly dryRun: boolean;
  /** Objects landed (or, in a dry run, that would have been) and their bytes. */
  readonly objects: number;
  readonly objectBytes: number;
}

/**
 * One replay: records (from the stream or the raw archive) through today's decode → validate →
 * dedupe → enrich → encode, landed under `replays/<table>/g=<generation>/…` with the batch keys
 * the live path would use. Its deduplication window and checkpoints are its own, in memory.
 *
 * Batches are cut by rows and bytes only (the processors' clock is frozen), so the same input
 * gives the same batches and keys: re-running a replay that stopped halfway with the same
 * `--generation` replaces its objects instead of adding to them. Learned routes are read from the
 * lake, never written: the live workers own them.
 */
export class ReplayRun {
  readonly store: ReplayStore;
  private readonly processors = new Map<string, ShardRecordProcessor>();

  private constructor(
    private readonly options: ReplayRunOptions,
    private readonly pipeline: Pipeline,
    store: ReplayStore,
  ) {
    this.store = store;
  }

  static async start(options: ReplayRunOptions): Promise<ReplayRun> {
    const store = new ReplayStore(options.lake, { dryRun: options.dryRun });
    const config: PipelineConfig = {
      ...options.config,
      // The records are archived already (or still in the stream); a replay lands rows only.
      archive: { ...options.config.archive, enabled: false },
      batch: { ...options.config.batch, maxAgeMs: 15 * 60_000 },
    };
    const pipeline = await Pipeline.create(config, {
      store,
      logger: options.logger,
      keyOf: replayKeyOf(options.generation),
      generation: options.generation,
      now: () => 0,
      routesSyncMs: 0,
      routesWorker: `replay-${options.generation}`,
    });
    return new ReplayRun(options, pipeline, store);
  }

  get counters(): Readonly<PipelineCounters> {
    return this.pipeline.counters;
  }

  /** One shard's records, in order; resolves once any batch they closed has landed. */
  async feed(shardId: string, records: readonly SourceRecord[]): Promise<void> {
    let processor = this.processors.get(shardId);
    if (processor === undefined) {
      processor = this.pipeline.create(shardId);
      this.processors.set(shardId, processor);
    }
    await processor.processRecords(records);
  }

  /**
   * Gives the run up (its source failed): closes the pipeline (stage threads, encoder, geo-IP
   * files) without landing what the shards still hold, and records nothing. What landed stays:
   * running the replay again under the same generation replaces it with the same rows.
   */
  async abort(): Promise<void> {
    await this.pipeline.close();
  }

  /** Lands what every shard still holds, then records the run in `_shardline/replays/`. */
  async finish(describe: Record<string, unknown>): Promise<ReplaySummary> {
    for (const processor of this.processors.values()) await processor.shutdownRequested();
    await this.pipeline.close();
    const summary: ReplaySummary = {
      ...this.pipeline.counters,
      generation: this.options.generation,
      dryRun: this.options.dryRun === true,
      objects: this.store.puts,
      objectBytes: this.store.bytes,
    };
    if (this.options.dryRun !== true) {
      const manifest = { ...describe, ...summary, finishedAt: new Date().toISOString() };
      await this.options.lake.put(
        `${LAKE.replayManifests}g=${this.options.generation}.json`,
        Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      );
    }
    return summary;
  }
}
