import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { KinesisClient, type PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { readStreamRecords } from '../../consumers/testing/stream-records.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { RequestLogV1 } from '../../schemas/request-log.ts';
import { type DemoProgress, runDemoProducer } from './demo-producer.ts';

/** What the pipeline would make of one line: its request id when valid, else `undefined`. */
const validId = (line: string): string | undefined => {
  try {
    const parsed = RequestLogV1.safeParse(JSON.parse(line));
    if (!parsed.success) return undefined;
    return parsed.data.request_id ?? String(parsed.data.headers?.['x-request-id']);
  } catch {
    return undefined;
  }
};

const linesOf = (data: Uint8Array, gzip: boolean): string[] => {
  const text = (gzip ? gunzipSync(data) : Buffer.from(data)).toString('utf8');
  return text.split('\n').slice(0, -1);
};

/** Checks the ground truth against what actually arrived. */
const tallyLines = (lines: readonly string[]) => {
  const ids = lines.map(validId);
  const valid = ids.filter((id) => id !== undefined);
  return {
    sent: lines.length,
    valid: valid.length,
    malformed: lines.length - valid.length,
    uniqueValid: new Set(valid).size,
  };
};

/** Records every PutRecords call and stores everything (no network). */
const recordingClient = () => {
  const calls: PutRecordsRequestEntry[][] = [];
  const client = {
    send: async (command: PutRecordsCommand) => {
      const records = command.input.Records ?? [];
      calls.push(records);
      return {
        FailedRecordCount: 0,
        Records: records.map((_, i) => ({ SequenceNumber: String(i), ShardId: 's-0' })),
      };
    },
  };
  return { client: client as unknown as KinesisClient, calls };
};

describe('runDemoProducer (recorded calls)', () => {
  it('keeps every call within 500 records and 5 MiB, aggregated records within 1 MiB', async () => {
    // Prepare
    const kinesis = recordingClient();

    // Act
    const result = await runDemoProducer({
      client: kinesis.client,
      streamName: 's',
      events: 25_000,
      seed: 2,
      simpleAggregation: true,
    });

    // Assess
    const sizes = kinesis.calls.map((c) =>
      c.reduce((n, r) => n + (r.Data?.length ?? 0) + (r.PartitionKey?.length ?? 0), 0),
    );
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(Math.max(...kinesis.calls.map((c) => c.length))).toBeLessThanOrEqual(500);
    expect(Math.max(...kinesis.calls.flat().map((r) => r.Data?.length ?? 0))).toBeLessThan(1_048_576);
    const lines = kinesis.calls.flat().flatMap((r) => linesOf(r.Data as Uint8Array, false));
    expect(result.records).toBeLessThan(lines.length / 10);
    expect(tallyLines(lines)).toEqual({
      sent: result.sent,
      valid: result.valid,
      malformed: result.malformed,
      uniqueValid: result.uniqueValid,
    });
  });

  it('gzips each record as Fluent Bit does and reports progress up to the total', async () => {
    // Prepare
    const kinesis = recordingClient();
    const progress: DemoProgress[] = [];

    // Act
    const result = await runDemoProducer({
      client: kinesis.client,
      streamName: 's',
      events: 1_200,
      seed: 3,
      compression: 'gzip',
      onProgress: (p) => progress.push(p),
    });

    // Assess
    const records = kinesis.calls.flat();
    expect(records.every((r) => r.Data?.[0] === 0x1f && r.Data?.[1] === 0x8b && r.Data?.[9] === 0xff)).toBe(
      true,
    );
    const lines = records.flatMap((r) => linesOf(r.Data as Uint8Array, true));
    expect(tallyLines(lines).uniqueValid).toBe(result.uniqueValid);
    expect(progress.at(-1)).toMatchObject({ sent: 1_200, total: 1_200, records: 1_200 });
    expect(progress.map((p) => p.sent)).toEqual([...progress.map((p) => p.sent)].sort((a, b) => a - b));
  });

  it('resends records that PutRecords reports as failed, so the ground truth still holds', async () => {
    // Prepare: a throttled stream that fails every fifth record of a call the first time it sees it.
    const stored: PutRecordsRequestEntry[] = [];
    const failedOnce = new Set<unknown>();
    const client = {
      send: async (command: PutRecordsCommand) => {
        const results = (command.input.Records ?? []).map((r, i) => {
          if (i % 5 === 0 && !failedOnce.has(r.Data)) {
            failedOnce.add(r.Data);
            return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' };
          }
          stored.push(r);
          return { SequenceNumber: String(stored.length), ShardId: 's-0' };
        });
        return { FailedRecordCount: results.filter((r) => 'ErrorCode' in r).length, Records: results };
      },
    } as unknown as KinesisClient;

    // Act
    const result = await runDemoProducer({ client, streamName: 's', events: 2_000, seed: 5 });

    // Assess
    const lines = stored.flatMap((r) => linesOf(r.Data as Uint8Array, false));
    expect(result.retriedRecords).toBeGreaterThan(300);
    expect(lines).toHaveLength(2_000);
    expect(tallyLines(lines)).toEqual({
      sent: result.sent,
      valid: result.valid,
      malformed: result.malformed,
      uniqueValid: result.uniqueValid,
    });
  });

  it('rejects options that cannot work, naming the field', async () => {
    // Prepare
    const kinesis = recordingClient();

    // Act
    const bad = runDemoProducer({ client: kinesis.client, streamName: 's', events: 10, malformedRatio: 2 });

    // Assess
    await expect(bad).rejects.toBeInstanceOf(ConfigError);
    await expect(bad).rejects.toMatchObject({ field: 'malformedRatio' });
    expect(kinesis.calls).toHaveLength(0);
  });
});

describe('runDemoProducer → kinesalite → GetRecords', () => {
  const require = createRequire(import.meta.url);
  const kinesalite = require('kinesalite') as (options: {
    createStreamMs: number;
    shardLimit: number;
  }) => import('node:http').Server;
  // A stream per case, 2 shards each: more than kinesalite's default account limit of 10.
  const server = kinesalite({ createStreamMs: 0, shardLimit: 100 });
  let client: KinesisClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new KinesisClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
      requestHandler: new NodeHttpHandler(),
    });
  });

  afterAll(async () => {
    client?.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const createStream = (name: string) => ensureStream(client, name, 2);

  const readAll = (name: string) => readStreamRecords(client, name);

  it('sends 2,000 events that read back exactly as the ground truth says', async () => {
    // Prepare
    await createStream('demo-2000');

    // Act
    const result = await runDemoProducer({
      client,
      streamName: 'demo-2000',
      events: 2_000,
      seed: 11,
      malformedRatio: 0.005,
      duplicateRatio: 0.03,
      collectRequestIds: true,
    });
    const byShard = await readAll('demo-2000');

    // Assess
    const records = [...byShard.values()].flat();
    const lines = records.flatMap((r) => linesOf(r.data, false));
    expect(result).toMatchObject({
      sent: 2_000,
      records: 2_000,
      malformed: 10,
      duplicates: 60,
      uniqueValid: 1_930,
    });
    expect(records).toHaveLength(2_000);
    expect(tallyLines(lines)).toEqual({ sent: 2_000, valid: 1_990, malformed: 10, uniqueValid: 1_930 });
    expect(new Set(lines.map(validId).filter((id) => id !== undefined))).toEqual(result.requestIds);
    for (const shard of byShard.values()) expect(shard.length).toBeGreaterThan(500);
    expect(records.every((r) => /^[A-Za-z0-9]{10}\d{5,8}$/.test(r.key))).toBe(true);
    const valid = lines.filter((l) => validId(l) !== undefined);
    expect(valid.every((l) => /,"fb_time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"}$/.test(l))).toBe(true);
  });

  it('stops between chunks when asked, and reports exactly what it sent', async () => {
    // Asked once per attempt (a chunk, or the part of one resent before it): stopping at each of
    // the first 10 asks meets both kinds, and the tally must hold either way.
    for (let stopAt = 1; stopAt <= 10; stopAt++) {
      // Prepare
      const stream = `demo-stop-${stopAt}`;
      await createStream(stream);
      let asked = 0;

      // Act
      const result = await runDemoProducer({
        client,
        streamName: stream,
        events: 20_000,
        seed: 12,
        malformedRatio: 0.005,
        duplicateRatio: 0.05,
        stop: () => ++asked >= stopAt,
      });
      const lines = [...(await readAll(stream)).values()].flat().flatMap((r) => linesOf(r.data, false));

      // Assess
      expect(result.sent).toBeGreaterThan(0);
      expect(result.sent).toBeLessThan(20_000);
      expect(lines).toHaveLength(result.sent);
      expect(tallyLines(lines)).toEqual({
        sent: result.sent,
        valid: result.valid,
        malformed: result.malformed,
        uniqueValid: result.uniqueValid,
      });
    }
  }, 60_000);

  it('aggregates lines into few records with simpleAggregation, every line still accounted for', async () => {
    // Prepare
    await createStream('demo-agg');

    // Act
    const result = await runDemoProducer({
      client,
      streamName: 'demo-agg',
      events: 3_000,
      seed: 12,
      simpleAggregation: true,
    });
    const records = [...(await readAll('demo-agg')).values()].flat();

    // Assess
    const lines = records.flatMap((r) => linesOf(r.data, false));
    expect(records.length).toBe(result.records);
    expect(records.length).toBeLessThan(50);
    expect(tallyLines(lines)).toEqual({
      sent: 3_000,
      valid: result.valid,
      malformed: result.malformed,
      uniqueValid: result.uniqueValid,
    });
    expect(result.uniqueValid + result.duplicates + result.malformed).toBe(3_000);
  });
});
