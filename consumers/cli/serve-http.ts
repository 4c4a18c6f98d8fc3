import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started HTTP server: where it answers, and how to stop it (open keep-alive connections too). */
export interface ServedHttp {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on `host:port` (0 = any free port) and resolves once bound; rejects if it cannot bind. */
export async function serveHttp(server: Server, port: number, host: string): Promise<ServedHttp> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
