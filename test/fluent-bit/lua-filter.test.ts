import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDecodedRecords } from '../fixtures/fluent-bit/fluent-bit-captures.ts';

/**
 * fluent-bit/shardline.lua under a real LuaJIT (Fluent Bit embeds LuaJIT 2.1), called the way
 * filter_lua calls it: (tag, timestamp, record) -> (code, timestamp, record). One interpreter
 * process runs a whole corpus through lua-harness.lua.
 */

const SCRIPT = resolve(import.meta.dirname, '../../fluent-bit/shardline.lua');
const HARNESS = resolve(import.meta.dirname, 'lua-harness.lua');
// CI installs LuaJIT (.ci/run), so there a missing interpreter fails the suite instead of skipping it.
const luajit = spawnSync('luajit', ['-e', 'require("cjson")']).status === 0 || process.env.CI === 'true';

type Rec = Record<string, unknown>;
type Result = { code: number; ts: number; record: Rec };

/** Every key and string value, nested ones included: where a secret could hide. */
const leaves = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : typeof value === 'object' && value !== null
      ? Object.entries(value).flatMap(([k, v]) => [k, ...leaves(v)])
      : [String(value)];

/** Metadata variables cleared, so that "unchanged" means unchanged. */
const BARE_ENV = {
  PATH: process.env.PATH ?? '',
  SHARDLINE_SERVICE: '',
  SHARDLINE_ENVIRONMENT: '',
  SHARDLINE_PROJECT_ID: '',
  POD_NAME: '',
  HOSTNAME: '',
  NODE_NAME: '',
};

function runFilter(records: Rec[], env: Record<string, string> = {}, call = 'shardline_edge'): Result[] {
  const input = records.map((record) =>
    JSON.stringify({ call, tag: 'shardline.app', ts: 1736935200.25, record }),
  );
  const out = spawnSync('luajit', [HARNESS, SCRIPT], {
    input: `${input.join('\n')}\n`,
    env: { ...BARE_ENV, ...env },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`luajit failed: ${out.stderr}`);
  return out.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Result);
}

const base = (over: Rec = {}): Rec => ({
  timestamp: '2025-01-15T10:00:00.000Z',
  request_id: 'req-1',
  project_id: 'proj_alpha',
  method: 'POST',
  path: '/v1/orders',
  status: 201,
  latency_ms: 12.5,
  ip: '203.0.113.9',
  headers: { host: 'api.example.com', 'content-type': 'application/json' },
  ...over,
});

/** Records that hold no secret, some of them looking like they might. */
const captured = readDecodedRecords('kinesis_tail').map((r) => JSON.parse(r.data) as Rec);
const cleanCorpus: Rec[] = [
  // The capture's /health lines are dropped, as they should be (tested below).
  ...captured.filter((r) => r.path !== '/health'),
  base({ request_body: '{"order_id":"1234567890123456","created":1736935200000,"plan":"Basic plan"}' }),
  base({ response_body: '{"max_tokens":512,"total_tokens":77,"token_count":3,"keyboard":"us"}' }),
  base({ path: '/v1/search?q=token+bucket&page=2&sort=-created', query: { page: '2', limit: 10 } }),
  base({ request_body: 'amount=2500&currency=EUR&note=thanks', user_agent: 'curl/8.5.0' }),
  base({ response_body: '{"phone":"+49 30 1234567","iban_last4":"4242","ref":"ORD-4111-1111"}' }),
  base({ headers: { host: 'h', 'x-request-id': 'abc', accept: ['application/json', 'text/plain'] } }),
];

