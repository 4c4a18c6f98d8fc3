import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RequestLogV1 } from '../../schemas/request-log.ts';

/**
 * The regex parsers of fluent-bit/parsers.yaml on real-format nginx and Envoy lines.
 *
 * Fluent Bit compiles them with Onigmo (Ruby syntax); here they run as JavaScript RegExp. The
 * constructs used (named groups `(?<name>…)`, `[^…]`, `\d`, `\[`, `(?:…)?`) mean the same in
 * both. One difference: in Ruby syntax `^` and `$` match at every line boundary, in JavaScript
 * (without the m flag) only at the ends of the input; Fluent Bit hands the parser one line, so
 * the outcome is the same.
 */

const PARSERS = resolve(import.meta.dirname, '../../fluent-bit/parsers.yaml');
type Parser = { name: string; format: string; regex?: string; types?: string; time_key?: string };
const parsers = (parse(readFileSync(PARSERS, 'utf8')) as { parsers: Parser[] }).parsers;

/** What Fluent Bit's regex parser emits: named groups, `types` casts applied, time_key removed. */
function runParser(name: string, line: string): Record<string, unknown> | undefined {
  const parser = parsers.find((p) => p.name === name)!;
  const match = new RegExp(parser.regex!).exec(line);
  if (match?.groups === undefined) return undefined;
  const types = new Map((parser.types ?? '').split(/\s+/).map((t) => t.split(':') as [string, string]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(match.groups)) {
    if (value === undefined || key === parser.time_key) continue;
    const type = types.get(key);
    out[key] =
      type === 'integer' ? Number.parseInt(value, 10) : type === 'float' ? Number.parseFloat(value) : value;
  }
  return out;
}

const NGINX_SHARDLINE =
  '203.0.113.9 - - [15/Jan/2025:10:00:00 +0000] "GET /v1/users/42?expand=orders HTTP/1.1" 200 512 "-" ' +
  '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36" ' +
  '0.013 230 "req-000001" "api.example.com"';
const NGINX_COMBINED =
  '192.0.2.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 ' +
  '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"';
const ENVOY_DEFAULT =
  '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" ' +
  '"nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"';
const ENVOY_UPSTREAM_FAILURE =
  '[2024-05-01T12:00:00.123Z] "GET /v1/orders/9?token=abc HTTP/1.1" 503 UF,URX 0 91 30 - ' +
  '"203.0.113.5,10.0.0.2" "curl/8.5.0" "f3b1c1de-4c2e-4a8e-9b0a-2b9d8d1f0e11" "api.example.com" "10.0.3.4:8080"';

describe('parsers.yaml', () => {
  it('defines the JSON-lines, nginx and Envoy parsers', () => {
    // Act
    const names = parsers.map((p) => `${p.name}:${p.format}`);

    // Assess
    expect(names).toEqual(['shardline_json:json', 'shardline_nginx:regex', 'shardline_envoy:regex']);
  });

  it('nginx `log_format shardline`: every schema v1 field nginx knows, typed', () => {
    // Act
    const record = runParser('shardline_nginx', NGINX_SHARDLINE);

    // Assess
    expect(record).toEqual({
      ip: '203.0.113.9',
      method: 'GET',
      path: '/v1/users/42?expand=orders',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes_out: 512,
      referer: '-',
      user_agent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      request_time_s: 0.013,
      bytes_in: 230,
      request_id: 'req-000001',
      authority: 'api.example.com',
    });
  });

  it('nginx plain "combined": parsed, without latency (the record then fails validation visibly)', () => {
    // Act
    const record = runParser('shardline_nginx', NGINX_COMBINED);

    // Assess
    expect(record).toMatchObject({ ip: '192.0.2.1', method: 'GET', path: '/apache_pb.gif', status: 200 });
    expect(record).not.toHaveProperty('request_time_s');
    expect(record).not.toHaveProperty('user');
  });

  it('Envoy default format, including upstream failures with response flags', () => {
    // Act
    const ok = runParser('shardline_envoy', ENVOY_DEFAULT);
    const failed = runParser('shardline_envoy', ENVOY_UPSTREAM_FAILURE);

    // Assess
    expect(ok).toEqual({
      timestamp: '2016-04-15T20:17:00.310Z',
      method: 'POST',
      path: '/api/v1/locations',
      protocol: 'HTTP/2',
      status: 204,
      bytes_in: 154,
      bytes_out: 0,
      latency_ms: 226,
      ip: '10.0.35.28',
      user_agent: 'nsq2http',
      request_id: 'cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2',
      authority: 'locations',
      upstream: 'tcp://10.0.2.1:80',
    });
    expect(failed).toMatchObject({ status: 503, latency_ms: 30, ip: '203.0.113.5,10.0.0.2', bytes_out: 91 });
  });

  it('does not match other formats (they stay as raw `log` and are dead-lettered downstream)', () => {
    // Act / Assess
    expect(runParser('shardline_nginx', ENVOY_DEFAULT)).toBeUndefined();
    expect(runParser('shardline_envoy', NGINX_SHARDLINE)).toBeUndefined();
    expect(runParser('shardline_nginx', '{"method":"GET"}')).toBeUndefined();
  });
});

// CI installs LuaJIT (.ci/run), so there a missing interpreter fails the suite instead of skipping it.
const luajit = spawnSync('luajit', ['-e', 'require("cjson")']).status === 0 || process.env.CI === 'true';

describe.skipIf(!luajit)(
  'parser → shardline.lua → schema v1 (needs luajit + lua-cjson, skipped without)',
  () => {
    it('nginx and Envoy lines become valid, redacted schema v1 records', () => {
      // Prepare
      const lines = [
        runParser('shardline_nginx', NGINX_SHARDLINE)!,
        runParser('shardline_envoy', ENVOY_DEFAULT)!,
        runParser('shardline_envoy', ENVOY_UPSTREAM_FAILURE)!,
      ];
      const script = resolve(import.meta.dirname, '../../fluent-bit/shardline.lua');
      const harness = resolve(import.meta.dirname, 'lua-harness.lua');
      const cases = lines.flatMap((record) => [
        JSON.stringify({ call: 'shardline_access_log', tag: 't', ts: 1736935200, record }),
      ]);

      // Act: the access-log function, then the edge function, as the access-log sidecar chains them.
      const run = (input: string) =>
        spawnSync('luajit', [harness, script], {
          input,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', SHARDLINE_PROJECT_ID: 'proj_edge' },
        }).stdout;
      const normalised = run(`${cases.join('\n')}\n`)
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { record: unknown }).record);
      const edged = run(
        `${normalised.map((record) => JSON.stringify({ call: 'shardline_edge', tag: 't', ts: 1736935200, record })).join('\n')}\n`,
      )
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { record: Record<string, unknown> }).record);

      // Assess
      for (const record of edged) expect(RequestLogV1.safeParse(record).success).toBe(true);
      expect(edged[0]).toMatchObject({
        latency_ms: 13,
        timestamp: '2025-01-15T10:00:00.000Z',
        project_id: 'proj_edge',
      });
      expect(edged[2]).toMatchObject({ ip: '203.0.113.5', path: '/v1/orders/9?token=REDACTED' });
    });
  },
);
