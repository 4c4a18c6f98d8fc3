import { randomBytes } from 'node:crypto';
import {
  GetRecordsCommand,
  type GetRecordsOutput,
  GetShardIteratorCommand,
  Kinesis,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addGetRecordsBodyDecoding, splitGetRecordsBody } from '../../consumers/get-records-body.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { type LocalKinesis, startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { localCredentials } from '../../pipeline/aws/local-endpoint.ts';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const record = (fields: Record<string, unknown> = {}) => ({
  SequenceNumber: '49650000000000000000000000000000000000000000000000000002',
  ApproximateArrivalTimestamp: 1764500000.1236,
  Data: Buffer.from('{"path":"/v1/users"}\n').toString('base64'),
  PartitionKey: 'pk-1',
  ...fields,
});

describe('splitGetRecordsBody', () => {
  it('decodes the records as the SDK does and leaves the rest of the answer to it', () => {
    // Act
    const split = splitGetRecordsBody(
      body({
        Records: [record(), record({ EncryptionType: 'KMS', Data: '' })],
        NextShardIterator: 'next',
        MillisBehindLatest: 1200,
        ChildShards: [{ ShardId: 'shardId-000000000002', ParentShards: ['a'], HashKeyRange: {} }],
      }),
    );

    // Assess
    expect(split).toBeDefined();
    const [first, second] = split?.records ?? [];
    expect(Buffer.from(first?.Data ?? []).toString()).toBe('{"path":"/v1/users"}\n');
    expect(first?.ApproximateArrivalTimestamp).toEqual(new Date(1764500000124));
    expect(first).toMatchObject({ SequenceNumber: record().SequenceNumber, PartitionKey: 'pk-1' });
    expect(first).not.toHaveProperty('EncryptionType');
    expect(second?.EncryptionType).toBe('KMS');
    expect(second?.Data?.byteLength).toBe(0);
    expect(JSON.parse(Buffer.from(split?.rest ?? []).toString())).toEqual({
      Records: [],
      NextShardIterator: 'next',
      MillisBehindLatest: 1200,
      ChildShards: [{ ShardId: 'shardId-000000000002', ParentShards: ['a'], HashKeyRange: {} }],
    });
  });

  it.each([
    ['a body that is not JSON', Buffer.from('<html>busy</html>')],
    ['an answer without Records', body({ NextShardIterator: 'next' })],
    ['a record that is not an object', body({ Records: ['x'] })],
    ['a record without a sequence number', body({ Records: [record({ SequenceNumber: undefined })] })],
    ['Data that is not a string', body({ Records: [record({ Data: 42 })] })],
    ['base64 with a character outside its alphabet', body({ Records: [record({ Data: 'ab$d' })] })],
    ['base64 without its padding', body({ Records: [record({ Data: 'YWJj ZA' })] })],
    [
      'a timestamp that is not a number',
      body({ Records: [record({ ApproximateArrivalTimestamp: 'soon' })] }),
    ],
    ['an EncryptionType that is not a string', body({ Records: [record({ EncryptionType: 1 })] })],
  ])('leaves %s to the SDK', (_, bytes) => {
    // Act & Assess
    expect(splitGetRecordsBody(bytes)).toBeUndefined();
  });
});

describe('addGetRecordsBodyDecoding with answers that arrive together', () => {
  it('gives each call its own records, also when the client shares one middleware context between calls', async () => {
    // Prepare: an HTTP handler that answers two calls at the same moment, each with the records of
    // its own iterator (the decoding's own logic, without a network).
    const waiting: (() => void)[] = [];
    const client = new KinesisClient({
      region: 'us-east-1',
      credentials: localCredentials(),
      endpoint: 'http://127.0.0.1:1',
      cacheMiddleware: true,
      requestHandler: {
        handle: async (request: { body?: unknown }) => {
          const { ShardIterator } = JSON.parse(String(request.body)) as { ShardIterator: string };
          await new Promise<void>((release) => {
            waiting.push(release);
            if (waiting.length === 2) for (const go of waiting) go();
          });
          const body = JSON.stringify({
            NextShardIterator: `${ShardIterator}-next`,
            MillisBehindLatest: 0,
            Records: [
              record({ PartitionKey: ShardIterator, Data: Buffer.from(ShardIterator).toString('base64') }),
            ],
          });
          return {
            response: {
              statusCode: 200,
              headers: { 'content-type': 'application/x-amz-json-1.1' },
              body: Buffer.from(body),
            },
          };
        },
      },
    });
    addGetRecordsBodyDecoding(client);

    // Act
    const [a, b] = await Promise.all([
      client.send(new GetRecordsCommand({ ShardIterator: 'A' })),
      client.send(new GetRecordsCommand({ ShardIterator: 'B' })),
    ]);

    // Assess
    expect(a.NextShardIterator).toBe('A-next');
    expect(a.Records?.map((r) => r.PartitionKey)).toEqual(['A']);
    expect(b.NextShardIterator).toBe('B-next');
    expect(b.Records?.map((r) => r.PartitionKey)).toEqual(['B']);
    expect(Buffer.isBuffer(a.Records?.[0]?.Data)).toBe(true);
    client.destroy();
  });
});

