import type { RequestRow } from '../../schemas/request-row.ts';

/**
 * Deterministic, realistic request rows for tests and benchmarks: a few projects and endpoints,
 * a few hundred repeated user agents, unique request ids, small JSON headers and bodies, like the
 * traffic the encoder sees. Same `seed`, same rows.
 */
export const sampleRequestRows = (count: number, options: { seed?: number; startMicros?: bigint } = {}) => {
  let state = (options.seed ?? 1) >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;

  const start = options.startMicros ?? 1_736_935_200_000_000n;
  const rows: RequestRow[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const [method, endpoint] = pick(ENDPOINTS);
    const id = Math.floor(next() * 100_000);
    const status = pick(STATUSES);
    const ua = USER_AGENTS[Math.floor(next() * next() * USER_AGENTS.length)] as string;
    const ts = start + BigInt(i) * 997n + BigInt(Math.floor(next() * 5_000_000));
    const bot = ua.includes('bot');
    rows[i] = {
      ts,
      project_id: pick(PROJECTS),
      request_id: `req-${options.seed ?? 1}-${i.toString(36).padStart(8, '0')}`,
      method,
      host: 'api.example.com',
      path: endpoint.replace('{id}', String(id)),
      query: next() < 0.3 ? `page=${Math.floor(next() * 20)}&limit=50` : null,
      endpoint,
      status,
      status_class: `${Math.floor(status / 100)}xx`,
      is_error: status >= 400,
      latency_ms: Math.round(next() * 250_000) / 1000,
      bytes_in: method === 'GET' ? 0 : Math.floor(next() * 4096),
      bytes_out: Math.floor(next() * 65_536),
      client_ip: `203.0.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}`,
      country: pick(COUNTRIES),
      city: next() < 0.2 ? null : pick(CITIES),
      user_agent: ua,
      browser: ua.split('/')[0] ?? null,
      browser_version: String(100 + Math.floor(next() * 30)),
      os: pick(OSES),
      device_type: bot ? 'bot' : pick(DEVICES),
      is_bot: bot,
      headers: `{"accept":"application/json","x-request-id":"req-${i}"}`,
      request_body:
        method === 'GET' ? null : `{"name":"user ${id}","email":"[REDACTED]","items":[${id % 7}]}`,
      response_body: status >= 400 ? `{"error":"status ${status}","request":"${i}"}` : null,
      redacted: method === 'GET' ? null : 'request_body.email',
      protocol: 'HTTP/1.1',
      service: pick(SERVICES),
      environment: 'production',
      ingest_ts: ts + 800_000n,
      shard_id: `shardId-00000000000${i % 4}`,
      sequence_number: (
        49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(i)
      ).toString(),
      sub_sequence: i % 10,
    };
  }
  return rows;
};

const PROJECTS = ['proj_alpha', 'proj_beta', 'proj_gamma', 'proj_delta', 'proj_epsilon'] as const;
const ENDPOINTS = [
  ['GET', '/v1/users/{id}'],
  ['GET', '/v1/users'],
  ['POST', '/v1/users'],
  ['GET', '/v1/orders/{id}'],
  ['PUT', '/v1/orders/{id}'],
  ['DELETE', '/v1/orders/{id}'],
  ['GET', '/v1/products'],
  ['GET', '/health'],
] as const;
const STATUSES = [200, 200, 200, 200, 200, 201, 204, 301, 400, 401, 404, 429, 500, 503] as const;
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', null] as const;
const CITIES = ['Berlin', 'Paris', 'London', 'Tokyo', 'São Paulo', 'Mumbai', 'New York'] as const;
const OSES = ['Windows', 'Mac OS', 'Linux', 'iOS', 'Android', null] as const;
const DEVICES = ['desktop', 'mobile', 'tablet', 'other'] as const;
const SERVICES = ['api-gateway', 'billing', 'accounts', null] as const;
const USER_AGENTS = Array.from({ length: 300 }, (_, i) =>
  i % 17 === 0
    ? `Googlebot/2.${i} (+http://www.google.com/bot.html)`
    : `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${100 + (i % 30)}.0.${i}.0 Safari/537.36`,
);
