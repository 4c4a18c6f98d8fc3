import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expressRequestLog } from '../../fluent-bit/node/express-request-log.ts';
import { fastifyRequestLog } from '../../fluent-bit/node/fastify-request-log.ts';
import { createRequestLogger, type RequestLogger } from '../../fluent-bit/node/request-logger.ts';
import { withRequestLog } from '../../fluent-bit/node/with-request-log.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { RequestLogV1 } from '../../schemas/request-log.ts';

/**
 * node_http_to_jsonl: a real node:http server on a free port, wrapped by each adapter, answers
 * real requests; the lines in the log file must be valid record schema v1 and say what happened.
 */

let server: Server | undefined;
let dir: string | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function serve(handler: Parameters<typeof createServer>[1] & {}): Promise<number> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function call(
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

async function linesOf(logger: RequestLogger, file: string): Promise<Record<string, unknown>[]> {
  await logger.close();
  const text = await readFile(file, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function newLogger(
  extra: Record<string, unknown> = {},
): Promise<{ logger: RequestLogger; file: string }> {
  dir = await mkdtemp(join(tmpdir(), 'shardline-node-log-'));
  const file = join(dir, 'requests.jsonl');
  return {
    logger: createRequestLogger({ projectId: 'proj_alpha', file, service: 'checkout', ...extra }),
    file,
  };
}

describe('request logging middleware', () => {
  it('node:http: one valid schema v1 line per request, with status, sizes, latency and no credentials', async () => {
    // Prepare
    const { logger, file } = await newLogger({ environment: 'test' });
    const port = await serve(
      withRequestLog(logger, (req, res) => {
        res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
        res.setHeader('content-type', 'application/json');
        res.write('{"ok":');
        res.end('true}');
      }),
    );

    // Act
    const ok = await call(port, '/v1/orders?expand=items', {
      method: 'POST',
      headers: {
        authorization: 'Bearer top-secret',
        cookie: 'sid=abc',
        'content-type': 'application/json',
        'content-length': '11',
        'x-request-id': 'req-42',
        'user-agent': 'test-agent/1.0',
      },
      body: '{"qty":123}',
    });
    const missing = await call(port, '/missing');
    const lines = await linesOf(logger, file);

    // Assess
    expect(ok.status).toBe(200);
    expect(missing.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(RequestLogV1.safeParse(line).success).toBe(true);
    expect(lines[0]).toMatchObject({
      request_id: 'req-42',
      project_id: 'proj_alpha',
      method: 'POST',
      path: '/v1/orders?expand=items',
      status: 200,
      bytes_in: 11,
      bytes_out: 11,
      ip: '127.0.0.1',
      user_agent: 'test-agent/1.0',
      protocol: 'HTTP/1.1',
      service: 'checkout',
      environment: 'test',
    });
    expect(lines[0]!.headers).toEqual({
      host: `127.0.0.1:${port}`,
      'content-type': 'application/json',
      'content-length': '11',
      'x-request-id': 'req-42',
    });
    expect(JSON.stringify(lines)).not.toContain('top-secret');
    expect(JSON.stringify(lines)).not.toContain('sid=abc');
    expect(lines[1]).toMatchObject({
      status: 404,
      path: '/missing',
      request_id: missing.headers['x-request-id'],
    });
    expect(typeof lines[1]!.latency_ms).toBe('number');
    expect(Number.isNaN(Date.parse(String(lines[1]!.timestamp)))).toBe(false);
  });

  it('Express-style middleware: logs the original URL (not the router-rewritten one) and calls next', async () => {
    // Prepare
    const { logger, file } = await newLogger({
      projectId: (req: { headers: Record<string, unknown> }) => String(req.headers['x-project']),
    });
    const middleware = expressRequestLog(logger);
    const port = await serve((req, res) => {
      const expressReq = Object.assign(req, { originalUrl: req.url });
      middleware(expressReq, res, () => {
        req.url = '/42'; // what an Express router mounted at /v1/users hands its routes
        res.end('user');
      });
    });

    // Act
    await call(port, '/v1/users/42', { headers: { 'x-project': 'proj_beta' } });
    const [line] = await linesOf(logger, file);

    // Assess
    expect(RequestLogV1.safeParse(line).success).toBe(true);
    expect(line).toMatchObject({ path: '/v1/users/42', project_id: 'proj_beta', status: 200, bytes_out: 4 });
  });

  it('Fastify-style onRequest hook: logs from request.raw / reply.raw and calls done', async () => {
    // Prepare
    const { logger, file } = await newLogger({ trustProxy: true });
    const hook = fastifyRequestLog(logger);
    const port = await serve((req, res) => {
      hook({ raw: req }, { raw: res }, () => {
        res.statusCode = 503;
        res.end();
      });
    });

    // Act
    await call(port, '/v1/ping', { headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' } });
    const [line] = await linesOf(logger, file);

    // Assess
    expect(RequestLogV1.safeParse(line).success).toBe(true);
    expect(line).toMatchObject({ status: 503, ip: '203.0.113.7', bytes_out: 0 });
  });

  it('rejects unknown options, naming the key', () => {
    // Act / Assess
    expect(() => createRequestLogger({ projectId: 'p', fiel: '/tmp/x' } as never)).toThrow(ConfigError);
    expect(() => createRequestLogger({ projectId: 'p', fiel: '/tmp/x' } as never)).toThrow(/fiel/);
    expect(() => createRequestLogger({ projectId: '' })).toThrow(/requestLogger\.projectId/);
  });
});
