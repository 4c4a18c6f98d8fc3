import { createServer as createHttpServer, type RequestListener } from 'node:http';
import {
  createServer as createH2cServer,
  createSecureServer as createH2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';

/**
 * Servers that answer what a default AWS SDK v3 client sends as well as what Fluent Bit sends.
 *
 * The SDK's Kinesis client talks HTTP/2 by default: over `http://` it opens h2c with prior
 * knowledge (the connection starts with the HTTP/2 preface), over `https://` it offers `h2` by
 * ALPN. Fluent Bit, curl and the SDK's `NodeHttpHandler` speak HTTP/1.1. kinesalite's request
 * listener only knows HTTP/1.1, so both protocols are mounted in front of it: the plain port
 * looks at each connection's first bytes, the TLS port lets ALPN choose.
 */
export interface ClosableServer {
  readonly server: Server;
  /** Stops listening and drops open (keep-alive or HTTP/2) connections. */
  close(): Promise<void>;
}

/** The compatibility API's request and response stand in for node:http's ones. */
type H2Listener = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Plain HTTP: HTTP/1.1 and h2c (prior knowledge) on one port. */
export function createPlainServer(handler: RequestListener): ClosableServer {
  const http1 = createHttpServer({ keepAliveTimeout: 60_000 }, handler);
  const h2c = createH2cServer(http2Compatible(handler) as unknown as H2Listener);
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Until its first bytes are routed no server listens to the socket: a client that resets the
    // connection (a port probe, an aborted request) must not become an uncaught error in the thread.
    socket.on('error', () => socket.destroy());
    routeByPreface(socket, (isH2) => (isH2 ? h2c : http1).emit('connection', socket));
  });
  return {
    server,
    close: () => {
      const closed = new Promise<void>((resolve) =>
        server.listening ? server.close(() => resolve()) : resolve(),
      );
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

/** TLS: HTTP/2 by ALPN, HTTP/1.1 for clients that do not offer it (Fluent Bit). */
export function createTlsServer(
  tls: { readonly key: string; readonly cert: string },
  handler: RequestListener,
): ClosableServer {
  const sockets = new Set<Socket>();
  const server = createH2Server(
    { key: tls.key, cert: tls.cert, allowHTTP1: true },
    http2Compatible(handler) as unknown as H2Listener,
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    server: server as unknown as Server,
    close: () => {
      const closed = new Promise<void>((resolve) =>
        server.listening ? server.close(() => resolve()) : resolve(),
      );
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

/**
 * Waits for enough bytes to tell the HTTP/2 preface from an HTTP/1.1 request line, puts them
 * back, and hands the socket on. A request line never starts with "PRI *", so a mismatch on any
 * byte read so far decides early.
 */
function routeByPreface(socket: Socket, route: (isH2: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const matches = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (matches && n < H2_PREFACE.length) return;
    socket.off('data', onData);
    socket.pause();
    socket.unshift(seen);
    route(matches);
    // The HTTP/2 session reads what was put back itself; the HTTP/1.1 parser needs the flow back.
    if (!matches) socket.resume();
  };
  socket.on('data', onData);
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2); kinesalite sets some of them on HTTP/1.1 answers. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

/** Adapts an HTTP/1.1 listener to HTTP/2's compatibility API: connection headers are left out. */
function http2Compatible(handler: RequestListener): RequestListener {
  return (req, res) => {
    if (req.httpVersionMajor === 2) {
      const setHeader = res.setHeader.bind(res);
      res.setHeader = ((name: string, value: number | string | readonly string[]) =>
        CONNECTION_HEADERS.has(name.toLowerCase()) ? res : setHeader(name, value)) as typeof res.setHeader;
    }
    handler(req, res);
  };
}
