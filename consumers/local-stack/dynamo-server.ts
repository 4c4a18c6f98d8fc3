import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { listenError } from './port-in-use.ts';

export interface LocalDynamoOptions {
  /** State folder; tables live in `<dir>/dynamodb` and survive restarts. In memory without it. */
  readonly dir?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  readonly host?: string;
}

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`; use it with dummy credentials and an HTTP/1.1 handler. */
  readonly endpoint: string;
  close(): Promise<void>;
}

type Dynalite = (options: Record<string, unknown>) => Server;

const require = createRequire(import.meta.url);

/** DynamoDB on this machine (dynalite, in-process), for the lease table. Tables are ACTIVE at once. */
export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const host = options.host ?? '127.0.0.1';
  const path = options.dir === undefined ? undefined : join(options.dir, 'dynamodb');
  if (path !== undefined) await mkdir(path, { recursive: true });
  const dynalite = require('dynalite') as Dynalite;
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Closing the server closes the store dynalite opened with it (it reports it was not running).
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw listenError(error, host, options.port, '--dynamodb-port');
  }
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
