import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { LeaseLostError, LeaseTableError } from '../errors.ts';
import { LeaseTable } from './lease-table.ts';

/** A DynamoDB client whose answers are scripted: an error to throw, or a value to resolve. */
const scriptedClient = (answers: unknown[]) => {
  const calls: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string } }) => {
      calls.push(command.constructor.name);
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer ?? {};
    },
  } as unknown as DynamoDBClient;
  return { client, calls };
};
const named = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const noSleep = { now: () => 0, sleep: async () => undefined };
const hold = { owner: 'w1', counter: 3 };

describe('LeaseTable against a scripted DynamoDB', () => {
  it('backs off and retries throttled calls, counting them', async () => {
    // Prepare
    const { client, calls } = scriptedClient([
      named('ProvisionedThroughputExceededException', 400),
      named('ThrottlingException', 400),
      {},
    ]);
    const table = new LeaseTable({ client, tableName: 't', clock: noSleep });

    // Act
    await table.renew('shard-1', hold, 0);

    // Assess
    expect(calls).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
    expect(table.throttled).toBe(2);
  });

  it('gives up after its attempts with a retriable error, and at once on a client error', async () => {
    // Prepare
    const throttled = new LeaseTable({
      client: scriptedClient(Array.from({ length: 5 }, () => named('InternalServerError', 500))).client,
      tableName: 't',
      clock: noSleep,
      maxAttempts: 3,
    });
    const denied = scriptedClient([named('AccessDeniedException', 400), {}]);
    const refused = new LeaseTable({ client: denied.client, tableName: 't', clock: noSleep });

    // Act
    const retried = await throttled.renew('shard-1', hold, 0).catch((e: unknown) => e);
    const rejected = await refused.renew('shard-1', hold, 0).catch((e: unknown) => e);

    // Assess
    expect(retried).toBeInstanceOf(LeaseTableError);
    expect((retried as LeaseTableError).retriable).toBe(true);
    expect(rejected).toBeInstanceOf(LeaseTableError);
    expect((rejected as LeaseTableError).retriable).toBe(false);
    expect(denied.calls).toHaveLength(1);
  });

  it('turns a failed ownership condition into LeaseLostError, without retrying it', async () => {
    // Prepare
    const failed = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    const { client, calls } = scriptedClient([failed, {}]);
    const table = new LeaseTable({ client, tableName: 't', clock: noSleep });

    // Act
    const error = await table
      .checkpoint('shard-1', hold, { sequenceNumber: '9' }, undefined)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(calls).toHaveLength(1);
  });
});
