import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { readStreamRecords } from '../../consumers/testing/stream-records.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { type DemoProducerThread, producerNice, startDemoProducerThread } from './producer-thread.ts';

describe('startDemoProducerThread → kinesalite', () => {
  const require = createRequire(import.meta.url);
  const kinesalite = require('kinesalite') as (options: {
    createStreamMs: number;
    shardLimit: number;
  }) => import('node:http').Server;
  const server = kinesalite({ createStreamMs: 0, shardLimit: 100 });
  let client: KinesisClient;
  let producer: DemoProducerThread;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new KinesisClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
      requestHandler: new NodeHttpHandler(),
    });
    producer = await startDemoProducerThread({ region: 'us-east-1', endpoint });
  }, 60_000);

  afterAll(async () => {
    await producer?.close();
    client?.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const createStream = (name: string) => ensureStream(client, name, 2);

  /** The sidecars' packing: many lines a record, gzipped. */
  const SIDECAR = { simpleAggregation: true, compression: 'gzip' } as const;

  /** A thread of its own, sending a 200,000-event burst to `name`. */
  const longBurst = async (name: string, seed: number) => {
    const thread = await startDemoProducerThread({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    return { thread, run: thread.run({ streamName: name, events: 200_000, seed, ...SIDECAR }) };
  };

  /** Every line stored in the stream, from both shards (records gunzipped: the sidecar format). */
  const linesIn = async (name: string): Promise<string[]> =>
    [...(await readStreamRecords(client, name)).values()]
      .flat()
      .flatMap((r) => gunzipSync(r.data).toString('utf8').split('\n').slice(0, -1));

  it('sends from its own thread what the stream then holds, and reports it as the in-process producer does', async () => {
    // Prepare
    await createStream('thread-3000');

    // Act
    const result = await producer.run({
      streamName: 'thread-3000',
      events: 3_000,
      seed: 5,
      ...SIDECAR,
      collectRequestIds: true,
    });
    const lines = await linesIn('thread-3000');

    // Assess
    expect(result).toMatchObject({ sent: 3_000, malformed: 9, duplicates: 90 });
    expect(result.records).toBeLessThan(20);
    expect(lines).toHaveLength(3_000);
    expect(result.requestIds?.size).toBe(result.uniqueValid);
  }, 60_000);

  it('reports a bad option as the same ConfigError, naming the field, and keeps serving runs', async () => {
    // Prepare
    await createStream('thread-after-error');

    // Act
    const failed = producer.run({ streamName: 'thread-after-error', events: -1 });
    await expect(failed).rejects.toBeInstanceOf(ConfigError);
    const error = (await failed.catch((e: unknown) => e)) as ConfigError;
    const after = await producer.run({ streamName: 'thread-after-error', events: 100, seed: 3, ...SIDECAR });

    // Assess
    expect(error.field).toBe('events');
    expect(error.message).toMatch(/must be a whole number >= 0, got -1/);
    expect(after.sent).toBe(100);
    expect(await linesIn('thread-after-error')).toHaveLength(100);
  }, 60_000);

  it('stops a long burst after its current chunk when asked, and what it reports is what the stream holds', async () => {
    // Prepare
    await createStream('thread-stop');

    // Act
    const { thread: stopping, run } = await longBurst('thread-stop', 8);
    setTimeout(() => stopping.stop(), 300);
    const result = await run;
    await stopping.close();
    const lines = await linesIn('thread-stop');

    // Assess
    expect(result.sent).toBeGreaterThan(0);
    expect(result.sent).toBeLessThan(200_000);
    expect(lines).toHaveLength(result.sent);
    await expect(stopping.run({ streamName: 'thread-stop', events: 1 })).rejects.toThrow(/exited/);
  }, 120_000);

  it('closes during a long burst without waiting for all of it: the run ends after its chunk', async () => {
    // Prepare
    await createStream('thread-close');

    // Act
    const { thread: closing, run } = await longBurst('thread-close', 9);
    await new Promise((r) => setTimeout(r, 300));
    await closing.close();
    const result = await run;

    // Assess
    expect(result.sent).toBeLessThan(200_000);
    expect(await linesIn('thread-close')).toHaveLength(result.sent);
  }, 120_000);

  /** A thread's nice value from its `stat` (field 19; the name before it may hold spaces). */
  const niceOf = (statPath: string): number => {
    const stat = readFileSync(statPath, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const threadsAt = (nice: number): number =>
    readdirSync('/proc/self/task').filter((tid) => {
      try {
        return niceOf(`/proc/self/task/${tid}/stat`) === nice;
      } catch {
        return false; // a thread that ended meanwhile
      }
    }).length;

  // Nice values are per thread only on Linux (and read from /proc): elsewhere this part is skipped.
  it.skipIf(process.platform !== 'linux')(
    'runs below the pipeline: its thread, and only it, lowers its priority [Linux only: per-thread nice values]',
    async () => {
      // Prepare
      const own = niceOf('/proc/thread-self/stat');
      const target = producerNice(own);
      const before = threadsAt(target);

      // Act
      const thread = await startDemoProducerThread({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      });
      const after = threadsAt(target);
      await thread.close();

      // Assess
      expect(target).toBeGreaterThan(Math.min(own, 18));
      expect(after - before).toBeGreaterThanOrEqual(1);
      expect(niceOf('/proc/thread-self/stat')).toBe(own);
    },
    60_000,
  );
});
