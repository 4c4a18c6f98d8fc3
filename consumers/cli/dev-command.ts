import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import type { DemoProducerResult } from '../../fluent-bit/demo/demo-producer.ts';
import { type DemoProducerThread, startDemoProducerThread } from '../../fluent-bit/demo/producer-thread.ts';
import { stageThreads } from '../../pipeline/config.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { createLogger } from '../../pipeline/observability/logger.ts';
import { createKinesisClient } from '../kinesis-client.ts';
import { startLocalDynamo } from '../local-stack/dynamo-server.ts';
import { ensureStream } from '../local-stack/ensure-stream.ts';
import { startLocalKinesisThread } from '../local-stack/kinesis-server.ts';
import { parseConsumeConfig } from './consume-config.ts';
import { ProgressReporter } from './progress-reporter.ts';
import { runPipeline } from './run-pipeline.ts';
import { lockStateDir } from './state-dir-lock.ts';
import { StatusLine } from './status-line.ts';
import { liveStateOf } from './ui/live-state.ts';
import { startUiServer, type UiServer } from './ui/ui-server.ts';
import { VERSION } from './version.ts';
import { openWarehouseClient } from './warehouse-client.ts';

/**
 * Stage threads of the dev stack: one fewer than `stages.threads: "auto"` would start, since the
 * local Kinesis runs in this process too, in a thread of its own that takes most of a core while
 * a producer sends (and the demo producer has a thread of its own too). On 2 cores that is 1 stage
 * thread: `--demo-events 20000` p95 arrival → queryable 2,940-3,356 ms against 3,426-4,111 ms with
 * 2 (5 interleaved pairs; 1 was lower in each), as one isolate fewer compiles and collects the
 * pipeline's code while the burst runs. Measured again once the demo producer had its own thread
 * (2026-12-01, 4 interleaved pairs on a slow hour): p95 3,379-4,264 ms with 1, 3,407-4,600 with 2,
 * and 10-16 Parquet files against 9-11. A single core keeps 0 (every stage on the event loop).
 */
export const devStageThreads = (cores = availableParallelism()): number =>
  Math.max(0, stageThreads('auto', cores) - 1);

export interface DevOptions {
  dir: string;
  stream: string;
  shards: number;
  httpPort: number;
  httpsPort: number;
  /** /metrics and /health, as `shardline consume` serves them; 0 = any free port. */
  metricsPort: number;
  /** The local DynamoDB (leases); fixed, so a `leases` config pointed at it survives restarts. */
  dynamodbPort: number;
  /** The dashboard page; 0 = any free port, undefined = none. */
  uiPort?: number;
  demo: boolean;
  demoEvents?: number;
  demoRate: number;
  /**
   * How the demo producer packs lines into Kinesis records. `sidecar` (default): as the sidecar
   * configs in `fluent-bit/` send them, `simple_aggregation` and `compression gzip` (many lines a
   * record, gzipped). `lines`: one uncompressed line a record, Fluent Bit's output defaults.
   */
  demoFormat?: DemoFormat;
  exit: boolean;
  fresh: boolean;
  timeoutSeconds: number;
}

const REGION = 'us-east-1';

export type DemoFormat = 'sidecar' | 'lines';

/** The demo producer's record options for a `--demo-format`. */
const demoRecords = (format: DemoFormat = 'sidecar') =>
  format === 'sidecar' ? { simpleAggregation: true, compression: 'gzip' as const } : {};

/** State parts `--fresh` deletes. */
const STATE_PARTS = [
  'kinesis',
  'dynamodb',
  'lake',
  'warehouse.duckdb',
  'warehouse.duckdb.wal',
  'warehouse.snapshot.duckdb',
  'checkpoints.json',
];

/**
 * `shardline dev`: the whole pipeline on this machine. Kinesis is kinesalite in this process (HTTP for
 * the SDK, HTTPS for Fluent Bit), the lake is a directory, the warehouse is DuckDB. State lives
 * under `--dir` and survives restarts, so stopping (even with SIGKILL) and starting again resumes
 * from the checkpoints without loss. `--exit` makes a self-contained run whose figures add up: it
 * starts from empty state in a scratch directory of its own (kept, and printed), never in `--dir`,
 * unless `--fresh` says to empty `--dir` for it.
 */
