import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { ConfigError } from '../pipeline/errors.ts';
import type { ShardRecordProcessorFactory } from '../pipeline/types.ts';
import type { CheckpointStore } from './checkpoint-store.ts';
import { type ConsumerClock, systemClock } from './consumer-clock.ts';
import { type ConsumerLogger, silentLogger } from './consumer-logger.ts';
import { StreamNotActiveError } from './errors.ts';
import { ExponentialBackoff } from './exponential-backoff.ts';
import { type KinesisApi, listAllShards, toKinesisApi } from './kinesis-api.ts';
import { kinesisErrorKind } from './kinesis-error-kind.ts';
import type { Lease } from './leases/lease.ts';
import { LeaseCheckpointStore } from './leases/lease-checkpoint-store.ts';
import { LeaseCoordinator, type LeaseCoordinatorOptions } from './leases/lease-coordinator.ts';
import { ShardReader, type ShardReaderStats } from './shard-reader.ts';
import {
  type StreamConsumerConfig,
  type StreamConsumerConfigInput,
  streamConsumerConfigSchema,
} from './stream-consumer-config.ts';

export interface StreamConsumerOptions extends StreamConsumerConfigInput {
  /** `createKinesisClient(...)`, a bare `KinesisClient`, or a fake in tests. */
  readonly client: KinesisClient | KinesisApi;
  readonly streamName: string;
  /** Required without `leases`; with them, checkpoints live in the lease table. */
  readonly checkpointStore?: CheckpointStore;
  /**
   * Share the stream with other workers through a DynamoDB lease table: this process reads only
   * the shards it holds a lease on.
   */
  readonly leases?: Pick<
    LeaseCoordinatorOptions,
    'table' | 'workerId' | 'failoverTimeMs' | 'renewalIntervalMs' | 'maxLeasesToStealAtOneTime'
  >;
  readonly processorFactory: ShardRecordProcessorFactory;
  /**
   * How long stop() lets readers land their buffered batches before dropping them (they are read
   * again later). Default: the lease renewal interval with leases, else 10 s.
   */
  readonly shutdownTimeoutMs?: number;
  readonly logger?: ConsumerLogger;
  readonly clock?: ConsumerClock;
  readonly random?: () => number;
}

export interface StreamConsumerStats {
  readonly streamName: string;
  readonly state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';
  /** Every shard this process has a reader for, open or finished, by shard id. */
  readonly shards: readonly ShardReaderStats[];
  readonly records: number;
  readonly bytes: number;
  /** Largest lag over the shards being read. */
  readonly millisBehindLatest: number | undefined;
}

/** ListShards attempts at start before start() gives up; later syncs just try again next time. */
const START_LIST_ATTEMPTS = 5;

/**
 * Reads every shard of one stream in this process: a ShardReader per shard, each feeding its own
 * processor. A child shard (split or merge) waits in its reader until its parents reached
 * SHARD_END, and the shard list is read again every `shardSyncIntervalMs` so that new shards are
 * picked up without a restart. With `leases`, the shards are shared among workers: a lease is
 * created for each listed shard, and a reader runs only while this worker holds the shard's
 * lease (started by the coordinator when it takes one, stopped without landing when it loses one).
 */
