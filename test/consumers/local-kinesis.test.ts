import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Kinesis,
  KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';

/**
 * fluent_bit_to_kinesalite: a request a real Fluent Bit sent (SigV4-signed, over TLS) is replayed
 * byte for byte against the local stack's HTTPS endpoint, which must store its records.
 */

const CAPTURE = resolve(import.meta.dirname, '../fixtures/fluent-bit/captures/kinesis_tail.jsonl');

interface CapturedRequest {
  method: string;
  path: string;
  raw_headers: string[];
  body: string;
}

const captured = (): CapturedRequest => {
  const [line] = readFileSync(CAPTURE, 'utf8').split('\n');
  return JSON.parse(line as string) as CapturedRequest;
};

/** Sends the captured request as Fluent Bit did, only Host and Content-Length fitted to this server. */
const replay = (endpoint: string, ca: Buffer | undefined, req: CapturedRequest) =>
  new Promise<{ status: number; body: string }>((done, fail) => {
    const url = new URL(endpoint);
    const body = Buffer.from(req.body, 'utf8');
    const headers: [string, string][] = [];
    for (let i = 0; i < req.raw_headers.length; i += 2) {
      const name = req.raw_headers[i] as string;
      const value = req.raw_headers[i + 1] as string;
      const lower = name.toLowerCase();
      if (lower === 'host') headers.push([name, url.host]);
      else if (lower === 'content-length') headers.push([name, String(body.length)]);
      else headers.push([name, value]);
    }
    const call = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: Object.fromEntries(headers),
        ca,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    call.on('error', fail);
    call.end(body);
  });

const readAll = async (client: Kinesis, streamName: string) => {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const data: string[] = [];
  for (const shard of Shards) {
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records = [] } = await client.send(new GetRecordsCommand({ ShardIterator }));
    for (const record of Records) data.push(Buffer.from(record.Data ?? []).toString('base64'));
  }
  return data;
};

describe('local Kinesis stack', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup.length = 0;
  });

  const start = async (dir: string) => {
    const kinesis = await startLocalKinesis({ dir, httpPort: 0, httpsPort: 0 });
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    return { kinesis, client };
  };

  it('stores the records of a captured Fluent Bit request sent over HTTPS, and keeps them across restarts', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'shardline-local-kinesis-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const req = captured();
    const sent = (JSON.parse(req.body) as { StreamName: string; Records: { Data: string }[] }).Records.map(
      (r) => r.Data,
    );
    let { kinesis, client } = await start(dir);
    await ensureStream(client, 'api-logs', 2);
    const caBefore = await readFile(kinesis.caFile, 'utf8');

    // Act
    const answer = await replay(kinesis.httpsEndpoint, await readFile(kinesis.caFile), req);
    const storedFirst = await readAll(client, 'api-logs');
    client.destroy();
    await kinesis.close();
    ({ kinesis, client } = await start(dir));
    cleanup.push(async () => {
      client.destroy();
      await kinesis.close();
    });
    const storedAfterRestart = await readAll(client, 'api-logs');

    // Assess
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ FailedRecordCount: 0 });
    expect(sent).toHaveLength(40);
    expect(storedFirst.sort()).toEqual([...sent].sort());
    expect(storedAfterRestart.sort()).toEqual([...sent].sort());
    expect(await readFile(kinesis.caFile, 'utf8')).toBe(caBefore);
  });

  it('serves HTTPS only to clients that trust its CA', async () => {
    // Prepare
    const { kinesis, client } = await startLocalKinesis({ httpPort: 0, httpsPort: 0 }).then((k) => ({
      kinesis: k,
      client: createKinesisClient({ region: 'us-east-1', endpoint: k.httpEndpoint }),
    }));
    cleanup.push(async () => {
      client.destroy();
      await kinesis.close();
    });
    await ensureStream(client, 'api-logs', 1);
    const trusting = createKinesisClient({
      region: 'us-east-1',
      endpoint: kinesis.httpsEndpoint.replace('127.0.0.1', 'localhost'),
      ca: await readFile(kinesis.caFile),
    });
    cleanup.push(async () => trusting.destroy());

    // Act
    const untrusted = await replay(kinesis.httpsEndpoint, undefined, captured()).then(
      () => undefined,
      (error: Error) => error,
    );
    const listed = await trusting.send(new ListStreamsCommand({}));

    // Assess
    expect(untrusted?.message).toMatch(/self[- ]signed|unable to (get|verify)/i);
    expect(listed.StreamNames).toEqual(['api-logs']);
  });

  it('answers a default AWS SDK v3 KinesisClient (HTTP/2) on its SDK port, and HTTP/1.1 clients on the same port', async () => {
    // Prepare: no requestHandler option, so the SDK's own default (HTTP/2) is what is tested.
    const kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    const sdkDefault = new KinesisClient({
      region: 'us-east-1',
      endpoint: kinesis.httpEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const http1 = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    cleanup.push(async () => {
      sdkDefault.destroy();
      http1.destroy();
      await kinesis.close();
    });
    expect(sdkDefault.config.requestHandler).toBeInstanceOf(NodeHttp2Handler);
    await ensureStream(http1, 'sdk-default', 2);
    const lines = Array.from({ length: 50 }, (_, i) => `{"request_id":"r-${i}"}\n`);

    // Act
    const put = await sdkDefault.send(
      new PutRecordsCommand({
        StreamName: 'sdk-default',
        Records: lines.map((line, i) => ({ Data: Buffer.from(line), PartitionKey: `pk-${i}` })),
      }),
    );
    const readByDefault = await readAll(sdkDefault as unknown as Kinesis, 'sdk-default');
    const readByHttp1 = await readAll(http1, 'sdk-default');

    // Assess
    expect(put.FailedRecordCount).toBe(0);
    const expected = lines.map((l) => Buffer.from(l).toString('base64')).sort();
    expect(readByDefault.sort()).toEqual(expected);
    expect(readByHttp1.sort()).toEqual(expected);
  });
});
