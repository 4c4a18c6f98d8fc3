import { createServer, type Server } from 'node:net';

/** A local port that something else listens on (to see how a server meets a port in use). */
export const takePort = async (): Promise<{ port: number; release: () => Promise<void> }> => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the taken port has no address');
  return {
    port: address.port,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