describe('GetRecords through createKinesisClient, against the local Kinesis', () => {
  const STREAM = 'get-records-body';
  let kinesis: LocalKinesis;
  let fast: Kinesis;
  let sdk: Kinesis;
  const sent: { data: Buffer; key: string }[] = [];

  beforeAll(async () => {
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    fast = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    // The SDK alone, set up as createKinesisClient sets up a local endpoint, without the decoding.
    sdk = new Kinesis({
      region: 'us-east-1',
      endpoint: kinesis.httpEndpoint,
      credentials: localCredentials(),
      requestHandler: new NodeHttpHandler(),
    });
    await ensureStream(fast, STREAM, 1);
    // Every byte value, lengths from 1 byte to 50 KiB, partition keys beyond ASCII.
    const datas = [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(50 * 1024)];
    for (let i = 0; i < 300; i++) datas.push(randomBytes(1 + ((i * 37) % 3000)));
    for (const [i, data] of datas.entries()) sent.push({ data, key: `clé-${i}-✓` });
    for (let at = 0; at < sent.length; at += 100) {
      await fast.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: sent.slice(at, at + 100).map((s) => ({ Data: s.data, PartitionKey: s.key })),
        }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    fast?.destroy();
    sdk?.destroy();
    await kinesis?.close();
  });

  const iterator = async () =>
    (
      await fast.send(
        new GetShardIteratorCommand({
          StreamName: STREAM,
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator as string;

  const comparable = (out: GetRecordsOutput) => ({
    records: (out.Records ?? []).map((r) => ({ ...r, Data: Buffer.from(r.Data ?? []).toString('hex') })),
    next: typeof out.NextShardIterator,
    behind: out.MillisBehindLatest,
  });

  it('gives the output the SDK gives, decoded by Shardline', async () => {
    // Prepare
    const shardIterator = await iterator();

    // Act
    const byShardline = await fast.send(new GetRecordsCommand({ ShardIterator: shardIterator, Limit: 1000 }));
    const bySdk = await sdk.send(new GetRecordsCommand({ ShardIterator: shardIterator, Limit: 1000 }));

    // Assess
    expect(byShardline.Records).toHaveLength(sent.length);
    expect(comparable(byShardline)).toEqual(comparable(bySdk));
    expect(byShardline.Records?.map((r) => Buffer.from(r.Data ?? []).toString('hex'))).toEqual(
      sent.map((s) => s.data.toString('hex')),
    );
    expect(byShardline.Records?.map((r) => r.PartitionKey)).toEqual(sent.map((s) => s.key));
    expect(byShardline.Records?.[0]?.ApproximateArrivalTimestamp).toBeInstanceOf(Date);
    // Shardline's decoding gives Buffers; the SDK's own gives plain Uint8Arrays: this tells the
    // decoding ran rather than the SDK's.
    expect(byShardline.Records?.every((r) => Buffer.isBuffer(r.Data))).toBe(true);
    expect(bySdk.Records?.some((r) => Buffer.isBuffer(r.Data))).toBe(false);
  });

  it('leaves error answers to the SDK, with their types', async () => {
    // Act
    const errorOf = (client: Kinesis) =>
      client.send(new GetRecordsCommand({ ShardIterator: 'not-an-iterator' })).then(
        () => undefined,
        (e: Error) => e.name,
      );

    // Assess
    const name = await errorOf(fast);
    expect(name).toBeDefined();
    expect(name).toBe(await errorOf(sdk));
  });

  it('decodes an answer with no records and keeps its next iterator', async () => {
    // Prepare: the iterator after the last record.
    const first = await fast.send(new GetRecordsCommand({ ShardIterator: await iterator(), Limit: 1000 }));

    // Act
    const empty = await fast.send(
      new GetRecordsCommand({ ShardIterator: first.NextShardIterator as string, Limit: 1000 }),
    );

    // Assess
    expect(empty.Records).toEqual([]);
    expect(typeof empty.NextShardIterator).toBe('string');
    expect(empty.MillisBehindLatest).toBe(0);
  });
});
