import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { runPipeline } from '../../consumers/cli/run-pipeline.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import type { LocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { runDemoProducer } from '../../fluent-bit/demo/demo-producer.ts';
import { decodeDeadLetters } from '../../pipeline/dead-letter/dead-letter-sink.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { RequestLogV1 } from '../../schemas/request-log.ts';
import type { S3Server } from '../support/s3-server.ts';
import { startS3Server } from '../support/s3-server.ts';

/**
 * kinesis_to_s3: demo traffic through real kinesalite, landed in a real S3 API (s3rver), loaded into
 * DuckDB from S3. Every event is accounted for: a row, a dead letter with its original bytes, or a
 * dropped duplicate.
 */
describe('Kinesis → pipeline → S3 lake → warehouse', () => {
  let dir: string;
  let kinesis: LocalKinesis;
  let s3: S3Server;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-s3-'));
    [kinesis, s3] = await Promise.all([
      startLocalKinesis({ httpPort: 0, httpsPort: 0 }),
      startS3Server('lake'),
    ]);
  });

  afterAll(async () => {
    await Promise.all([kinesis?.close(), s3?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('lands every event once in S3 and the warehouse loads it from there', async () => {
    // Prepare
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    await ensureStream(client, 'api-logs', 3);
    const sent = await runDemoProducer({ client, streamName: 'api-logs', events: 3_000, seed: 11 });
    const config = parseConsumeConfig({
      stream: { name: 'api-logs', endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 200 },
      checkpoints: { path: join(dir, 'checkpoints.json') },
      lake: { type: 's3', bucket: 'lake', prefix: 'shardline/', endpoint: s3.endpoint },
      warehouse: { type: 'duckdb', file: join(dir, 'warehouse.duckdb') },
      batch: { maxAgeMs: 500 },
    });

    // Act
    const running = await runPipeline(config, { logger: silentLogger, client });
    const c = running.pipeline.counters;
    for (let i = 0; i < 300 && c.landed + c.deduplicated + c.deadLettered < sent.sent; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await running.stop();
    client.destroy();

    // Assess
    expect({ landed: c.landed, deduplicated: c.deduplicated, deadLettered: c.deadLettered }).toEqual({
      landed: sent.uniqueValid,
      deduplicated: sent.duplicates,
      deadLettered: sent.malformed,
    });
    const keys = await running.pipeline.store.list('');
    expect(keys.some((k) => k.startsWith('requests/dt='))).toBe(true);
    const letters = (
      await Promise.all(
        keys
          .filter((k) => k.startsWith('dead_letters/'))
          .map(async (k) => decodeDeadLetters(await running.pipeline.store.get(k))),
      )
    ).flat();
    expect(letters).toHaveLength(sent.malformed);
    for (const letter of letters) {
      // The original bytes are kept, and they really are invalid.
      const text = new TextDecoder().decode(letter.data);
      let valid = false;
      try {
        valid = RequestLogV1.safeParse(JSON.parse(text)).success;
      } catch {}
      expect(valid, text).toBe(false);
      expect(letter.shardId).toMatch(/^shardId-/);
      expect(letter.sequenceNumber).toMatch(/^\d+$/);
    }
    const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'), { readOnly: true });
    const [row] = await warehouse.query(
      `select count(*)::INT as n, count(distinct request_id)::INT as ids,
              count(*) filter (where headers like '%Bearer ey%' or query like '%token=ey%')::INT as leaked
         from requests`,
    );
    await warehouse.close();
    expect(row).toEqual({ n: sent.uniqueValid, ids: sent.uniqueValid, leaked: 0 });
  });
});
