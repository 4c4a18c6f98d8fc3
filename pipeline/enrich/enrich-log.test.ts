import { beforeAll, describe, expect, it } from 'vitest';
import type { RequestLog } from '../../schemas/request-log.ts';
import { REQUEST_COLUMNS, RequestRowSchema } from '../../schemas/request-row.ts';
import type { EnrichContext, Enricher } from './enrich-log.ts';
import { createEnricher } from './enrich-log.ts';
import { GeoIp } from './geo-ip.ts';
import { UserAgentClassifier } from './user-agent.ts';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

const requestLogFactory = (overrides: Partial<RequestLog> = {}): RequestLog => ({
  timestamp: '2025-01-15T10:00:00.000Z',
  request_id: 'req-000001',
  project_id: 'proj_alpha',
  method: 'get',
  path: '/v1/users/42/orders/9f1c2a7b?expand=items&access_token=tok123',
  status: 404,
  latency_ms: 12.7,
  bytes_in: 0,
  bytes_out: 512,
  ip: '8.8.8.8',
  user_agent: 'curl/8.5.0',
  headers: { Host: 'api.example.com', Authorization: 'Bearer tok123', 'x-request-id': 'req-000001' },
  request_body: '{"email":"a@example.com","password":"hunter2"}',
  response_body: '{"error":"not found"}',
  protocol: 'HTTP/1.1',
  service: 'orders-api',
  environment: 'prod',
  ...overrides,
});

const contextFactory = (overrides: Partial<EnrichContext> = {}): EnrichContext => ({
  shardId: 'shardId-000000000001',
  sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
  subSequence: 3,
  arrivedAt: new Date('2025-01-15T10:00:01.250Z'),
  requestId: 'req-000001',
  tsMicros: 1_736_935_200_000_000n,
  ...overrides,
});

