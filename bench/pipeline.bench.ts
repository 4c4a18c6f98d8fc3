/**
 * bench:pipeline — pushes generated request logs, formatted exactly as Fluent Bit sends them,
 * through decode → validate → deduplicate → enrich → batch → encode (Parquet, zstd) in one
 * process, and prints one JSON line of figures last.
 *
 *   npm run bench:pipeline -- [--records 1000000] [--shards 4] [--batch 50000] [--geoip true|false]
 *                             [--archive on|off|both] [--max-worker-mb 256] [--threads auto|N]
 *
 * `--threads`: stage threads (decode → enrich → encode), `auto` as a worker runs by default; 0 runs
 * every stage on the main thread, the figure to compare them with.
 *
 * The npm script runs it with the worker's V8 flags (`consumers/cli/node-flags.ts`, printed as
 * `nodeFlags`) and libuv's thread pool sized as the `shardline` command sizes it
 * (`consumers/cli/thread-pool.cjs`, printed as `threadPoolSize`). Not with the image's
 * `MALLOC_ARENA_MAX=2` (printed as `mallocArenaMax` when given): the figure is a plain `npm`
 * worker's.
 *
 * `cpuMicrosPerRecord` says where the CPU went (Linux): every thread (`total`), the event loop
 * (`main`), the stage threads (`stages`) and the rest (`other`: DuckDB's Parquet writing, the raw
 * archive's gzip, V8's GC and compiler threads).
 *
 * The lines are generated first into one NDJSON file (not timed; `generatorSecondsExcluded`), by
 * a child process: a worker never holds the generator's objects, and generating 1,000,000 lines in
 * this process left its heap at ~180 MB (~140 MB live) when the timed run began.
 * The timed run reads that file in 1 MiB blocks and spreads its lines over `--shards` shard
 * processors, each fed pages of 1,000 records by its own loop, as the consumer feeds them; the
 * reader stays at most two pages ahead of the slowest shard, and the open batches of all shards
 * are bounded by `batch.maxWorkerBytes` (`--max-worker-mb`), so `peakRssMb` is what a worker
 * holds, not the input. Landing is to memory, so this measures the CPU cost of the pipeline (and
 * of reading its input, as DuckDB's figure includes reading the file), not a disk or network.
 *
 * `--archive both` runs the same records twice, raw archive off then on (the default), and prints
 * each run's line then a comparison: archive bytes per record and per row, and the throughput cost.
 *
 * Then, unless `--baseline false`, DuckDB alone turns the same lines (regenerated into an NDJSON
 * file, not timed) into sorted zstd Parquet with `read_json` on 2 threads, no enrichment; the last
 * line repeats the last run's figures with `baselineRecordsPerSecond` and `ratioToBaseline`, the
 * figure to quote on a shared machine.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { WORKER_NODE_FLAGS } from '../consumers/cli/node-flags.ts';
import { generateRequestLogs, toFluentBitLine } from '../fluent-bit/demo/traffic-generator.ts';
import { ARCHIVE_TABLE } from '../pipeline/archive/raw-archive.ts';
import { BatchConfig, PipelineConfig } from '../pipeline/config.ts';
import { PARQUET_ROW_GROUP_SIZE } from '../pipeline/encode/parquet-encoder.ts';
import { MemoryStore } from '../pipeline/land/memory-store.ts';
import { osThreadId, threadCpuSeconds } from '../pipeline/observability/thread-cpu.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { ThreadStages } from '../pipeline/stages/thread-stages.ts';
import type { SourceRecord } from '../pipeline/types.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '50000' },
    chunk: { type: 'string', default: '10000' },
    shards: { type: 'string', default: '4' },
    geoip: { type: 'string', default: 'true' },
    archive: { type: 'string', default: 'on' },
    'max-worker-mb': { type: 'string' },
    threads: { type: 'string', default: 'auto' },
    baseline: { type: 'string', default: 'true' },
    /** Internal: only write the lines file (the child process of `writeLinesInChild`). */
    'write-lines': { type: 'string' },
  },
});
const total = Number(values.records);
const chunk = Number(values.chunk);
/**
 * Bytes read from the lines file at a time: about one GetRecords page of these records (1,000 of
 * ~850 bytes). Records are views of their block, so a block stays in memory until its last record
 * is prepared: 4 MiB blocks held 13-29 MB more at peak (300k records, 2 pairs) than a consumer's
 * pages would.
 */
