import { isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type RequestLog, RequestLogV1 } from '../../schemas/request-log.ts';
import { createRequestLog, generateRequestLogs } from './traffic-generator.ts';

const START = Date.parse('2025-01-15T10:00:00.000Z');
const sample = (n: number, seed = 11): RequestLog[] => [
  ...generateRequestLogs(n, { seed, startTime: START, ratePerSecond: 100 }),
];

const share = (logs: readonly RequestLog[], predicate: (log: RequestLog) => boolean): number =>
  logs.filter(predicate).length / logs.length;

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};

const v4Number = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const inCidr = (ip: string, cidr: string): boolean => {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = v4Number(base as string);
  const n = v4Number(ip);
  return n >= start && n < start + size;
};
const NON_PUBLIC_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/3',
];

describe('generateRequestLogs', () => {
  const logs = sample(20_000);

  it('gives the same traffic for the same seed, and other traffic for another seed', () => {
    // Prepare
    const options = { seed: 5, startTime: START, ratePerSecond: 50 };

    // Act
    const first = [...generateRequestLogs(300, options)];
    const second = [...generateRequestLogs(300, options)];
    const other = [...generateRequestLogs(300, { ...options, seed: 6 })];

    // Assess
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(other.filter((log, i) => log.request_id === first[i]?.request_id)).toHaveLength(0);
  });

  it('rebuilds any log on its own: createRequestLog(i) and firstIndex match the sequence', () => {
    // Prepare
    const options = { seed: 5, startTime: START, ratePerSecond: 50 };
    const sequence = [...generateRequestLogs(200, options)];

    // Act
    const single = createRequestLog(137, options);
    const tail = [...generateRequestLogs(50, { ...options, firstIndex: 150 })];

    // Assess
    expect(single).toEqual(sequence[137]);
    expect(tail).toEqual(sequence.slice(150));
  });

  it('produces only logs that RequestLogV1 accepts, with unique request ids', () => {
    // Act
    const failures = logs.filter((log) => !RequestLogV1.safeParse(log).success);
    const ids = new Set(logs.map((log) => log.request_id ?? String(log.headers?.['x-request-id'])));

    // Assess
    expect(failures).toEqual([]);
    expect(ids.size).toBe(logs.length);
  });

  it('spaces timestamps by the rate, starting at startTime', () => {
    // Act
    const times = logs.map((log) =>
      typeof log.timestamp === 'number' ? log.timestamp : Date.parse(String(log.timestamp)),
    );

    // Assess
    expect(Math.min(...times)).toBeGreaterThanOrEqual(START - 10);
    expect(Math.max(...times)).toBeLessThanOrEqual(START + (logs.length / 100) * 1000 + 10);
    expect(times.filter((t, i) => i > 0 && t < (times[i - 1] as number) - 10)).toEqual([]);
  });

  it('mixes statuses like a healthy API: ~90% 2xx, some 4xx of several kinds, a few 5xx', () => {
    // Act
    const klass = (c: number) => share(logs, (log) => Math.floor(log.status / 100) === c);
    const codes = new Set(logs.map((log) => log.status));

    // Assess
    expect(klass(2)).toBeGreaterThan(0.86);
    expect(klass(2)).toBeLessThan(0.94);
    expect(klass(4)).toBeGreaterThan(0.04);
    expect(klass(4)).toBeLessThan(0.12);
    expect(klass(5)).toBeGreaterThan(0.003);
    expect(klass(5)).toBeLessThan(0.03);
    for (const code of [200, 201, 204, 401, 404, 422, 429, 500, 503]) expect(codes).toContain(code);
  });

  it('skews traffic to one big project with several small ones', () => {
    // Act
    const counts = new Map<string, number>();
    for (const log of logs) counts.set(log.project_id, (counts.get(log.project_id) ?? 0) + 1);
    const shares = [...counts.values()].map((c) => c / logs.length).sort((a, b) => b - a);

    // Assess
    expect(counts.size).toBeGreaterThanOrEqual(5);
    expect(shares[0]).toBeGreaterThan(0.45);
    expect(shares.at(-1)).toBeLessThan(0.05);
  });

  it('uses a realistic method mix and REST paths with ids and query strings', () => {
    // Act
    const method = (m: string) => share(logs, (log) => log.method === m);

    // Assess
    expect(method('GET')).toBeGreaterThan(0.6);
    expect(method('POST')).toBeGreaterThan(0.1);
    expect(method('PATCH') + method('PUT')).toBeGreaterThan(0.005);
    expect(method('DELETE')).toBeGreaterThan(0.003);
    expect(logs.some((log) => /^\/v1\/users\/\d+$/.test(log.path))).toBe(true);
    expect(
      logs.some((log) =>
        /^\/v1\/orders\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(log.path),
      ),
    ).toBe(true);
    expect(logs.some((log) => /^\/v2\/products\/sku-[A-Z]{2}\d+$/.test(log.path))).toBe(true);
    expect(logs.some((log) => /^\/v1\/search\?q=[^&]+&page=\d+$/.test(log.path))).toBe(true);
  });

  it('has log-normal latencies with a slow tail and some very slow calls', () => {
    // Act
    const latencies = logs.map((log) => log.latency_ms);

    // Assess
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(0);
    expect(quantile(latencies, 0.5)).toBeGreaterThan(5);
    expect(quantile(latencies, 0.5)).toBeLessThan(150);
    expect(quantile(latencies, 0.99)).toBeGreaterThan(5 * quantile(latencies, 0.5));
    expect(latencies.filter((ms) => ms > 5_000).length).toBeGreaterThan(5);
  });

  it('comes from public addresses only, IPv4 and IPv6, never private or reserved ranges', () => {
    // Act
    const ips = logs.map((log) => String(log.ip));
    const v4 = ips.filter((ip) => isIPv4(ip));
    const v6 = ips.filter((ip) => isIPv6(ip));
    const nonPublic = v4.filter((ip) => NON_PUBLIC_V4.some((cidr) => inCidr(ip, cidr)));

    // Assess
    expect(v4.length + v6.length).toBe(ips.length);
    expect(nonPublic).toEqual([]);
    expect(v6.filter((ip) => !/^[23][0-9a-f]{3}:/.test(ip))).toEqual([]);
    expect(v6.length / ips.length).toBeGreaterThan(0.05);
    expect(new Set(v4.map((ip) => ip.split('.')[0])).size).toBeGreaterThan(20);
  });

  it('sends real-world user agents: browsers, mobile apps, scripts, load tests and crawlers', () => {
    // Act
    const uas = new Set(logs.map((log) => String(log.user_agent)));
    const has = (re: RegExp) => [...uas].some((ua) => re.test(ua));

    // Assess
    expect(uas.size).toBeGreaterThan(30);
    for (const re of [
      /Chrome\/\d+/,
      /Firefox\/\d+/,
      /Version\/[\d.]+ Safari/,
      /iPhone OS/,
      /iPad/,
      /Android/,
      /^curl\//,
    ]) {
      expect(has(re), String(re)).toBe(true);
    }
    for (const re of [/^python-requests\//, /^okhttp\//, /Googlebot/, /^k6\//])
      expect(has(re), String(re)).toBe(true);
  });

  it('carries secrets for the pipeline to redact: bearer tokens, cookies, keys in query strings', () => {
    // Act
    const auth = share(logs, (log) => /^Bearer \S{20,}/.test(String(log.headers?.authorization ?? '')));
    const cookie = share(logs, (log) => /session=\w+/.test(String(log.headers?.cookie ?? '')));
    const inQuery = share(logs, (log) =>
      /[?&](api_key|token|access_token)=/.test(`${log.path}?${log.query ?? ''}`),
    );
    const password = share(logs, (log) => (log.request_body ?? '').includes('"password"'));

    // Assess
    expect(auth).toBeGreaterThan(0.2);
    expect(cookie).toBeGreaterThan(0.1);
    expect(inQuery).toBeGreaterThan(0.03);
    expect(password).toBeGreaterThan(0.001);
  });

  it('is fast enough to feed the 1M-record benchmark (> 50k logs/s even on a busy CI box)', () => {
    // Prepare
    const n = 100_000;
    [...generateRequestLogs(1_000, { seed: 99 })];

    // Act
    const t0 = performance.now();
    let statuses = 0;
    for (const log of generateRequestLogs(n, { seed: 99 })) statuses += log.status;
    const perSecond = n / ((performance.now() - t0) / 1000);

    // Assess
    expect(statuses).toBeGreaterThan(n * 100);
    expect(perSecond).toBeGreaterThan(50_000);
  });
});
