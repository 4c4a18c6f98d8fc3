import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestLogFileError } from '../../fluent-bit/node/errors.ts';
import { expressRequestLog } from '../../fluent-bit/node/express-request-log.ts';
import { fastifyRequestLog } from '../../fluent-bit/node/fastify-request-log.ts';
import { openLogFile } from '../../fluent-bit/node/log-file.ts';
import { newRequestId } from '../../fluent-bit/node/request-id.ts';
import { createRequestLogger, type RequestLogger } from '../../fluent-bit/node/request-logger.ts';
import { requestLogFileOptionsFromEnv } from '../../fluent-bit/node/request-logger-env.ts';
import { withRequestLog } from '../../fluent-bit/node/with-request-log.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { RequestLogV1 } from '../../schemas/request-log.ts';

/**
 * node_http_to_jsonl: a real node:http server on a free port, wrapped by each adapter, answers
 * real requests; the lines in the log file must be valid record schema v1 and say what happened.
 */

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

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

/** Every line of `file` and its rotated copies, oldest file first; throws on a split line. */
async function allLines(file: string): Promise<{ lines: Record<string, unknown>[]; files: string[] }> {
  const base = file.split('/').at(-1)!;
  const rotated = (await readdir(dir!))
    .filter((name) => name.startsWith(`${base}.`))
    .map((name) => Number(name.slice(base.length + 1)))
    .sort((a, b) => b - a)
    .map((n) => `${file}.${n}`);
  const files = [...rotated, ...(existsSync(file) ? [file] : [])];
  const lines: Record<string, unknown>[] = [];
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    if (text === '') continue;
    expect(text.endsWith('\n'), `${f} ends mid-line`).toBe(true);
    for (const l of text.slice(0, -1).split('\n')) lines.push(JSON.parse(l) as Record<string, unknown>);
  }
  return { lines, files };
}

const pathsOf = (lines: Record<string, unknown>[]) => lines.map((l) => String(l.path));

/** A line of about 100 bytes that says which one it is. */
const numbered = (n: number) => `${JSON.stringify({ n, pad: 'x'.repeat(80) })}\n`;

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

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
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(RequestLogV1.safeParse(line).success).toBe(true);
    expect(lines[0]!.request_id).toMatch(UUID_V7);
    expect(ok.headers['x-request-id']).toBe(lines[0]!.request_id);
    expect(lines[0]).toMatchObject({
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
    });
    expect(missing.headers['x-request-id']).toBe(lines[1]!.request_id);
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

describe('request ids', () => {
  it('two requests with the same client x-request-id: two lines, two request ids, the client’s value kept in headers', async () => {
    // Prepare
    const { logger, file } = await newLogger();
    const port = await serve(withRequestLog(logger, (_req, res) => res.end('ok')));
    const retry = {
      method: 'POST',
      headers: { 'x-request-id': 'trace-1', 'content-type': 'application/json' },
    };

    // Act
    const first = await call(port, '/v1/orders', { ...retry, body: '{"qty":1}' });
    const second = await call(port, '/v1/orders', { ...retry, body: '{"qty":2}' });
    const lines = await linesOf(logger, file);

    // Assess
    expect(lines).toHaveLength(2);
    expect(lines[0]!.request_id).toMatch(UUID_V7);
    expect(lines[1]!.request_id).toMatch(UUID_V7);
    expect(lines[0]!.request_id).not.toBe(lines[1]!.request_id);
    for (const line of lines) expect(line.headers).toMatchObject({ 'x-request-id': 'trace-1' });
    expect([first.headers['x-request-id'], second.headers['x-request-id']]).toEqual(
      lines.map((l) => l.request_id),
    );
  });

  it('keeps the client’s x-request-id even when the header allow-list leaves it out', async () => {
    // Prepare
    const { logger, file } = await newLogger({ headers: ['accept'] });
    const port = await serve(withRequestLog(logger, (_req, res) => res.end()));

    // Act
    await call(port, '/', { headers: { 'x-request-id': 'trace-2', accept: 'text/plain' } });
    const [line] = await linesOf(logger, file);

    // Assess
    expect(line!.headers).toEqual({ accept: 'text/plain', 'x-request-id': 'trace-2' });
  });

  it('the response carries request_id, but never replaces an x-request-id the app set', async () => {
    // Prepare
    const { logger, file } = await newLogger();
    const port = await serve(
      withRequestLog(logger, (req, res) => {
        if (req.url === '/set') res.setHeader('x-request-id', 'app-set');
        if (req.url === '/head') res.writeHead(200, { 'x-request-id': 'app-head' });
        res.end();
      }),
    );

    // Act
    const set = await call(port, '/set');
    const head = await call(port, '/head');
    const plain = await call(port, '/plain');
    const lines = await linesOf(logger, file);

    // Assess
    expect(set.headers['x-request-id']).toBe('app-set');
    expect(head.headers['x-request-id']).toBe('app-head');
    expect(plain.headers['x-request-id']).toBe(lines[2]!.request_id);
    for (const line of lines) expect(line.request_id).toMatch(UUID_V7);
  });

  it('requestId option: the app’s id is request_id and the response header; unusable values fall back to a generated id', async () => {
    // Prepare
    const { logger, file } = await newLogger({
      requestId: (req: { headers: Record<string, unknown> }) => req.headers['x-app-id'] as string | undefined,
    });
    const port = await serve(withRequestLog(logger, (req, res) => res.end(logger.requestIdOf(req))));

    // Act
    const own = await call(port, '/own', { headers: { 'x-app-id': 'order-123', 'x-request-id': 'trace-3' } });
    const none = await call(port, '/none');
    const tooLong = await call(port, '/long', { headers: { 'x-app-id': 'x'.repeat(129) } });
    const lines = await linesOf(logger, file);

    // Assess
    expect(own).toMatchObject({ body: 'order-123', headers: { 'x-request-id': 'order-123' } });
    expect(lines[0]).toMatchObject({ request_id: 'order-123', headers: { 'x-request-id': 'trace-3' } });
    expect(lines[1]!.request_id).toMatch(UUID_V7);
    expect(none.body).toBe(lines[1]!.request_id);
    expect(lines[2]!.request_id).toMatch(UUID_V7);
    expect(tooLong.headers['x-request-id']).toBe(lines[2]!.request_id);
  });

  it('generated ids are UUIDv7: version 7, RFC variant, the request’s millisecond first, unique', () => {
    // Prepare
    const at = Date.UTC(2025, 0, 15, 10, 0, 0, 123);

    // Act
    const ids = Array.from({ length: 10_000 }, () => newRequestId(at));

    // Assess
    for (const id of ids.slice(0, 10)) expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(ids[0]!.replace('-', '').slice(0, 12), 16)).toBe(at);
    expect(new Set(ids).size).toBe(ids.length);
    expect(newRequestId(at + 1) > newRequestId(at)).toBe(true);
  });
});