const BLOCK_BYTES = 1024 * 1024;
/** Request time of the first generated log. */
const START = Date.parse('2026-11-22T10:00:00Z');

/** Counts the raw archive's objects apart from the Parquet and dead letters. */
class ArchiveCountingStore extends MemoryStore {
  archivePuts = 0;
  archiveBytes = 0;
  constructor() {
    // Keeps no bodies: the benchmark measures the pipeline, not a disk or its own memory.
    super({ keepBodies: false });
  }
  override async put(key: string, body: Uint8Array): Promise<void> {
    if (key.startsWith(`${ARCHIVE_TABLE}/`)) {
      this.archivePuts += 1;
      this.archiveBytes += body.byteLength;
    }
    await super.put(key, body);
  }
}

/**
 * Writes the generated lines, exactly as Fluent Bit sends them, to one NDJSON file: both the
 * pipeline runs and DuckDB's baseline read the same file. Runs in the child process started by
 * `writeLinesInChild`.
 */
const writeLines = (path: string) => {
  const fd = openSync(path, 'w');
  const encoder = new TextEncoder();
  let batch: string[] = [];
  for (const log of generateRequestLogs(total, { seed: 42, startTime: START, ratePerSecond: 2_000 })) {
    batch.push(toFluentBitLine(log, String(log.timestamp)));
    if (batch.length === chunk) {
      writeSync(fd, encoder.encode(batch.join('')));
      batch = [];
    }
  }
  writeSync(fd, encoder.encode(batch.join('')));
  closeSync(fd);
};

