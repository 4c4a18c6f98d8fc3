import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalDynamo } from '../../consumers/local-stack/dynamo-server.ts';

describe('local DynamoDB (dynalite)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup.length = 0;
  });

  const connect = (endpoint: string) => {
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      requestHandler: new NodeHttpHandler(),
    });
    cleanup.push(async () => client.destroy());
    return client;
  };

  it('supports the conditional writes a lease table needs, and keeps tables across restarts', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'shardline-dynamo-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const first = await startLocalDynamo({ dir });
    const client = connect(first.endpoint);
    await client.send(
      new CreateTableCommand({
        TableName: 'leases',
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const claim = (owner: string) =>
      client.send(
        new PutItemCommand({
          TableName: 'leases',
          Item: { leaseKey: { S: 'shardId-000000000000' }, leaseOwner: { S: owner } },
          ConditionExpression: 'attribute_not_exists(leaseKey)',
        }),
      );

    // Act
    await claim('worker-a');
    const second = claim('worker-b');
    await expect(second).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await first.close();
    const restarted = await startLocalDynamo({ dir });
    cleanup.push(() => restarted.close());
    const item = await connect(restarted.endpoint).send(
      new GetItemCommand({ TableName: 'leases', Key: { leaseKey: { S: 'shardId-000000000000' } } }),
    );

    // Assess
    expect(item.Item?.leaseOwner).toEqual({ S: 'worker-a' });
  });
});
