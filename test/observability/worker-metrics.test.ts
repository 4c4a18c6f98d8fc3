import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Kinesis, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { type RunningPipeline, runPipeline } from '../../consumers/cli/run-pipeline.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';

/**
 * What an SRE gets from `curl <worker>/metrics` (as `shardline consume` and `shardline dev` serve
 * it): valid exposition text, Prometheus naming conventions, histograms of landing, warehouse load
 * and arrival → queryable, dead letters by reason, iterator age per shard, process metrics.
 */

interface Line {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The sample lines of the text format; throws on a line that is not one. */
const parseExposition = (text: string): { lines: Line[]; types: Map<string, string> } => {
  const types = new Map<string, string>();
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(raw);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (raw.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(raw);
    if (!m) throw new Error(`not a sample line: ${raw}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    lines.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { lines, types };
};

const value = (lines: readonly Line[], name: string, labels: Record<string, string> = {}): number =>
  lines
    .filter((l) => l.name === name && Object.entries(labels).every(([k, v]) => l.labels[k] === v))
    .reduce((n, l) => n + l.value, 0);

const logLine = (i: number) =>
  `{"timestamp":"2026-11-29T10:00:00.${String(i % 1000).padStart(3, '0')}Z","request_id":"m-${i}","project_id":"p","method":"GET","path":"/v1/x","status":200,"latency_ms":1}\n`;

describe('worker /metrics', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  let producer: Kinesis;
  let running: RunningPipeline;
  let text: string;

  beforeAll(async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'shardline-metrics-'));
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    producer = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    await ensureStream(producer, 'metrics', 2);
    const records = [
      ...Array.from({ length: 20 }, (_, i) => ({ Data: Buffer.from(logLine(i)), PartitionKey: `k${i}` })),
      { Data: Buffer.from(logLine(3)), PartitionKey: 'dup' },
      { Data: Buffer.from('{"not json\n'), PartitionKey: 'bad' },
    ];
    await producer.send(new PutRecordsCommand({ StreamName: 'metrics', Records: records }));
    const config = parseConsumeConfig({
      stream: { name: 'metrics', endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 250 },
      checkpoints: { type: 'file', path: join(dir, 'checkpoints.json') },
      lake: { type: 'local', dir: join(dir, 'lake') },
      batch: { maxAgeMs: 200 },
      warehouse: { type: 'duckdb', file: join(dir, 'warehouse.duckdb'), loadIntervalMs: 200 },
      metrics: { port: 0 },
    });

    // Act
    running = await runPipeline(config, { logger: silentLogger, workerId: 'w1' });
    const deadline = Date.now() + 30_000;
    while (running.warehouseProgress.rows < 20 && Date.now() < deadline) await sleep(100);
    await running.loadNow();
    // Rows are queryable (and measured) once the readers' snapshot holds them: a load right
    // after the previous copy defers its copy, so wait for the loader's next one.
    for (;;) {
      text = await (await fetch(`${running.metricsUrl}/metrics`)).text();
      const queryable = /^shardline_arrival_to_queryable_seconds_count(?:\{[^}]*\})? (\d+)/m.exec(text);
      if (Number(queryable?.[1] ?? 0) > 0 || Date.now() > deadline) break;
      await sleep(100);
    }
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    producer?.destroy();
    await kinesis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is valid exposition text whose counters end in _total and whose units are base units', () => {
    // Act
    const { lines, types } = parseExposition(text);

    // Assess
    expect(lines.length).toBeGreaterThan(50);
    for (const [name, type] of types) {
      if (type === 'counter') expect(name).toMatch(/_total$/);
      // The one exception is kept for existing dashboards, deprecated for shardline_iterator_age_seconds.
      if (name !== 'shardline_millis_behind_latest')
        expect(name).not.toMatch(/_(millis|milliseconds|ms|kb|mb)(_|$)/i);
    }
    const shardlineLabels = new Set(
      lines.filter((l) => l.name.startsWith('shardline_')).flatMap((l) => Object.keys(l.labels)),
    );
    // Bounded label names only: no request id, project or path as a label.
    expect([...shardlineLabels].sort()).toEqual(
      ['kind', 'le', 'reason', 'result', 'shard', 'stream', 'worker'].filter((l) => shardlineLabels.has(l)),
    );
  });

  it('counts records and bytes in, rows landed, dead letters by reason and duplicates', () => {
    // Act
    const { lines } = parseExposition(text);

    // Assess
    expect(value(lines, 'shardline_records_processed_total')).toBe(22);
    // Logs, the dead-letter rate's denominator (dead letters are counted per log).
    expect(value(lines, 'shardline_logs_processed_total')).toBeGreaterThanOrEqual(21);
    expect(value(lines, 'shardline_bytes_processed_total')).toBeGreaterThan(22 * 100);
    expect(value(lines, 'shardline_rows_landed_total')).toBe(20);
    expect(value(lines, 'shardline_duplicates_dropped_total')).toBe(1);
    expect(value(lines, 'shardline_dead_letters_total', { reason: 'invalid_json' })).toBe(1);
    expect(value(lines, 'shardline_dead_letters_total')).toBe(1);
    expect(lines.filter((l) => l.name === 'shardline_dead_letters_total')).toHaveLength(10);
  });

  it('has histograms of landing, warehouse load and arrival → queryable, cumulative with +Inf = count', () => {
    // Prepare
    const { lines, types } = parseExposition(text);

    for (const name of [
      'shardline_batch_landing_duration_seconds',
      'shardline_arrival_to_landed_seconds',
      'shardline_warehouse_load_duration_seconds',
      'shardline_arrival_to_queryable_seconds',
    ]) {
      // Act
      const buckets = lines.filter((l) => l.name === `${name}_bucket`);
      const counts = buckets.map((b) => b.value);

      // Assess
      expect(types.get(name)).toBe('histogram');
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(buckets.at(-1)?.labels.le).toBe('+Inf');
      expect(buckets.at(-1)?.value).toBe(value(lines, `${name}_count`));
      expect(value(lines, `${name}_count`)).toBeGreaterThan(0);
    }
  });

  it('has iterator age per shard in seconds, error counters by kind, warehouse and process metrics', () => {
    // Act
    const { lines, types } = parseExposition(text);

    // Assess
    expect(
      lines.filter((l) => l.name === 'shardline_iterator_age_seconds').map((l) => l.labels.shard),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/^shardId-/)]));
    expect(types.get('shardline_kinesis_errors_total')).toBe('counter');
    expect(types.get('shardline_landing_errors_total')).toBe('counter');
    expect(
      lines.filter((l) => l.name === 'shardline_warehouse_load_errors_total').map((l) => l.labels.kind),
    ).toEqual(['locked', 'file', 'other']);
    expect(value(lines, 'shardline_warehouse_loads_total', { result: 'ok' })).toBeGreaterThan(0);
    expect(value(lines, 'shardline_warehouse_rows_loaded_total')).toBe(20);
    // Every landed file loaded: none waiting by the loader's own listing.
    expect(value(lines, 'shardline_warehouse_files_pending')).toBe(0);
    expect(types.get('shardline_warehouse_snapshot_seconds')).toBe('gauge');
    expect(value(lines, 'shardline_warehouse_snapshot_seconds')).toBeGreaterThan(0);
    expect(value(lines, 'shardline_warehouse_snapshot_errors_total')).toBe(0);
    expect(value(lines, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value(lines, 'process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(value(lines, 'shardline_healthy')).toBe(1);
  });
});
