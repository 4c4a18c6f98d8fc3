import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Kinesis } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isLocalEndpoint, localCredentials } from '../pipeline/aws/local-endpoint.ts';
import { addGetRecordsBodyDecoding } from './get-records-body.ts';

export interface KinesisClientOptions {
  readonly region: string;
  /** e.g. `http://127.0.0.1:4567` for kinesalite; omit for AWS. */
  readonly endpoint?: string;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** SDK attempts per call, including the first. Readers back off on their own, so keep it low. */
  readonly maxAttempts?: number;
  /** PEM certificate(s) to trust for an HTTPS endpoint with a private CA (the local stack's `ca.crt`). */
  readonly ca?: string | Buffer;
}

export { isLocalEndpoint };

/**
 * A Kinesis client that works against AWS and against the local emulators. The emulators fail
 * intermittently over HTTP/2 (the SDK's default for Kinesis), so local endpoints get an
 * HTTP/1.1 keep-alive handler, and dummy credentials when none are given (they accept any
 * signature). Either way, GetRecords answers are decoded by `get-records-body.ts`, not by the
 * SDK's generic path (~25 µs a record on the event loop).
 */
export function createKinesisClient(options: KinesisClientOptions): Kinesis {
  const client = newKinesisClient(options);
  addGetRecordsBodyDecoding(client);
  return client;
}

function newKinesisClient(options: KinesisClientOptions): Kinesis {
  const maxAttempts = options.maxAttempts ?? 3;
  if (options.endpoint === undefined || !isLocalEndpoint(options.endpoint)) {
    return new Kinesis({
      region: options.region,
      endpoint: options.endpoint,
      credentials: options.credentials,
      maxAttempts,
    });
  }
  return new Kinesis({
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials ?? localCredentials(),
    maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
      httpAgent: new HttpAgent({ keepAlive: true }),
      httpsAgent: new HttpsAgent({ keepAlive: true, ca: options.ca }),
    }),
  });
}
