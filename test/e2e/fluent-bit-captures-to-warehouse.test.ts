import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { runPipeline } from '../../consumers/cli/run-pipeline.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

/**
 * fluent_bit_to_warehouse: the HTTP requests a real Fluent Bit 5.1 sent (bodies and headers as
 * captured, SigV4 and all) are replayed against the local HTTPS Kinesis endpoint; the warehouse must
 * then hold exactly the decoded records, duplicates removed.
 */

const CAPTURES = resolve(import.meta.dirname, '../fixtures/fluent-bit/captures');

interface CapturedRequest {
  method: string;
  path: string;
  raw_headers: string[];
  body: string;
}

const readJsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

/** What the warehouse must contain, computed from the decoded capture without any Shardline code. */
const expectedRows = (run: string) => {
  const records = readJsonl<{ data: string }>(join(CAPTURES, 'decoded', `${run}.records.jsonl`));
  const rows = new Map<string, Record<string, unknown>>();
  let logs = 0;
  for (const r of records) {
    for (const line of r.data.split('\n')) {
      if (line.trim() === '') continue;
      logs += 1;
      const text = line.startsWith('{\\"') ? JSON.parse(`"${line}"`) : line;
      const log = JSON.parse(text) as Record<string, unknown>;
      const headers = (log.headers ?? {}) as Record<string, string>;
      const id = (log.request_id as string | undefined) ?? headers['x-request-id'];
      const key = `${log.project_id}\u0000${id}`;
      if (!rows.has(key)) rows.set(key, log);
    }
  }
  return { kinesisRecords: records.length, logs, rows };
};

const replay = async (run: string, httpsEndpoint: string, caFile: string) => {
  const ca = readFileSync(caFile);
  const url = new URL(httpsEndpoint);
  for (const req of readJsonl<CapturedRequest>(join(CAPTURES, `${run}.jsonl`))) {
    const headers: Record<string, string> = {};
    for (let i = 0; i < req.raw_headers.length; i += 2)
      headers[req.raw_headers[i]!] = req.raw_headers[i + 1]!;
    headers.Host = url.host;
    const status = await new Promise<number>((ok, fail) => {
      const r = request(
        { host: url.hostname, port: url.port, path: req.path, method: req.method, headers, ca },
        (res) => {
          res.resume();
          res.on('end', () => ok(res.statusCode ?? 0));
        },
      );
      r.on('error', fail);
      r.end(req.body);
    });
    expect(status).toBe(200);
  }
};

const RUNS = [
  'kinesis_tail',
  'kinesis_tail_stream',
  'kinesis_dummy',
  'kinesis_gzip',
  'kinesis_simple_agg',
  'kinesis_partial_failure',
  'kinesis_tail_noparser_logkey',
  'kinesis_tail_1200',
];

describe('Fluent Bit captures → local HTTPS Kinesis → pipeline → warehouse', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  it.each(RUNS)('%s: warehouse rows equal the decoded records, duplicates removed', async (run) => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), `shardline-${run}-`));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const kinesis = await startLocalKinesis({ dir, httpPort: 0, httpsPort: 0 });
    cleanup.push(() => kinesis.close());
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    cleanup.push(async () => client.destroy());
    await ensureStream(client, 'api-logs', 2);
    const expected = expectedRows(run);

    // Act
    await replay(run, kinesis.httpsEndpoint, kinesis.caFile);
    const config = parseConsumeConfig({
      stream: { name: 'api-logs', endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 200 },
      checkpoints: { path: join(dir, 'checkpoints.json') },
      lake: { type: 'local', dir: join(dir, 'lake') },
      warehouse: { type: 'duckdb', file: join(dir, 'warehouse.duckdb') },
      enrich: { geoIp: false },
    });
    const running = await runPipeline(config, { logger: silentLogger, client });
    const deadline = Date.now() + 30_000;
    while (running.pipeline.counters.records < expected.kinesisRecords && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await running.stop();
    const warehouse = await DuckDbWarehouse.open(
      config.warehouse.type === 'duckdb' ? config.warehouse.file : '',
    );
    cleanup.push(() => warehouse.close());
    const rows = await warehouse.query(
      'select project_id, request_id, method, path, status, latency_ms, client_ip from requests',
    );

    // Assess
    const c = running.pipeline.counters;
    expect(c.records).toBe(expected.kinesisRecords);
    expect(c.deadLettered).toBe(0);
    expect(c.landed + c.deduplicated).toBe(expected.logs);
    expect(rows).toHaveLength(expected.rows.size);
    for (const row of rows) {
      const log = expected.rows.get(`${row.project_id}\u0000${row.request_id}`);
      expect(log, `row ${row.request_id} was never sent`).toBeDefined();
      expect(row.method).toBe(log!.method);
      expect(row.status).toBe(log!.status);
      expect(row.latency_ms).toBe(log!.latency_ms);
      expect(row.client_ip).toBe(log!.ip ?? null);
      expect(String(log!.path).startsWith(String(row.path))).toBe(true);
    }
  });
});