/** This script again, in a child process, with `--write-lines`: the lines file, and how long it took. */
const writeLinesInChild = (dir: string) => {
  const path = join(dir, 'lines.ndjson');
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    [
      // Run bundled (run-bundled.mjs), this script's sources need tsx in the child, which is not timed.
      ...process.execArgv,
      ...(process.execArgv.includes('tsx') ? [] : ['--import', 'tsx']),
      fileURLToPath(import.meta.url),
      '--write-lines',
      path,
      '--records',
      String(total),
      '--chunk',
      String(chunk),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return { path, generatorSeconds: Math.round((performance.now() - t0) / 10) / 100 };
};

/** CPU seconds so far: the whole process, its event loop, its stage threads (Linux; else undefined). */
const cpuSplit = (pipeline: Pipeline) => {
  const { user, system } = process.cpuUsage();
  const mainTid = osThreadId();
  const tids = pipeline.stages instanceof ThreadStages ? pipeline.stages.osThreadIds() : [];
  const stage = tids.map(threadCpuSeconds);
  return {
    total: (user + system) / 1e6,
    main: mainTid === undefined ? undefined : threadCpuSeconds(mainTid),
    stages: stage.some((s) => s === undefined) ? undefined : stage.reduce<number>((a, b) => a + (b ?? 0), 0),
  };
};

/**
 * Where the CPU of the timed run went, in µs per record: `total` (every thread), the event loop
 * (`main`: reading the input, deduplication, batching, landing), the stage threads (`stages`:
 * decode → enrich → Parquet appends) and the rest (`other`: DuckDB's Parquet writing and the raw
 * archive's gzip on libuv's pool, V8's GC and compiler threads). With 2 cores busy, 100,000
 * records/s needs `total` ≤ 20.
 */
const cpuPerRecord = (a: ReturnType<typeof cpuSplit>, b: ReturnType<typeof cpuSplit>, records: number) => {
  const per = (x: number) => Math.round(((x * 1e6) / Math.max(1, records)) * 10) / 10;
  const total = b.total - a.total;
  const main = a.main === undefined || b.main === undefined ? undefined : b.main - a.main;
  const stages = a.stages === undefined || b.stages === undefined ? undefined : b.stages - a.stages;
  return {
    total: per(total),
    ...(main === undefined ? {} : { main: per(main) }),
    ...(stages === undefined ? {} : { stages: per(stages) }),
    ...(main === undefined || stages === undefined ? {} : { other: per(total - main - stages) }),
  };
};

if (values['write-lines'] !== undefined) {
  writeLines(values['write-lines']);
  process.exit(0);
}
const dir = await mkdtemp(join(tmpdir(), 'shardline-bench-pipeline-'));
const lines = writeLinesInChild(dir);

const run = async (archive: boolean) => {
  let peakRss = 0;
  const sampleRss = () => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  const rssTimer = setInterval(sampleRss, 50);

  // Keeps no bodies: the benchmark measures the pipeline, not a disk or its own memory.
  const store = new ArchiveCountingStore();
  const config = PipelineConfig.parse({
    batch: BatchConfig.parse({
      maxRows: Number(values.batch),
      maxAgeMs: 15 * 60_000,
      // Cut by rows and memory only: early (fresh) files are a freshness feature, not a cost here.
      freshBurst: 0,
      ...(values['max-worker-mb'] === undefined
        ? {}
        : { maxWorkerBytes: Number(values['max-worker-mb']) * 1024 * 1024 }),
    }),
    enrich: { geoIp: values.geoip !== 'false' },
    archive: { enabled: archive },
    stages: { threads: values.threads === 'auto' ? 'auto' : Number(values.threads) },
  });
  const flushes: Record<string, number> = {};
  const pipeline = await Pipeline.create(config, {
    store,
    onLanded: (b) => {
      flushes[b.reason] = (flushes[b.reason] ?? 0) + 1;
    },
  });
  const shardIds = Array.from(
    { length: Number(values.shards) },
    (_, i) => `shardId-${String(i).padStart(12, '0')}`,
  );
  const processors = shardIds.map((id) => pipeline.create(id));

  // Records are read from the lines file as a consumer reads pages from Kinesis: each shard has
  // its own loop taking pages of `PAGE` records, and the reader stays at most two pages ahead of
  // the slowest shard (back-pressure), so no shard waits for another and memory stays bounded.
  const PAGE = 1_000;
  const queues: SourceRecord[][] = shardIds.map(() => []);
  let readerDone = false;
  let wakeShards: (() => void)[] = [];
  let wakeReader: (() => void) | undefined;
  const shardLoop = async (shard: number) => {
    const queue = queues[shard]!;
    for (;;) {
      if (queue.length === 0) {
        if (readerDone) return;
        await new Promise<void>((r) => wakeShards.push(r));
        continue;
      }
      const page = queue.splice(0, PAGE);
      wakeReader?.();
      await processors[shard]!.processRecords(page);
    }
  };
  let seq = 10n ** 20n;
  let sourceBytes = 0;
  let index = 0;
  const cpu0 = cpuSplit(pipeline);
  const p0 = performance.now();
  const loops = shardIds.map((_, shard) => shardLoop(shard));
  const file = await open(lines.path, 'r');
  try {
    let carry = new Uint8Array(0);
    for (;;) {
      while (queues.some((q) => q.length >= 2 * PAGE)) {
        await new Promise<void>((r) => (wakeReader = r));
        wakeReader = undefined;
      }
      // The line cut at the last block's end starts this one: one allocation and no copy of the block.
      const block = new Uint8Array(carry.byteLength + BLOCK_BYTES);
      block.set(carry);
      const { bytesRead } = await file.read(block, carry.byteLength, BLOCK_BYTES, null);
      if (bytesRead === 0) break;
      const data = block.subarray(0, carry.byteLength + bytesRead);
      let at = 0;
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, at)) {
        const shard = index % shardIds.length;
        seq += 1n;
        queues[shard]!.push({
          shardId: shardIds[shard]!,
          sequenceNumber: seq.toString(),
          partitionKey: 'bench',
          // Arrivals follow the generated request times (2,000/s from START), as Kinesis sees them:
          // a request time more than a day after its arrival is dead-lettered by validation.
          arrivedAt: new Date(START + 1_000 + index),
          data: data.subarray(at, nl + 1),
        });
        sourceBytes += nl + 1 - at;
        index += 1;
        at = nl + 1;
      }
      carry = data.subarray(at);
      for (const wake of wakeShards) wake();
      wakeShards = [];
      sampleRss();
    }
  } finally {
    await file.close();
  }
  readerDone = true;
  for (const wake of wakeShards) wake();
  await Promise.all(loops);
  let pipelineMs = performance.now() - p0;
  const f0 = performance.now();
  await Promise.all(processors.map((p) => p.shutdownRequested()));
  pipelineMs += performance.now() - f0;
  const cpu1 = cpuSplit(pipeline);
  clearInterval(rssTimer);
  sampleRss();
  await pipeline.close();

  const c = pipeline.counters;
  const seconds = pipelineMs / 1000;
  const figures = {
    bench: 'pipeline',
    records: c.records,
    rows: c.landed,
    deduplicated: c.deduplicated,
    deadLettered: c.deadLettered,
    seconds: Math.round(seconds * 100) / 100,
    recordsPerSecond: Math.round(c.records / seconds),
    inputMbPerSecond: Math.round((sourceBytes / 1e6 / seconds) * 10) / 10,
    parquetFiles: store.puts.length - store.archivePuts,
    parquetMb: Math.round(((store.bytes - store.archiveBytes) / 1e6) * 10) / 10,
    bytesPerRow: Math.round((store.bytes - store.archiveBytes) / Math.max(1, c.landed)),
    archive,
    archiveMb: Math.round((store.archiveBytes / 1e6) * 10) / 10,
    archiveBytesPerRecord: Math.round((store.archiveBytes / Math.max(1, c.records)) * 10) / 10,
    generatorSecondsExcluded: lines.generatorSeconds,
    peakRssMb: Math.round(peakRss / 1e6),
    maxWorkerMb: Math.round(config.batch.maxWorkerBytes / 2 ** 20),
    batchesHeldPeakMb: Math.round(pipeline.memory.peak / 2 ** 20),
    flushes,
    geoIp: values.geoip !== 'false',
    shards: shardIds.length,
    stageThreads: pipeline.stages.threads,
    cpuMicrosPerRecord: cpuPerRecord(cpu0, cpu1, c.records),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    // The worker's V8 flags (consumers/cli/node-flags.ts) when the npm script gave them, libuv's
    // pool (consumers/cli/thread-pool.cjs), and glibc's arenas when set (the image sets 2).
    nodeFlags: process.execArgv.filter((a) => WORKER_NODE_FLAGS.includes(a)),
    threadPoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    mallocArenaMax: process.env.MALLOC_ARENA_MAX === undefined ? null : Number(process.env.MALLOC_ARENA_MAX),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  return figures;
};

