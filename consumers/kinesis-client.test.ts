import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../pipeline/aws/local-endpoint.ts';
import { createKinesisClient, isLocalEndpoint } from './kinesis-client.ts';

describe('createKinesisClient', () => {
  it.each([
    ['http://127.0.0.1:4567', true],
    ['http://kinesis.internal:4567', true],
    ['https://localhost:4443', true],
    ['https://127.0.0.2:4443', true],
    ['https://[::1]:4443', true],
    ['https://kinesis.eu-west-1.amazonaws.com', false],
  ])('treats %s as local: %s', (endpoint, local) => {
    expect(isLocalEndpoint(endpoint)).toBe(local);
  });

  it('talks HTTP/1.1 with dummy credentials to a local endpoint', async () => {
    // Act
    const client = createKinesisClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4567' });

    // Assess
    expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: LOCAL_CREDENTIALS.accessKeyId });
    expect(await client.config.maxAttempts()).toBe(3);
    client.destroy();
  });

  it('keeps the SDK defaults for AWS', async () => {
    // Act
    const client = createKinesisClient({ region: 'eu-west-1', maxAttempts: 5 });

    // Assess
    expect(client.config.requestHandler).not.toBeInstanceOf(NodeHttpHandler);
    expect(await client.config.maxAttempts()).toBe(5);
    client.destroy();
  });
});