describe('createEnricher', () => {
  let enrich: Enricher;
  let geoIp: GeoIp;

  beforeAll(async () => {
    geoIp = await GeoIp.open();
    enrich = createEnricher({ geoIp, userAgents: new UserAgentClassifier(), bodyCapChars: 1000 });
  });

  it('builds every column of a valid row', () => {
    // Prepare
    const log = requestLogFactory();
    const ctx = contextFactory();

    // Act
    const row = enrich(log, ctx);

    // Assess
    expect(RequestRowSchema.safeParse(row).success).toBe(true);
    expect(Object.keys(row)).toEqual(REQUEST_COLUMNS.map((c) => c.name));
    expect(row).toMatchObject({
      ts: ctx.tsMicros,
      project_id: 'proj_alpha',
      request_id: 'req-000001',
      method: 'GET',
      host: 'api.example.com',
      path: '/v1/users/42/orders/9f1c2a7b',
      query: 'expand=items&access_token=REDACTED',
      endpoint: '/v1/users/{id}/orders/{id}',
      status: 404,
      status_class: '4xx',
      is_error: true,
      latency_ms: 12.7,
      bytes_in: 0,
      bytes_out: 512,
      client_ip: '8.8.8.8',
      country: geoIp.lookup('8.8.8.8').country,
      city: geoIp.lookup('8.8.8.8').city,
      user_agent: 'curl/8.5.0',
      browser: 'curl',
      browser_version: '8',
      os: null,
      device_type: 'bot',
      is_bot: true,
      // Emails are personal data: redacted like secrets.
      request_body: '{"email":"[REDACTED:email]","password":"[REDACTED]"}',
      response_body: '{"error":"not found"}',
      redacted: 'query:access_token,header:authorization,request_body:password,request_body:email',
      protocol: 'HTTP/1.1',
      service: 'orders-api',
      environment: 'prod',
      ingest_ts: BigInt(ctx.arrivedAt.getTime()) * 1000n,
      shard_id: ctx.shardId,
      sequence_number: ctx.sequenceNumber,
      sub_sequence: 3,
    });
    expect(row.country).toBe('US');
    expect(JSON.parse(row.headers ?? '')).toEqual({
      host: 'api.example.com',
      authorization: 'Bearer [REDACTED]',
      'x-request-id': 'req-000001',
    });
  });

  it('fills optional columns with nulls for a minimal log', () => {
    // Prepare
    const log: RequestLog = { project_id: 'p', method: 'POST', path: '/', status: 201, latency_ms: 0 };

    // Act
    const row = enrich(log, contextFactory());

    // Assess
    expect(RequestRowSchema.safeParse(row).success).toBe(true);
    expect(row).toMatchObject({
      host: null,
      path: '/',
      query: null,
      endpoint: '/',
      status_class: '2xx',
      is_error: false,
      bytes_in: null,
      bytes_out: null,
      client_ip: null,
      country: null,
      city: null,
      user_agent: null,
      browser: null,
      device_type: 'other',
      is_bot: false,
      headers: null,
      request_body: null,
      response_body: null,
      redacted: null,
      protocol: null,
      service: null,
      environment: null,
    });
  });

  it.each([
    ['/search', 'q=shoes', 'q=shoes'],
    ['/search', '?q=shoes', 'q=shoes'],
    ['/search?page=2', 'q=shoes', 'page=2&q=shoes'],
    ['/search?q=shoes', 'q=shoes', 'q=shoes'],
    [
      '/search',
      { q: 'red shoes', size: [41, 42].map(String), api_key: 'k1' },
      'q=red%20shoes&size=41&size=42&api_key=REDACTED',
    ],
    ['/search#frag', undefined, null],
    ['/search?q=a#frag', undefined, 'q=a'],
  ] as const)('takes the query of %s with query field %j', (path, query, expected) => {
    const row = enrich(requestLogFactory({ path, query: query as RequestLog['query'] }), contextFactory());
    expect(row.query).toBe(expected);
    expect(row.path).toBe('/search');
  });

  it('keeps secrets in the path out of every column', () => {
    // Prepare
    const card = '4111111111111111';
    const log = requestLogFactory({
      path: `/v1/reset/${JWT}/cards/${card}?sig=abc`,
      request_body: undefined,
    });

    // Act
    const row = enrich(log, contextFactory());

    // Assess
    const stored = JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    expect(stored).not.toContain(JWT);
    expect(stored).not.toContain(card);
    expect(row.path).toBe('/v1/reset/[REDACTED:jwt]/cards/[REDACTED:card]');
    expect(row.endpoint).toBe('/v1/reset/{id}/cards/{id}');
    expect(row.redacted).toBe('path:jwt,path:card,query:sig,header:authorization');
  });

  it('falls back to the forwarded client address and the user-agent header', () => {
    // Prepare
    const ua =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';
    const log = requestLogFactory({
      ip: undefined,
      user_agent: undefined,
      headers: { 'x-forwarded-for': '81.2.69.142, 10.0.0.1', 'user-agent': ua },
    });

    // Act
    const row = enrich(log, contextFactory());

    // Assess
    expect(row.client_ip).toBe('81.2.69.142');
    expect(row.country).toBe(geoIp.lookup('81.2.69.142').country);
    expect(row.user_agent).toBe(ua);
    expect(row).toMatchObject({ browser: 'Mobile Safari', os: 'iOS', device_type: 'mobile', is_bot: false });
  });

  it.each([
    [101, '1xx', false],
    [302, '3xx', false],
    [399, '3xx', false],
    [400, '4xx', true],
    [503, '5xx', true],
  ])('classes status %d as %s', (status, statusClass, isError) => {
    const row = enrich(requestLogFactory({ status }), contextFactory());
    expect(row.status_class).toBe(statusClass);
    expect(row.is_error).toBe(isError);
  });

  it('caps bodies at the configured size and stores none with a cap of 0', () => {
    // Prepare
    const log = requestLogFactory({ response_body: 'z'.repeat(5000) });
    const noBodies = createEnricher({
      geoIp: GeoIp.disabled(),
      userAgents: new UserAgentClassifier(),
      bodyCapChars: 0,
    });

    // Act
    const capped = enrich(log, contextFactory());
    const none = noBodies(log, contextFactory());

    // Assess
    expect(capped.response_body).toHaveLength(1000);
    expect(none.response_body).toBeNull();
    expect(none.request_body).toBeNull();
    expect(none.country).toBeNull();
  });

  it('keeps only allowlisted header values when an allowlist is set', () => {
    // Prepare
    const strict = createEnricher({
      geoIp: GeoIp.disabled(),
      userAgents: new UserAgentClassifier(),
      headerAllowlist: ['Host', 'x-request-id'],
    });
    const log = requestLogFactory({
      headers: {
        Host: 'api.example.com',
        'x-request-id': 'req-1',
        'x-custom-thing': 'opaque',
        accept: '*/*',
      },
    });

    // Act
    const row = strict(log, contextFactory());

    // Assess
    expect(JSON.parse(row.headers ?? '{}')).toEqual({
      host: 'api.example.com',
      'x-request-id': 'req-1',
      'x-custom-thing': '[REDACTED]',
      accept: '[REDACTED]',
    });
    expect(row.redacted).toContain('headers:not_allowed');
  });

  it('redacts the user agent column, and derives browser and endpoint from redacted values', () => {
    // Act
    const row = enrich(
      requestLogFactory({
        user_agent: `MyApp/1.0 (Bearer ${JWT})`,
        path: `/v1/reset/${JWT};jsessionid=AbC123xYz987QwE456rTy`,
      }),
      contextFactory(),
    );

    // Assess
    expect(row.user_agent).toBe('MyApp/1.0 (Bearer [REDACTED])');
    expect(row.path).toBe('/v1/reset/[REDACTED:jwt];jsessionid=[REDACTED]');
    expect(row.endpoint).toBe('/v1/reset/{id}');
    expect(JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('AbC123xYz');
  });
});