describe('request log file: reopen and rotation', () => {
  it('SIGHUP after logrotate renamed the file: every line exactly once, none split, new lines in a new file', async () => {
    // Prepare
    const listeners = process.listenerCount('SIGHUP');
    const { logger, file } = await newLogger({ reopenOnSighup: true });
    const port = await serve(withRequestLog(logger, (_req, res) => res.end('ok')));
    const burst = (prefix: string) => Array.from({ length: 100 }, (_, i) => call(port, `/${prefix}/${i}`));

    // Act
    const before = burst('before');
    await Promise.all(before.slice(0, 20));
    await rename(file, `${file}.1`);
    process.kill(process.pid, 'SIGHUP');
    const during = burst('during');
    await vi.waitFor(() => expect(existsSync(file)).toBe(true));
    const after = burst('after');
    await Promise.all([...before, ...during, ...after]);
    await logger.close();
    const { lines, files } = await allLines(file);

    // Assess
    expect(files).toEqual([`${file}.1`, file]);
    const paths = pathsOf(lines);
    expect(new Set(paths).size).toBe(300);
    expect(paths).toHaveLength(300);
    const rotated = pathsOf(lines.slice(0, (await readFile(`${file}.1`, 'utf8')).split('\n').length - 1));
    const fresh = paths.slice(rotated.length);
    expect(rotated.filter((p) => p.startsWith('/before/')).length).toBeGreaterThanOrEqual(20);
    expect(fresh.filter((p) => p.startsWith('/after/'))).toHaveLength(100);
    for (const line of lines) expect(RequestLogV1.safeParse(line).success).toBe(true);
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
    expect(logger.dropped()).toBe(0);
  });

  it('reopen() while lines keep coming: all of them, in order, across the renamed files', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'shardline-node-log-'));
    const file = join(dir, 'requests.jsonl');
    const log = openLogFile(file, { maxFiles: 1, onError: (e) => expect.fail(e.message) });
    const reopened: Promise<void>[] = [];

    // Act
    for (let n = 0; n < 20_000; n++) {
      log.write(numbered(n));
      if (n % 250 === 0) await pause();
      if (n === 5_000 || n === 12_000) {
        // As logrotate does: the file it renames is the one the app reopened after its last
        // rotation (on a loaded machine the first reopen may still be queued at line 12,000).
        if (n === 12_000) await reopened[0];
        await rename(file, `${file}.${n === 5_000 ? 2 : 1}`);
        reopened.push(log.reopen());
      }
    }
    await Promise.all(reopened);
    await log.close();
    const { lines, files } = await allLines(file);

    // Assess
    expect(files).toHaveLength(3);
    expect(lines.map((l) => l.n)).toEqual(Array.from({ length: 20_000 }, (_, n) => n));
  });

  it('size-based rotation (logger): every request exactly once across the rotated files, each within maxBytes', async () => {
    // Prepare
    const { logger, file } = await newLogger({ maxBytes: 4096, maxFiles: 100 });
    const port = await serve(withRequestLog(logger, (_req, res) => res.end('ok')));

    // Act
    await Promise.all(Array.from({ length: 150 }, (_, i) => call(port, `/r/${i}`)));
    await logger.close();
    const { lines, files } = await allLines(file);

    // Assess
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect((await stat(f)).size).toBeLessThanOrEqual(4096);
    expect(new Set(pathsOf(lines)).size).toBe(150);
    expect(lines).toHaveLength(150);
    for (const line of lines) expect(RequestLogV1.safeParse(line).success).toBe(true);
  });

  it('size-based rotation: at most maxFiles rotated files of at most maxBytes, the newest lines in order', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'shardline-node-log-'));
    const file = join(dir, 'requests.jsonl');
    const log = openLogFile(file, { maxBytes: 4096, maxFiles: 3, onError: (e) => expect.fail(e.message) });

    // Act
    for (let n = 0; n < 5_000; n++) {
      log.write(numbered(n));
      if (n % 100 === 0) await pause();
    }
    await log.close();
    const { lines, files } = await allLines(file);

    // Assess
    expect(files).toEqual([`${file}.3`, `${file}.2`, `${file}.1`, file]);
    let total = 0;
    for (const f of files) {
      const { size } = await stat(f);
      expect(size).toBeLessThanOrEqual(4096);
      total += size;
    }
    expect(total).toBeLessThanOrEqual((3 + 1) * 4096);
    const ns = lines.map((l) => l.n as number);
    expect(ns.at(-1)).toBe(4_999);
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => 5_000 - ns.length + i));
    expect(ns.length).toBeGreaterThan(3 * 30);
  });

  it('rotation never splits a line: one longer than maxBytes gets a file of its own', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'shardline-node-log-'));
    const file = join(dir, 'requests.jsonl');
    const log = openLogFile(file, { maxBytes: 1024, maxFiles: 10, onError: (e) => expect.fail(e.message) });
    const long = `${JSON.stringify({ n: 'long', pad: 'y'.repeat(3000) })}\n`;

    // Act
    for (let n = 0; n < 5; n++) log.write(numbered(n));
    log.write(long);
    for (let n = 5; n < 10; n++) log.write(numbered(n));
    await log.close();
    const { lines, files } = await allLines(file);

    // Assess
    expect(lines.map((l) => l.n)).toEqual([0, 1, 2, 3, 4, 'long', 5, 6, 7, 8, 9]);
    const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
    expect(sizes).toContain(Buffer.byteLength(long));
    expect(sizes.filter((s) => s > 1024)).toHaveLength(1);
  });

  it('close() writes every queued line before it resolves; lines after it are counted as dropped', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'shardline-node-log-'));
    const file = join(dir, 'requests.jsonl');
    const log = openLogFile(file, {
      maxBytes: 64 * 1024,
      maxFiles: 50,
      onError: (e) => expect.fail(e.message),
    });

    // Act
    for (let n = 0; n < 10_000; n++) log.write(numbered(n));
    const closed = log.close();
    log.write(numbered(10_000));
    await closed;
    const { lines } = await allLines(file);

    // Assess
    expect(lines.map((l) => l.n)).toEqual(Array.from({ length: 10_000 }, (_, n) => n));
    expect(log.dropped()).toBe(1);
  });

  it('a file that cannot be opened: lines dropped, counted and reported; the next line retries', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'shardline-node-log-'));
    const file = join(dir, 'gone', 'requests.jsonl');
    const errors: RequestLogFileError[] = [];
    const log = openLogFile(file, { maxFiles: 1, onError: (e) => errors.push(e) });

    // Act
    for (let n = 0; n < 3; n++) log.write(numbered(n));
    await vi.waitFor(() => expect(log.dropped()).toBe(3));
    await mkdir(join(dir, 'gone'));
    log.write(numbered(3));
    await log.close();

    // Assess
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RequestLogFileError);
    expect(errors[0]!.message).toMatch(/opening .*gone\/requests\.jsonl failed.*3 line\(s\) dropped/);
    expect(await readFile(file, 'utf8')).toBe(numbered(3));
  });

  it('options: rotation needs a file; sizes come from the environment in bytes or Ki/Mi/Gi', () => {
    // Act / Assess
    expect(() => createRequestLogger({ projectId: 'p', maxBytes: 4096 })).toThrow(/requestLogger\.file/);
    expect(() => createRequestLogger({ projectId: 'p', file: '/tmp/x', maxBytes: 10 })).toThrow(
      /requestLogger\.maxBytes/,
    );
    expect(
      requestLogFileOptionsFromEnv({
        REQUEST_LOG_FILE: '/var/log/app/requests.jsonl',
        REQUEST_LOG_MAX_BYTES: '128Mi',
        REQUEST_LOG_MAX_FILES: '3',
        REQUEST_LOG_REOPEN_ON_SIGHUP: 'true',
      }),
    ).toEqual({
      file: '/var/log/app/requests.jsonl',
      maxBytes: 128 * 1024 ** 2,
      maxFiles: 3,
      reopenOnSighup: true,
    });
    expect(requestLogFileOptionsFromEnv({ REQUEST_LOG_MAX_BYTES: '4096' })).toEqual({ maxBytes: 4096 });
    expect(() => requestLogFileOptionsFromEnv({ REQUEST_LOG_MAX_BYTES: '128M' })).toThrow(
      /REQUEST_LOG_MAX_BYTES/,
    );
  });
});
