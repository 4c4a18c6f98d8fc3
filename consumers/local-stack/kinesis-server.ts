import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { RequestListener, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../../pipeline/errors.ts';
import { createKinesisClient } from '../kinesis-client.ts';
import { ensureStream } from './ensure-stream.ts';
import { type ClosableServer, createPlainServer, createTlsServer } from './http1-and-h2-server.ts';
import { installFastSequence, type KinesaliteDb } from './kinesalite-fast-sequence.ts';
import { ensureLocalTls } from './local-tls.ts';
import { listenError } from './port-in-use.ts';

export interface LocalKinesisOptions {
  /**
   * State folder: the streams (LevelDB in `<dir>/kinesis`) and the TLS files (`<dir>/tls`)
   * survive restarts. Without it, streams live in memory and the TLS files in a temporary
   * folder removed by close().
   */
  readonly dir?: string;
  /** For the SDK. Default 4567 (kinesalite's); 0 picks a free port. */
  readonly httpPort?: number;
  /** For Fluent Bit, which only speaks TLS. Default 4443; 0 picks a free port. */
  readonly httpsPort?: number;
  /** Interface to listen on. Default 127.0.0.1: the emulator accepts any credentials. */
  readonly host?: string;
  /** Streams to create (if missing) before resolving. */
  readonly streams?: readonly { readonly name: string; readonly shards: number }[];
  /** Most shards a stream may have (splits included). Default 100. */
  readonly shardLimit?: number;
}

export interface LocalKinesis {
  /**
   * `http://127.0.0.1:<port>`: for SDKs. Answers HTTP/1.1 and HTTP/2 (h2c), so a default
   * `new KinesisClient({ endpoint })` works as well as one with a `NodeHttpHandler`.
   */
  readonly httpEndpoint: string;
  /** `https://127.0.0.1:<port>`: for Fluent Bit's `endpoint` (HTTP/1.1; HTTP/2 by ALPN too). */
  readonly httpsEndpoint: string;
  /** PEM file of the CA that signed the HTTPS certificate: Fluent Bit's `tls.ca_file`. */
  readonly caFile: string;
  close(): Promise<void>;
}

type KinesaliteServer = Server;
type Kinesalite = (options: Record<string, unknown>) => KinesaliteServer;

const require = createRequire(import.meta.url);

const md5Hex = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/**
 * Kinesis on this machine: kinesalite in this process, served over HTTP and HTTPS from the same
 * store. Kinesalite accepts any SigV4 signature, so Fluent Bit's signed requests go through.
 * Kinesalite's own server is never started: its request listener is mounted on our two servers,
 * so that close() can drop open keep-alive connections before the store closes.
 */
export async function startLocalKinesis(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
  const host = options.host ?? '127.0.0.1';
  const tempDir = options.dir === undefined ? await mkdtemp(join(tmpdir(), 'shardline-kinesis-')) : undefined;
  const stateDir = options.dir ?? (tempDir as string);
  if (options.dir !== undefined) await mkdir(join(options.dir, 'kinesis'), { recursive: true });
  const tls = await ensureLocalTls(join(stateDir, 'tls'), { shareWithinProcess: options.dir === undefined });

  const kinesalite = require('kinesalite') as Kinesalite;
  installFastSequence(require('kinesalite/db/index.js') as KinesaliteDb, md5Hex);
  const emulator = kinesalite({
    path: options.dir === undefined ? undefined : join(options.dir, 'kinesis'),
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: options.shardLimit ?? 100,
  });
  const handler = emulator.listeners('request')[0] as RequestListener;
  const http = createPlainServer(handler);
  const https = createTlsServer(tls, handler);

  const close = async (): Promise<void> => {
    await Promise.all([http.close(), https.close()]);
    await new Promise<void>((resolve, reject) =>
      // Closes the store; its server was never listening, which it reports as an error.
      emulator.close((error?: Error) =>
        error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING'
          ? reject(error)
          : resolve(),
      ),
    );
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  };

  try {
    const httpPort = await listen(http, options.httpPort ?? 4567, host);
    const httpsPort = await listen(https, options.httpsPort ?? 4443, host);
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const local: LocalKinesis = {
      httpEndpoint: `http://${urlHost}:${httpPort}`,
      httpsEndpoint: `https://${urlHost}:${httpsPort}`,
      caFile: tls.caFile,
      close,
    };
    if (options.streams?.length) {
      const client = createKinesisClient({ region: 'us-east-1', endpoint: local.httpEndpoint });
      try {
        for (const stream of options.streams) await ensureStream(client, stream.name, stream.shards);
      } finally {
        client.destroy();
      }
    }
    return local;
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

function listen({ server }: ClosableServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: unknown) => reject(listenError(error, host, port, '--http-port/--https-port'));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * `startLocalKinesis` in a worker thread of its own (`kinesis-thread.ts`), for `shardline dev`:
 * the emulator's work then never holds the event loop that reads shards and lands batches.
 * Errors (a port in use) come back with their name, message and field.
 */
export async function startLocalKinesisThread(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
  const worker = new Worker(new URL('./kinesis-thread-boot.mjs', import.meta.url), { workerData: options });
  type Started =
    | { ok: true; httpEndpoint: string; httpsEndpoint: string; caFile: string }
    | { ok: false; name: string; message: string; field?: string };
  const started = await new Promise<Started>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the local Kinesis thread exited (code ${code}) before it started`)),
    );
  });
  worker.removeAllListeners();
  if (!started.ok) {
    await worker.terminate();
    if (started.name === 'ConfigError' && started.field !== undefined) {
      // The same error as in-process (a port in use), so that the CLI reports it as a config error.
      const error = new ConfigError(started.field, started.message);
      error.message = started.message;
      throw error;
    }
    throw Object.assign(new Error(started.message), { name: started.name, field: started.field });
  }
  let exited = false;
  worker.on('error', (error) => process.stderr.write(`local Kinesis thread failed: ${error.message}\n`));
  worker.once('exit', () => {
    exited = true;
  });
  return {
    httpEndpoint: started.httpEndpoint,
    httpsEndpoint: started.httpsEndpoint,
    caFile: started.caFile,
    close: async () => {
      if (exited) return;
      const closed = new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}
