import { createConnection } from 'node:net';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { startLocalDynamo } from '../../consumers/local-stack/dynamo-server.ts';
import { startLocalKinesisThread } from '../../consumers/local-stack/kinesis-server.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { takePort } from '../support/taken-port.ts';

/**
 * The dev stack's local servers in the face of what a user's machine does: a port already in use
 * is a config error naming the flag to change, and a client that resets its connection before
 * sending anything does not take the local Kinesis down.
 */

describe('local stack errors', () => {
  it('reports a DynamoDB port in use as a config error that names --dynamodb-port', async () => {
    const taken = await takePort();
    try {
      const start = startLocalDynamo({ port: taken.port });
      await expect(start).rejects.toBeInstanceOf(ConfigError);
      await expect(start).rejects.toThrow(/--dynamodb-port/);
    } finally {
      await taken.release();
    }
  });

  it('reports a Kinesis port in use, from its thread, as a config error (the CLI exits 2, not 70)', async () => {
    const taken = await takePort();
    try {
      const start = startLocalKinesisThread({ httpPort: taken.port, httpsPort: 0 });
      await expect(start).rejects.toBeInstanceOf(ConfigError);
      await expect(start).rejects.toThrow(/--http-port/);
    } finally {
      await taken.release();
    }
  }, 30_000);

  it('keeps serving after a client resets its connection before sending a byte', async () => {
    // Prepare
    const kinesis = await startLocalKinesisThread({ httpPort: 0, httpsPort: 0 });
    const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
    try {
      const { port } = new URL(kinesis.httpEndpoint);

      // Act: connect, then reset (RST) without a byte, as a port probe or an aborted client does.
      const socket = createConnection({ port: Number(port), host: '127.0.0.1' });
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.resetAndDestroy();
      await new Promise((resolve) => setTimeout(resolve, 300));

      // Assess
      const listed = await client.send(new ListStreamsCommand({}));
      expect(listed.StreamNames).toEqual([]);
    } finally {
      client.destroy();
      await kinesis.close();
    }
  }, 30_000);
});