export const runDev = async (opts: DevOptions): Promise<number> => {
  if (opts.exit && opts.demo && opts.demoEvents === undefined) {
    throw new ConfigError(
      '--exit',
      'continuous demo traffic never ends, so the run would never exit: add --demo-events <n> (e.g. --demo-events 20000), or --no-demo to wait only for what is already in the stream',
    );
  }
  const started = Date.now();
  const err = process.stderr;
  const status = new StatusLine(err);
  const scratch = opts.exit && !opts.fresh;
  const dir = scratch ? mkdtempSync(join(tmpdir(), 'shardline-exit-')) : resolve(opts.dir);
  const logger = createLogger(
    { component: 'dev' },
    (process.env.SHARDLINE_LOG_LEVEL as never) ?? 'warn',
    (line) => status.write(line),
  );
  mkdirSync(dir, { recursive: true });
  const unlock = lockStateDir(dir);
  /** What has started, closed in reverse order on the way out, failed or not. */
  const closers: (() => unknown)[] = [unlock];
  const closeAll = async (): Promise<void> => {
    for (let close = closers.pop(); close !== undefined; close = closers.pop()) {
      try {
        await close();
      } catch (error) {
        logger.warn('could not close part of the dev stack', { err: error });
      }
    }
  };
  try {
    const hadState = STATE_PARTS.some((part) => existsSync(join(dir, part)));
    if (opts.fresh) {
      for (const part of STATE_PARTS) rmSync(join(dir, part), { recursive: true, force: true });
    }

    const kinesis = await startLocalKinesisThread({
      dir,
      httpPort: opts.httpPort,
      httpsPort: opts.httpsPort,
    });
    closers.push(() => kinesis.close());
    const client = createKinesisClient({ region: REGION, endpoint: kinesis.httpEndpoint });
    closers.push(() => client.destroy());
    // Started now, to load while the rest starts; closed before the local Kinesis it sends to.
    const producerStarting: Promise<DemoProducerThread> | undefined = opts.demo
      ? startDemoProducerThread({ region: REGION, endpoint: kinesis.httpEndpoint })
      : undefined;
    producerStarting?.catch(() => undefined);
    closers.push(async () => (await producerStarting?.catch(() => undefined))?.close());
    const { created } = await ensureStream(client, opts.stream, opts.shards);
    const described = await client.send(new DescribeStreamSummaryCommand({ StreamName: opts.stream }));
    const shards = described.StreamDescriptionSummary?.OpenShardCount ?? opts.shards;
    // Leases and checkpoints in a local DynamoDB, as in production: more workers may join with
    // `shardline consume` and checkpoints.endpoint set to it.
    const dynamo = await startLocalDynamo({ dir, port: opts.dynamodbPort });
    closers.push(() => dynamo.close());

    const config = parseConsumeConfig(
      {
        stream: {
          name: opts.stream,
          region: REGION,
          endpoint: kinesis.httpEndpoint,
          idleTimeBetweenReadsMs: 250,
          // The local Kinesis serves GetRecords at ~0.1-0.3 ms a record under load (the AWS service
          // returns 10,000 in a few ms): smaller reads reach the pipeline sooner. Measured on
          // `--demo-events 20000`: p95 arrival → queryable ~3.6 s at 1,000, ~4.0 s at 10,000.
          maxRecordsPerCall: 1_000,
        },
        checkpoints: {
          type: 'dynamodb',
          endpoint: dynamo.endpoint,
          workerId: 'dev',
          failoverTimeMs: 10_000,
          renewalIntervalMs: 2_000,
        },
        lake: { type: 'local', dir: join(dir, 'lake') },
        // A burst's first files land 0.5 s after their oldest record arrived rather than 1 s (the
        // early-file budget is unchanged: 12 a shard, then one per maxAgeMs). The slowest batches of
        // a burst are its first, one per shard: `--demo-events 20000` p95 arrival → queryable
        // ~3.18 → ~3.0 s (4 interleaved pairs), 20-23 → 21-25 files.
        batch: { freshAgeMs: 500 },
        warehouse: { type: 'duckdb', file: join(dir, 'warehouse.duckdb'), loadIntervalMs: 500 },
        metrics: { port: opts.metricsPort },
        stages: { threads: devStageThreads() },
      },
      'dev settings',
    );

    const state = scratch
      ? `${dir}   scratch directory for --exit (kept; ${opts.dir} untouched)`
      : `${dir}${opts.fresh ? `   emptied by --fresh${hadState ? '' : ' (was empty)'}` : hadState ? '   resumed from existing state' : '   new'}`;
    const shardNote = created
      ? `${shards} shards`
      : shards === opts.shards
        ? `${shards} shards (existing stream)`
        : `${shards} shards (existing stream; --shards ${opts.shards} applies only when it is created: add --fresh)`;
    err.write(
      [
        `Shardline dev stack ${VERSION}`,
        `  State                      ${state}`,
        `  Kinesis (SDK, HTTP)        ${kinesis.httpEndpoint}   stream "${opts.stream}", ${shardNote}`,
        `  Kinesis (Fluent Bit, TLS)  ${kinesis.httpsEndpoint}   tls.ca_file ${kinesis.caFile}`,
        `  Leases (DynamoDB)          ${dynamo.endpoint}   table "shardline-leases-${opts.stream}"`,
        `  Parquet lake               ${join(dir, 'lake')}`,
        `  Warehouse (DuckDB)         ${join(dir, 'warehouse.duckdb')}   try: npx shardline query${scratch ? ` --db ${join(dir, 'warehouse.duckdb')}` : ''} "select count(*) from requests"`,
        '',
      ].join('\n'),
    );

    const running = await runPipeline(config, { logger, client });
    closers.push(() => running.stop());
    const ui = await startDevUi(running, join(dir, 'warehouse.duckdb'), opts.uiPort);
    closers.push(() => ui?.close());
    err.write(`  Metrics and health         ${running.metricsUrl}/metrics   ${running.metricsUrl}/health\n`);
    if (ui) err.write(`  Dashboard                  ${ui.url}/\n`);
    const threads = running.pipeline.stages.threads;
    err.write(
      `  Stage threads              ${threads === 0 ? '0 (decode → encode on the main thread)' : `${threads} (decode → encode; one fewer than stages.threads "auto": the local Kinesis has a thread of its own)`}\n`,
    );
    err.write(
      `  Log level                  ${process.env.SHARDLINE_LOG_LEVEL ?? 'warn'} (SHARDLINE_LOG_LEVEL=debug|info|warn|error)\n\n`,
    );
    const progress = new ProgressReporter(running, status);
    progress.start();
    closers.push(() => progress.stop());

    let stopping = false;
    const demoResults: DemoProducerResult[] = [];
    const totals = () =>
      demoResults.reduce(
        (t, r) => ({
          sent: t.sent + r.sent,
          malformed: t.malformed + r.malformed,
          duplicates: t.duplicates + r.duplicates,
        }),
        { sent: 0, malformed: 0, duplicates: 0 },
      );

    const produce = async (): Promise<void> => {
      if (producerStarting === undefined) return;
      const producer = await producerStarting;
      const runSeed = started % 1_000_000_007;
      if (opts.demoEvents !== undefined) {
        // Ctrl-C stops a long burst within a chunk (stopProducing; --exit waits for all of it).
        demoResults.push(
          await producer.run({
            streamName: opts.stream,
            events: opts.demoEvents,
            seed: runSeed,
            ...demoRecords(opts.demoFormat),
          }),
        );
        return;
      }
      // Continuous trickle: one second of events at a time, until stopped.
      for (let second = 0; !stopping; second++) {
        const tick = Date.now();
        demoResults.push(
          await producer.run({
            streamName: opts.stream,
            events: opts.demoRate,
            seed: runSeed + second,
            ...demoRecords(opts.demoFormat),
          }),
        );
        await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - tick))));
      }
    };

    /** No more demo traffic: the run under way stops after its current chunk. */
    const stopProducing = (): void => {
      stopping = true;
      void producerStarting?.then(
        (producer) => producer.stop(),
        () => undefined,
      );
    };
    const shutdown = async () => {
      stopProducing();
      await closeAll();
    };

    const producing = produce();

    if (!opts.exit) {
      // Until Ctrl-C, or until the demo producer fails (the stream deleted, the local Kinesis gone):
      // either way the stack stops as on Ctrl-C, landing what it holds, and a failure is reported.
      const failure = await new Promise<{ error: unknown } | undefined>((resolveStop) => {
        process.once('SIGINT', () => resolveStop(undefined));
        process.once('SIGTERM', () => resolveStop(undefined));
        producing.catch((error: unknown) => resolveStop({ error }));
      });
      status.write(
        failure === undefined
          ? 'stopping: landing buffered batches and storing checkpoints…\n'
          : 'the demo producer failed; stopping: landing buffered batches and storing checkpoints…\n',
      );
      stopProducing();
      await producing.catch(() => undefined);
      await shutdown();
      progress.printSummary(totals().sent, (Date.now() - started) / 1000);
      if (failure !== undefined) throw failure.error;
      return 0;
    }

    await producing;
    const { counters } = running.pipeline;
    const sent = totals().sent;
    const deadline = started + opts.timeoutSeconds * 1000;
    // Every sent event must be accounted for, and every landed row loaded, before the run may end.
    while (Date.now() < deadline) {
      const accounted = counters.landed + counters.deduplicated + counters.deadLettered;
      if (accounted >= sent) {
        await running.loadNow();
        if (running.warehouseProgress.files >= running.warehouseProgress.landedFiles) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const warehouseRows = await running.warehouse!.rowCount();
    await shutdown();
    const summary = {
      sent,
      /** Kinesis records read: `sent` with one line a record, far fewer with the sidecars' packing. */
      kinesisRecords: counters.records,
      landed: counters.landed,
      deduplicated: counters.deduplicated,
      deadLettered: counters.deadLettered,
      /** Parquet files of `requests` landed by this run (the progress line's "parquet files"). */
      parquetFiles: running.warehouseProgress.landedFiles,
      /** Dead-letter files landed (one per batch that had dead letters). */
      deadLetterFiles: counters.files - running.warehouseProgress.landedFiles,
      /** parquetFiles + deadLetterFiles, kept for scripts that read it. */
      files: counters.files,
      warehouseRows,
      dir,
      warehouseDuplicateRows: running.warehouseProgress.duplicateRows,
      malformedSent: totals().malformed,
      duplicatesSent: totals().duplicates,
      /** How the demo's lines were packed into Kinesis records (`--demo-format`). */
      demoFormat: opts.demoFormat ?? 'sidecar',
      seconds: Math.round((Date.now() - started) / 100) / 10,
      arrivalToQueryableMs: running.freshness.stats(),
    };
    const balanced =
      summary.landed + summary.deduplicated + summary.deadLettered === sent &&
      warehouseRows === summary.landed;
    progress.printSummary(sent, summary.seconds);
    if (!balanced)
      err.write('error: the figures do not add up (see the JSON below); nothing should be lost\n');
    if (scratch) err.write(`state kept in ${dir} (remove it when done)\n`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return balanced ? 0 : 1;
  } catch (error) {
    // A failure once something started (a port in use, the producer, a load) must not leave the
    // local Kinesis thread running, which would keep the process alive, nor the state dir locked.
    await closeAll();
    throw error;
  }
};

/** The dashboard page over this process's pipeline and its warehouse (read through its snapshot). */
const startDevUi = async (
  running: Awaited<ReturnType<typeof runPipeline>>,
  db: string,
  port: number | undefined,
): Promise<UiServer | undefined> => {
  if (port === undefined) return undefined;
  const client = await openWarehouseClient({ warehouse: 'embedded', db });
  return startUiServer({ port, host: '127.0.0.1', client, live: liveStateOf(running) });
};