const modes = values.archive === 'both' ? [false, true] : [values.archive !== 'off'];
const runs = [];
for (const archive of modes) runs.push(await run(archive));
if (runs.length === 2) {
  const [off, on] = runs as [Awaited<ReturnType<typeof run>>, Awaited<ReturnType<typeof run>>];
  process.stdout.write(
    `${JSON.stringify({
      bench: 'pipeline-archive',
      recordsPerSecondOff: off.recordsPerSecond,
      recordsPerSecondOn: on.recordsPerSecond,
      throughputCostPercent: Math.round((1 - on.recordsPerSecond / off.recordsPerSecond) * 1000) / 10,
      archiveBytesPerRecord: on.archiveBytesPerRecord,
      sourceBytesPerRecord: Math.round((on.inputMbPerSecond * 1e6 * on.seconds) / on.records),
      archiveToParquet: Math.round((on.archiveMb / Math.max(0.1, on.parquetMb)) * 100) / 100,
      peakRssMbOff: off.peakRssMb,
      peakRssMbOn: on.peakRssMb,
    })}\n`,
  );
}

/**
 * DuckDB alone on the same lines: `read_json` → ORDER BY (project_id, ts) → zstd Parquet in the
 * encoder's row groups, 2 threads, no validation or enrichment. Only the COPY is timed.
 */
const baseline = async () => {
  try {
    const out = join(dir, 'baseline.parquet');
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const connection = await instance.connect();
    const t0 = performance.now();
    await connection.run(
      `COPY (SELECT * FROM read_json('${lines.path}', format = 'newline_delimited') ORDER BY project_id, "timestamp") ` +
        `TO '${out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_SIZE})`,
    );
    const seconds = (performance.now() - t0) / 1000;
    const rows = Number(
      (await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${out}')`)).getRows()[0]?.[0],
    );
    connection.closeSync();
    instance.closeSync();
    if (rows !== total) throw new Error(`baseline wrote ${rows} rows for ${total} lines`);
    return {
      baselineRecordsPerSecond: Math.round(total / seconds),
      baselineSeconds: Math.round(seconds * 100) / 100,
      baselineParquetMb: Math.round(((await stat(out)).size / 1e6) * 10) / 10,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

if (values.baseline === 'false') await rm(dir, { recursive: true, force: true });
else {
  const last = runs[runs.length - 1] as Awaited<ReturnType<typeof run>>;
  const b = await baseline();
  process.stdout.write(
    `${JSON.stringify({
      ...last,
      ...b,
      ratioToBaseline: Math.round((last.recordsPerSecond / b.baselineRecordsPerSecond) * 1000) / 1000,
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    })}\n`,
  );
}