/** Each record plants secrets (`secrets`) beside text that must survive (`keep`). */
const secretCorpus: { record: Rec; secrets: string[]; keep: string[] }[] = [
  {
    record: base({
      headers: {
        host: 'api.example.com',
        Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
        cookie: 'session=s3cr3t-cookie-value',
        'set-cookie': ['sid=abcdef123456; HttpOnly', 'theme=dark'],
        'x-api-key': 'ak_live_0123456789abcdef',
        'X-Auth-Token': 'tok-9f8e7d6c5b4a',
      },
    }),
    secrets: [
      'eyJhbGciOiJIUzI1NiJ9',
      's3cr3t-cookie-value',
      'abcdef123456',
      'ak_live_0123456789abcdef',
      'tok-9f8e7d6c5b4a',
    ],
    keep: ['api.example.com'],
  },
  {
    record: base({
      path: '/v1/callback?code=oauth-code-777&state=xyz&access_token=at-555&password=hunter2&client_secret=cs-1',
    }),
    secrets: ['oauth-code-777', 'at-555', 'hunter2', 'cs-1'],
    keep: ['/v1/callback?', 'state=xyz'],
  },
  {
    record: base({ query: { api_key: 'qk-123456', token: 'qt-987654', page: '3' } }),
    secrets: ['qk-123456', 'qt-987654'],
    keep: ['page\n3'],
  },
  {
    record: base({ query: 'refresh_token=rt-424242&sig=sg-31337&lang=de' }),
    secrets: ['rt-424242', 'sg-31337'],
    keep: ['lang=de'],
  },
  {
    record: base({
      request_body:
        '{"user":"ada","password":"correct horse \\"battery\\"","card":{"number":"4111 1111 1111 1111","exp":"12/29"},"items":[1,2]}',
      response_body: '{"api_secret":"xyz-secret-1","note":"pay with 5500-0000-0000-0004 please"}',
    }),
    secrets: ['correct horse', 'battery', '4111 1111 1111 1111', 'xyz-secret-1', '5500-0000-0000-0004'],
    keep: ['"user":"ada"', '"exp":"12/29"', '"items":[1,2]', 'pay with ', ' please'],
  },
  {
    record: base({
      request_body: 'username=ada&password=pa55w0rd&remember=1',
      response_body:
        'card 378282246310005 and key AKIAIOSFODNN7EXAMPLE, db postgres://app:dbpass99@db:5432/x',
    }),
    secrets: ['pa55w0rd', '378282246310005', 'AKIAIOSFODNN7EXAMPLE', 'dbpass99'],
    keep: ['username=ada', 'remember=1', 'postgres://app:', '@db:5432/x'],
  },
  {
    record: base({ user_agent: 'bot/1.0 Basic YWRhOmh1bnRlcjI=', path: '/v1/cards/4242424242424242' }),
    secrets: ['YWRhOmh1bnRlcjI=', '4242424242424242'],
    keep: ['bot/1.0 Basic ', '/v1/cards/'],
  },
];

