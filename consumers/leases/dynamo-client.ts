import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isLocalEndpoint } from '../kinesis-client.ts';

export interface DynamoClientOptions {
  readonly region: string;
  /** e.g. `http://127.0.0.1:4568` for dynalite; omit for AWS. */
  readonly endpoint?: string;
}

/**
 * A DynamoDB client for the lease table. The SDK's own retries stay at one extra attempt: the
 * lease table backs off with jitter itself and must learn quickly that a renewal is late.
 * Local endpoints get dummy credentials and an HTTP/1.1 keep-alive handler, as for Kinesis.
 */
export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const local = options.endpoint !== undefined && isLocalEndpoint(options.endpoint);
  return new DynamoDBClient({
    region: options.region,
    endpoint: options.endpoint,
    maxAttempts: 2,
    ...(local
      ? {
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          requestHandler: new NodeHttpHandler({
            connectionTimeout: 2_000,
            requestTimeout: 5_000,
            httpAgent: new HttpAgent({ keepAlive: true }),
            httpsAgent: new HttpsAgent({ keepAlive: true }),
          }),
        }
      : {}),
  });
}
