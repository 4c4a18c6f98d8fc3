import type { KinesisClient, PutRecordsCommand, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { ShardlineError } from '../../pipeline/errors.ts';
import { putRecordsWithRetry } from './put-records-with-retry.ts';

/** A stand-in for Kinesis that stores what it accepts and fails what `fail` says, per call. */
const fakeKinesis = (fail: (call: number, index: number) => boolean | Error) => {
  const stored: PutRecordsRequestEntry[] = [];
  let calls = 0;
  const client = {
    send: async (command: PutRecordsCommand) => {
      const call = calls++;
      const records = command.input.Records ?? [];
      const verdicts = records.map((_, i) => fail(call, i));
      const thrown = verdicts.find((v) => v instanceof Error);
      if (thrown instanceof Error) throw thrown;
      const results = records.map((r, i) => {
        if (verdicts[i] === true)
          return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' };
        stored.push(r);
        return { SequenceNumber: String(stored.length), ShardId: 'shardId-000000000000' };
      });
      return { FailedRecordCount: verdicts.filter((v) => v === true).length, Records: results };
    },
  };
  return { client: client as unknown as KinesisClient, stored, calls: () => calls };
};

const entries = (n: number): PutRecordsRequestEntry[] =>
  Array.from({ length: n }, (_, i) => ({ Data: Buffer.from(`{"n":${i}}\n`), PartitionKey: `k${i}` }));

const fast = { baseDelayMs: 1, maxDelayMs: 2 };

describe('putRecordsWithRetry', () => {
  it('resends only the records PutRecords reports as failed, until all are stored once', async () => {
    // Prepare: every third record fails on the first two calls.
    const kinesis = fakeKinesis((call, i) => call < 2 && i % 3 === 0);
    let keys = 0;

    // Act
    const outcome = await putRecordsWithRetry(kinesis.client, 's', entries(30), {
      ...fast,
      newPartitionKey: () => `new${keys++}`,
    });

    // Assess
    const payloads = kinesis.stored.map((r) => Buffer.from(r.Data as Uint8Array).toString());
    expect(new Set(payloads).size).toBe(30);
    expect(payloads).toHaveLength(30);
    expect(outcome).toEqual({ requests: 3, retriedRecords: 10 + 4 });
    expect(kinesis.stored.filter((r) => r.PartitionKey?.startsWith('new'))).toHaveLength(10);
  });

  it('retries a call that failed as a whole with a retriable error', async () => {
    // Prepare
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    const kinesis = fakeKinesis((call) => (call === 0 ? throttled : false));

    // Act
    const outcome = await putRecordsWithRetry(kinesis.client, 's', entries(5), fast);

    // Assess
    expect(kinesis.stored).toHaveLength(5);
    expect(outcome.requests).toBe(2);
  });

  it('fails at once, saying what to check, when the stream does not exist', async () => {
    // Prepare
    const missing = Object.assign(new Error('Stream s not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
    const kinesis = fakeKinesis(() => missing);

    // Act
    const result = putRecordsWithRetry(kinesis.client, 's', entries(2), fast);

    // Assess
    await expect(result).rejects.toThrow(/stream "s".*create it first/);
    await expect(result).rejects.toBeInstanceOf(ShardlineError);
    expect(kinesis.calls()).toBe(1);
  });

  it('gives up after maxAttempts with a retriable error', async () => {
    // Prepare
    const kinesis = fakeKinesis(() => true);

    // Act
    const result = putRecordsWithRetry(kinesis.client, 's', entries(3), { ...fast, maxAttempts: 4 });

    // Assess
    await expect(result).rejects.toMatchObject({
      retriable: true,
      message: expect.stringMatching(/3 records after 4 attempts/),
    });
    expect(kinesis.calls()).toBe(4);
  });
});