export class StreamConsumer {
  readonly streamName: string;
  readonly #options: StreamConsumerOptions;
  readonly #config: StreamConsumerConfig;
  readonly #api: KinesisApi;
  readonly #clock: ConsumerClock;
  readonly #log: ConsumerLogger;
  readonly #readers = new Map<string, ShardReader>();
  readonly #checkpoints: CheckpointStore;
  readonly #leases: LeaseCoordinator | undefined;
  /** Shard ids of the last listing, once there is one: parents outside it are gone (trimmed). */
  #listed: Set<string> | undefined;
  readonly #abort = new AbortController();
  #state: StreamConsumerStats['state'] = 'idle';
  #starting: Promise<void> | undefined;
  #syncing: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: StreamConsumerOptions) {
    const {
      client,
      streamName,
      checkpointStore,
      leases,
      processorFactory,
      logger,
      clock,
      random,
      shutdownTimeoutMs: _shutdownTimeoutMs,
      ...config
    } = options;
    const parsed = streamConsumerConfigSchema.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || '(options)';
      throw new ConfigError(field, `${issue?.message ?? 'invalid'}; fix the StreamConsumer option`);
    }
    if (streamName === '') throw new ConfigError('streamName', 'is empty; give the Kinesis stream to read');
    this.streamName = streamName;
    this.#options = options;
    this.#config = parsed.data;
    this.#api = toKinesisApi(client);
    this.#clock = clock ?? systemClock;
    this.#log = logger ?? silentLogger;
    if (leases) {
      this.#leases = new LeaseCoordinator({
        ...leases,
        clock: this.#clock,
        random,
        logger: this.#log,
        onAcquired: (lease) => this.#onAcquired(lease),
        onLost: (shardId) => void this.#readers.get(shardId)?.loseLease(),
        lagOf: (shardId) => this.#readers.get(shardId)?.stats().millisBehindLatest,
      });
      this.#checkpoints = new LeaseCheckpointStore(leases.table, this.#leases);
    } else if (checkpointStore) {
      this.#checkpoints = checkpointStore;
    } else {
      throw new ConfigError('checkpointStore', 'is missing; give a checkpoint store, or leases');
    }
  }

  /** The lease coordinator, when the stream is shared with other workers. */
  get leases(): LeaseCoordinator | undefined {
    return this.#leases;
  }

  /**
   * Waits until the stream is ACTIVE, starts a reader per shard and resolves; the readers run
   * until stop(). Rejects with StreamNotActiveError when the stream is missing or not readable.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /** Graceful: every reader lands what its processor buffered and stores its checkpoint. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  stats(): StreamConsumerStats {
    const shards = [...this.#readers.values()].map((reader) => reader.stats());
    shards.sort((a, b) => (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0));
    let records = 0;
    let bytes = 0;
    let lag: number | undefined;
    for (const shard of shards) {
      records += shard.records;
      bytes += shard.bytes;
      if (shard.state === 'PROCESSING' && shard.millisBehindLatest !== undefined) {
        lag = Math.max(lag ?? 0, shard.millisBehindLatest);
      }
    }
    return {
      streamName: this.streamName,
      state: this.#state,
      shards,
      records,
      bytes,
      millisBehindLatest: lag,
    };
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    await this.#waitUntilActive();
    if (this.#abort.signal.aborted) return;
    await this.#options.leases?.table.ensureTable();
    const backoff = this.#backoff();
    for (let attempt = 1; ; attempt++) {
      if (this.#abort.signal.aborted) return;
      try {
        await this.#syncShards();
        break;
      } catch (error) {
        if (attempt >= START_LIST_ATTEMPTS || kinesisErrorKind(error) === 'rejected') {
          throw new StreamNotActiveError(
            this.streamName,
            `cannot list the shards of stream "${this.streamName}": ${describe(error)}; check the endpoint and permissions (kinesis:ListShards)`,
            { cause: error },
          );
        }
        await this.#clock.sleep(backoff.next(), this.#abort.signal);
      }
    }
    this.#state = 'running';
    await this.#leases?.start();
    this.#syncing = this.#syncPeriodically();
    this.#log.info('stream consumer started', { stream: this.streamName, shards: this.#readers.size });
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    this.#abort.abort();
    await this.#starting?.catch(() => undefined);
    await this.#syncing;
    // Readers land and checkpoint while the leases are still renewed; then they are given up. A
    // reader that cannot finish in time (its landing keeps failing) drops its unlanded batch:
    // SIGTERM must end the worker within its renewal interval, and those records are read again.
    const readers = [...this.#readers.values()];
    const stopped = Promise.all(readers.map((reader) => reader.stop()));
    const budget = this.#options.shutdownTimeoutMs ?? this.#options.leases?.renewalIntervalMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      stopped.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), budget);
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      for (const reader of readers) reader.abandon();
      await stopped;
    }
    await this.#leases?.stop(true);
    this.#state = 'stopped';
    this.#log.info('stream consumer stopped', { stream: this.streamName });
  }

  async #waitUntilActive(): Promise<void> {
    const timeoutMs = this.#config.streamActiveTimeoutMs;
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      let problem: string;
      let cause: unknown;
      try {
        const { StreamDescriptionSummary } = await this.#api.describeStreamSummary({
          StreamName: this.streamName,
        });
        const status = StreamDescriptionSummary?.StreamStatus;
        // UPDATING streams (resharding, retention change) stay readable.
        if (status === 'ACTIVE' || status === 'UPDATING') return;
        problem = `is ${status ?? 'in an unknown state'}`;
      } catch (error) {
        cause = error;
        const notFound = (error as { name?: string }).name === 'ResourceNotFoundException';
        if (!notFound && kinesisErrorKind(error) === 'rejected') {
          throw new StreamNotActiveError(
            this.streamName,
            `cannot describe stream "${this.streamName}": ${describe(error)}; check the region, endpoint and permissions (kinesis:DescribeStreamSummary)`,
            { cause: error },
          );
        }
        problem = notFound ? 'does not exist' : `cannot be described (${describe(error)})`;
      }
      // stop() during start: not a failure of the stream.
      if (this.#abort.signal.aborted) return;
      const remaining = deadline - this.#clock.now();
      if (remaining <= 0) {
        throw new StreamNotActiveError(
          this.streamName,
          `stream "${this.streamName}" ${problem} after waiting ${timeoutMs} ms; create it (or check its name, region and endpoint) and start again`,
          { cause },
        );
      }
      await this.#clock.sleep(Math.min(1_000, remaining), this.#abort.signal);
    }
  }

  async #syncPeriodically(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      await this.#clock.sleep(this.#config.shardSyncIntervalMs, this.#abort.signal);
      if (this.#abort.signal.aborted) return;
      try {
        await this.#syncShards();
      } catch (error) {
        this.#log.warn('listing shards failed; trying again at the next sync', {
          stream: this.streamName,
          err: error,
        });
      }
    }
  }

  /** Starts a reader for every listed shard that has none; forgets finished readers of shards gone from the list. */
  async #syncShards(): Promise<void> {
    const shards = await this.#listShards();
    const listed = new Set(shards.map((shard) => shard.ShardId ?? ''));
    this.#listed = listed;
    for (const [shardId, reader] of this.#readers) {
      if (!listed.has(shardId) && reader.state === 'SHUTDOWN_COMPLETE') this.#readers.delete(shardId);
    }
    if (this.#leases) {
      await this.#leases.ensureLeases(
        shards.map((shard) => ({
          shardId: shard.ShardId ?? '',
          parentShardIds: [shard.ParentShardId, shard.AdjacentParentShardId].filter(
            (parent): parent is string => parent !== undefined,
          ),
        })),
      );
      return;
    }
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (shardId === undefined || this.#readers.has(shardId) || this.#abort.signal.aborted) continue;
      // A parent trimmed from the stream (past retention) cannot be read any more: don't wait for it.
      const parentShardIds = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
        (parent): parent is string => parent !== undefined && listed.has(parent),
      );
      this.#startReader(shardId, parentShardIds);
    }
  }

  #startReader(shardId: string, parentShardIds: readonly string[]): void {
    const reader = new ShardReader({
      api: this.#api,
      streamName: this.streamName,
      shardId,
      parentShardIds,
      checkpointStore: this.#checkpoints,
      processorFactory: this.#options.processorFactory,
      config: this.#config,
      clock: this.#clock,
      random: this.#options.random,
      logger: this.#log,
    });
    this.#readers.set(shardId, reader);
    void reader.start();
  }

  /** A lease taken: read the shard, once a reader of an earlier hold on it has wound down. */
  #onAcquired(lease: Lease): void {
    const shardId = lease.leaseKey;
    const listed = this.#listed;
    const parents = lease.parentShardIds.filter((parent) => listed === undefined || listed.has(parent));
    const previous = this.#readers.get(shardId);
    const begin = () => {
      if (this.#abort.signal.aborted || !this.#leases?.isHeld(shardId)) return;
      if (this.#readers.get(shardId) !== previous) return;
      this.#startReader(shardId, parents);
    };
    if (previous && previous.state !== 'SHUTDOWN_COMPLETE') {
      void previous.loseLease().then(begin);
    } else {
      begin();
    }
  }

  #listShards(): Promise<Shard[]> {
    return listAllShards(this.#api, this.streamName);
  }

  #backoff(): ExponentialBackoff {
    return new ExponentialBackoff({
      baseMs: this.#config.backoffBaseMs,
      maxMs: this.#config.backoffMaxMs,
      random: this.#options.random,
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
