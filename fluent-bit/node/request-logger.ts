import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { RequestLog } from '../../schemas/request-log.ts';
import { parseRequestLoggerOptions, type RequestLoggerOptions } from './request-logger-options.ts';

export interface RequestLogger {
  /** Call when a request arrives: the line is written when its response finishes (or the client goes away). */
  observe(req: IncomingMessage, res: ServerResponse): void;
  /** Waits until every line is written; call before the process exits. */
  close(): Promise<void>;
}

/** nginx's code for "the client closed the connection before the response was sent". */
const CLIENT_CLOSED = 499;

/**
 * Writes one record schema v1 JSON line per request to stdout or a file, for the Fluent Bit
 * sidecar to ship. Request ids come from `x-request-id` or are generated (and echoed in the
 * response), so that the consumer can drop Fluent Bit's resends as duplicates.
 */
export function createRequestLogger(options: RequestLoggerOptions): RequestLogger {
  const o = parseRequestLoggerOptions(options);
  const out: Writable = o.file === undefined ? process.stdout : createWriteStream(o.file, { flags: 'a' });
  const headerNames = o.headers.map((h) => h.toLowerCase());

  const write = (line: RequestLog): void => {
    out.write(`${JSON.stringify(line)}\n`);
  };

  return {
    observe(req, res) {
      const started = process.hrtime.bigint();
      const timestamp = new Date().toISOString();
      const given = req.headers['x-request-id'];
      const requestId = typeof given === 'string' && given !== '' ? given.slice(0, 128) : randomUUID();
      if (given === undefined && !res.headersSent) res.setHeader('x-request-id', requestId);
      const bytesOut = countBytesOut(res);
      let done = false;

      const finish = (status: number): void => {
        if (done) return;
        done = true;
        const headers: Record<string, string | string[]> = {};
        for (const name of headerNames) {
          const value = req.headers[name];
          if (value !== undefined) headers[name] = value;
        }
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
        const ip = clientIp(req, o.trustProxy);
        if (ip !== undefined) line.ip = ip;
        const ua = req.headers['user-agent'];
        if (ua !== undefined) line.user_agent = ua.slice(0, 1024);
        if (o.service !== undefined) line.service = o.service;
        if (o.environment !== undefined) line.environment = o.environment;
        write(line);
      };
      res.once('finish', () => finish(res.statusCode));
      res.once('close', () => finish(res.writableFinished ? res.statusCode : CLIENT_CLOSED));
    },
    close() {
      if (out === process.stdout) return Promise.resolve();
      return new Promise((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    },
  };
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
