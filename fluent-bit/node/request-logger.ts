import type { IncomingMessage, ServerResponse } from 'node:http';
import { LIMITS, type RequestLog } from '../../schemas/request-log.ts';
import { type LogFile, openLogFile } from './log-file.ts';
import { newRequestId } from './request-id.ts';
import { parseRequestLoggerOptions, type RequestLoggerOptions } from './request-logger-options.ts';

export interface RequestLogger {
  /** Call when a request arrives: the line is written when its response finishes (or the client goes away). */
  observe(req: IncomingMessage, res: ServerResponse): void;
  /** The `request_id` of an observed request, for the app's own logs and error pages. */
  requestIdOf(req: IncomingMessage): string | undefined;
  /** Closes and reopens the file after an outside rotation (logrotate); no-op on stdout. */
  reopen(): Promise<void>;
  /** Waits until every line is written and the file is closed; call before the process exits. */
  close(): Promise<void>;
  /** Lines lost so far: file errors (each also reported to `onError`) or written after close(). */
  dropped(): number;
}

/** nginx's code for "the client closed the connection before the response was sent". */
const CLIENT_CLOSED = 499;

/**
 * Writes one record schema v1 JSON line per request to stdout or a file, for the Fluent Bit
 * sidecar to ship.
 *
 * `request_id` is the app's: a generated UUIDv7 or the `requestId` option's value, never the
 * client's `x-request-id`. The consumer deduplicates by request id, so taking a header that
 * clients reuse across retries or calls would silently merge different requests into one row.
 * The client's value stays in `headers["x-request-id"]`. The response's `x-request-id` carries
 * `request_id` (unless the app set that header itself), because it is what finds the row.
 */
export function createRequestLogger(options: RequestLoggerOptions): RequestLogger {
  const o = parseRequestLoggerOptions(options);
  const file: LogFile | undefined =
    o.file === undefined
      ? undefined
      : openLogFile(o.file, {
          maxBytes: o.maxBytes,
          maxFiles: o.maxFiles,
          onError: o.onError ?? ((error) => process.emitWarning(error)),
        });
  const headerNames = o.headers.map((h) => h.toLowerCase());
  const ids = new WeakMap<IncomingMessage, string>();

  const reopenOnSighup = (): void => {
    void file?.reopen();
  };
  if (o.reopenOnSighup) process.on('SIGHUP', reopenOnSighup);

  const write = (line: RequestLog): void => {
    const text = `${JSON.stringify(line)}\n`;
    if (file === undefined) process.stdout.write(text);
    else file.write(text);
  };

  return {
    observe(req, res) {
      const started = process.hrtime.bigint();
      const now = Date.now();
      const timestamp = new Date(now).toISOString();
      const own = o.requestId?.(req);
      const requestId =
        typeof own === 'string' && own !== '' && own.length <= LIMITS.maxIdLength ? own : newRequestId(now);
      ids.set(req, requestId);
      sendRequestId(res, requestId);
      const bytesOut = countBytesOut(res);
      let done = false;

      const finish = (status: number): void => {
        if (done) return;
        done = true;
        const headers: Record<string, string | string[]> = {};
        for (const name of headerNames) {
          const value = req.headers[name];
          if (value !== undefined) headers[name] = capHeader(value);
        }
        // Always kept, allow-list or not: it is the only link to the client's own trace.
        const clientId = req.headers['x-request-id'];
        if (clientId !== undefined) headers['x-request-id'] = capHeader(clientId);
        const declaredIn = Number(req.headers['content-length']);
        const line: RequestLog = {
          timestamp,
          request_id: requestId,
          project_id: typeof o.projectId === 'string' ? o.projectId : o.projectId(req),
          method: req.method ?? 'GET',
          path: originalUrl(req),
          status,
          latency_ms: Number(process.hrtime.bigint() - started) / 1e6,
          bytes_in: Number.isSafeInteger(declaredIn) && declaredIn >= 0 ? declaredIn : 0,
          bytes_out: bytesOut(),
          protocol: `HTTP/${req.httpVersion}`,
          headers,
        };
        const route = routeOf(req);
        if (route !== undefined) line.route = route;
        const ip = clientIp(req, o.trustProxy);
        if (ip !== undefined) line.ip = ip;
        const ua = req.headers['user-agent'];
        if (ua !== undefined) line.user_agent = ua.slice(0, LIMITS.maxUserAgentLength);
        if (o.service !== undefined) line.service = o.service;
        if (o.environment !== undefined) line.environment = o.environment;
        write(line);
      };
      res.once('finish', () => finish(res.statusCode));
      res.once('close', () => finish(res.writableFinished ? res.statusCode : CLIENT_CLOSED));
    },
    requestIdOf: (req) => ids.get(req),
    reopen: () => file?.reopen() ?? Promise.resolve(),
    close() {
      if (o.reopenOnSighup) process.off('SIGHUP', reopenOnSighup);
      return file?.close() ?? Promise.resolve();
    },
    dropped: () => file?.dropped() ?? 0,
  };
}

/**
 * Sets `x-request-id` on the response when its headers go out, not when the request arrives, so
 * that a value the app sets at any point before (setHeader, or writeHead's own headers, which
 * Node applies after ours) wins. Every way of sending headers goes through writeHead.
 */
function sendRequestId(res: ServerResponse, requestId: string): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (!this.headersSent && !this.hasHeader('x-request-id')) this.setHeader('x-request-id', requestId);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

/** A value over the schema's limit would send the whole line to the dead-letter sink. */
function capHeader(value: string | string[]): string | string[] {
  return Array.isArray(value)
    ? value.slice(0, 16).map((v) => v.slice(0, LIMITS.maxHeaderValueLength))
    : value.slice(0, LIMITS.maxHeaderValueLength);
}

/**
 * The route template the framework matched, when it says: Express sets `req.route.path` (relative
 * to the router's mount point, `req.baseUrl`), Fastify `request.routeOptions.url` (stored on the
 * raw request by `fastifyRequestLog`). Read when the response finishes, after routing.
 */
export function routeOf(req: IncomingMessage): string | undefined {
  const r = req as IncomingMessage & {
    route?: { path?: unknown };
    baseUrl?: unknown;
    shardlineRoute?: unknown;
  };
  if (typeof r.shardlineRoute === 'string' && r.shardlineRoute !== '') return r.shardlineRoute.slice(0, 8192);
  const path = r.route?.path;
  if (typeof path !== 'string') return undefined;
  const base = typeof r.baseUrl === 'string' ? r.baseUrl : '';
  const joined = `${base}${path === '/' && base !== '' ? '' : path}`;
  return joined === '' ? '/' : joined.slice(0, 8192);
}

/** Express rewrites `req.url` under a router; `originalUrl` keeps what the client asked for. */
function originalUrl(req: IncomingMessage & { originalUrl?: string }): string {
  const url = req.originalUrl ?? req.url ?? '/';
  return url === '' ? '/' : url.slice(0, 8192);
}

function clientIp(req: IncomingMessage, trustProxy: boolean): string | undefined {
  const forwarded = req.headers['x-forwarded-for'];
  if (trustProxy && typeof forwarded === 'string') {
    const first = forwarded.split(',')[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  return req.socket.remoteAddress;
}

/** Counts body bytes as the app writes them: Content-Length is absent on chunked responses. */
function countBytesOut(res: ServerResponse): () => number {
  let bytes = 0;
  const count = (chunk: unknown, encoding: unknown): void => {
    if (typeof chunk === 'string')
      bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    count(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') count(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];
  return () => bytes;
}