describe.skipIf(!luajit)('shardline.lua under LuaJIT (needs luajit + lua-cjson, skipped without)', () => {
  it('leaves records without secrets exactly as they were (code 0)', () => {
    // Act
    const results = runFilter(cleanCorpus);

    // Assess
    expect(results).toHaveLength(cleanCorpus.length);
    results.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.record).toEqual(cleanCorpus[i]);
    });
  });

  it('redacts every planted secret and changes nothing else', () => {
    // Act
    const results = runFilter(secretCorpus.map((c) => c.record));

    // Assess
    results.forEach((r, i) => {
      const { record, secrets, keep } = secretCorpus[i]!;
      const text = leaves(r.record).join('\n');
      expect(r.code).toBe(2);
      for (const secret of secrets) expect(text).not.toContain(secret);
      for (const kept of keep) expect(text).toContain(kept);
      for (const field of ['timestamp', 'request_id', 'project_id', 'method', 'status', 'latency_ms', 'ip']) {
        expect(r.record[field]).toEqual(record[field]);
      }
      expect(Object.keys(r.record).sort()).toEqual(Object.keys(record).sort());
      if (record.headers !== undefined) {
        expect(Object.keys(r.record.headers as Rec).sort()).toEqual(
          Object.keys(record.headers as Rec).sort(),
        );
      }
    });
  });

  it('is idempotent: a record redacted twice equals a record redacted once', () => {
    // Prepare
    const once = runFilter(secretCorpus.map((c) => c.record)).map((r) => r.record);

    // Act
    const twice = runFilter(once);

    // Assess
    expect(twice.map((r) => r.code)).toEqual(once.map(() => 0));
    expect(twice.map((r) => r.record)).toEqual(once);
  });

  it('drops the captured /health lines', () => {
    // Act
    const results = runFilter(captured);

    // Assess
    expect(results.filter((r) => r.code === -1).length).toBe(
      captured.filter((r) => r.path === '/health').length,
    );
    expect(captured.some((r) => r.path === '/health')).toBe(true);
  });

  it('drops configured health-check paths (code -1), with or without a query or trailing slash', () => {
    // Prepare
    const records = [
      '/healthz',
      '/health/',
      '/readyz?verbose=1',
      '/metrics',
      '/health/deep',
      '/v1/health',
    ].map((path) => base({ path }));

    // Act
    const byDefault = runFilter(records).map((r) => r.code);
    const configured = runFilter(records, { SHARDLINE_DROP_PATHS: '/metrics, /health/deep' }).map(
      (r) => r.code,
    );
    const none = runFilter(records, { SHARDLINE_DROP_PATHS: '' }).map((r) => r.code);

    // Assess
    expect(byDefault).toEqual([-1, -1, -1, 0, 0, 0]);
    expect(configured).toEqual([0, 0, 0, -1, -1, 0]);
    expect(none).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('adds service, environment, project, pod and node where missing, never over the app’s values', () => {
    // Prepare
    const env = {
      SHARDLINE_SERVICE: 'checkout',
      SHARDLINE_ENVIRONMENT: 'prod',
      SHARDLINE_PROJECT_ID: 'proj_default',
      POD_NAME: 'checkout-7d9f-abc',
      NODE_NAME: 'ip-10-0-1-2',
    };

    // Act
    const [filled, kept] = runFilter(
      [base({ project_id: undefined }), base({ service: 'own', environment: 'staging' })],
      env,
    );

    // Assess
    expect(filled!.record).toMatchObject({
      service: 'checkout',
      environment: 'prod',
      project_id: 'proj_default',
      pod_name: 'checkout-7d9f-abc',
      node_name: 'ip-10-0-1-2',
    });
    expect(kept!.record).toMatchObject({ service: 'own', environment: 'staging', project_id: 'proj_alpha' });
  });

  it('generates a request id only when neither request_id nor an x-request-id header is there', () => {
    // Prepare
    const records = [
      base({ request_id: undefined }),
      base({ request_id: undefined, latency_ms: 13 }),
      base({ request_id: undefined, headers: { 'X-Request-Id': 'hdr-1' } }),
    ];

    // Act
    const [a, b, c] = runFilter(records).map((r) => r.record);

    // Assess
    expect(a!.request_id).toMatch(/^fb-[0-9a-f]{16}$/);
    expect(b!.request_id).toMatch(/^fb-[0-9a-f]{16}$/);
    expect(b!.request_id).not.toBe(a!.request_id);
    expect(c!.request_id).toBeUndefined();
  });

  it('derives the id from the record, so a client resending it (forward, HTTP) resends the same id', () => {
    // Prepare: the same record, its keys in another order, with an empty id
    const record = base({ request_id: undefined, query: { b: '2', a: '1' } });
    const reordered = Object.fromEntries(Object.entries(record).reverse());

    // Act
    const [first] = runFilter([record]).map((r) => r.record);
    const [again, empty] = runFilter([reordered, { ...record, request_id: '' }]).map((r) => r.record);

    // Assess
    expect(again!.request_id).toBe(first!.request_id);
    expect(empty!.request_id).toBe(first!.request_id);
  });

  it('derives the id of a tailed line from its file and offset: a re-read line gets the same id', () => {
    // Prepare
    const line = (offset: number): Rec =>
      base({ request_id: undefined, _file: '/logs/app.jsonl', _offset: offset });

    // Act
    const first = runFilter([line(0), line(412)], { POD_NAME: 'p1' }).map((r) => r.record);
    const reread = runFilter([line(0)], { POD_NAME: 'p1' }).map((r) => r.record);

    // Assess
    expect(first[0]!.request_id).toMatch(/^fb-[0-9a-f]{16}$/);
    expect(reread[0]!.request_id).toBe(first[0]!.request_id);
    expect(first[1]!.request_id).not.toBe(first[0]!.request_id);
    expect(first[0]).not.toHaveProperty('_file');
    expect(first[0]).not.toHaveProperty('_offset');
  });

  it('turns parsed nginx / Envoy fields into schema v1 types (shardline_access_log)', () => {
    // Prepare
    const nginx = {
      ip: '198.51.100.7, 10.0.0.1',
      method: 'GET',
      path: '/v1/users/42',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes_out: 512,
      referer: '-',
      user_agent: 'curl/8.5.0',
      request_time_s: 0.0125,
      bytes_in: 230,
      request_id: '-',
      authority: 'api.example.com',
    };

    // Act
    const [r] = runFilter([nginx], {}, 'shardline_access_log');

    // Assess
    expect(r!.record).toEqual({
      ip: '198.51.100.7',
      method: 'GET',
      path: '/v1/users/42',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes_out: 512,
      user_agent: 'curl/8.5.0',
      latency_ms: 12.5,
      bytes_in: 230,
      headers: { host: 'api.example.com' },
      timestamp: '2025-01-15T10:00:00.250Z',
    });
  });
});
