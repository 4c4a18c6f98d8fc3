import { describe, expect, it } from 'vitest';
import { formatDouble16g, toFluentBitLine } from './fluent-bit-line.ts';

/** Record Data captured from a real Fluent Bit 5.1.1 (fluent-bit/README.md, kinesis_tail and kinesis_dummy runs). */
const CAPTURED_TAIL = String.raw`{"timestamp":"2025-01-15T10:00:00.411Z","request_id":"req-000003","project_id":"proj_alpha","method":"POST","path":"/v1/orders/9f1c/items","status":201,"latency_ms":121.5,"ip":"203.0.113.22","user_agent":"python-requests/2.32.3","headers":{"host":"api.example.com","content-type":"application/json","x-forwarded-for":"198.51.100.4","x-request-id":"req-000003"},"bytes_in":123,"bytes_out":521,"note":"unicode \u00e9 \u00fc \u65e5\u672c \"quoted\" back\\slash\ttab","fb_time":"2025-01-15T10:00:00.411Z"}`;
const CAPTURED_DUMMY = `{"method":"GET","path":"/v1/users/42","status":200,"latency_ms":12.7,"ip":"203.0.113.9","user_agent":"curl/8.5.0","headers":{"host":"api.example.com","x-request-id":"abc-123"},"project_id":"proj_alpha","timestamp":"2025-01-15T10:00:00.000Z","fb_time":"2026-11-22T09:45:40"}`;

const tailLog = () => ({
  timestamp: '2025-01-15T10:00:00.411Z',
  request_id: 'req-000003',
  project_id: 'proj_alpha',
  method: 'POST',
  path: '/v1/orders/9f1c/items',
  status: 201,
  latency_ms: 121.5,
  ip: '203.0.113.22',
  user_agent: 'python-requests/2.32.3',
  headers: {
    host: 'api.example.com',
    'content-type': 'application/json',
    'x-forwarded-for': '198.51.100.4',
    'x-request-id': 'req-000003',
  },
  bytes_in: 123,
  bytes_out: 521,
  note: 'unicode é ü 日本 "quoted" back\\slash\ttab',
});

describe('toFluentBitLine', () => {
  it('reproduces a captured Fluent Bit record byte for byte, escapes and fb_time included', () => {
    // Act
    const line = toFluentBitLine(tailLog(), Date.parse('2025-01-15T10:00:00.411Z'));

    // Assess
    expect(line).toBe(`${CAPTURED_TAIL}\n`);
  });

  it('keeps the app key order, writes a string fb_time as given and floats as %.16g', () => {
    // Prepare
    const dummy = JSON.parse(CAPTURED_DUMMY.replace(/,"fb_time":"[^"]*"/, ''));

    // Act
    const line = toFluentBitLine(dummy, '2026-11-22T09:45:40');

    // Assess
    expect(line).toBe(`${CAPTURED_DUMMY}\n`);
  });

  it('appends fb_time as the last key, replacing a key of that name, and ends with one newline', () => {
    // Act
    const line = toFluentBitLine({ fb_time: 'old', a: 1, b: { c: 'd' } }, 0);

    // Assess
    expect(line).toBe('{"a":1,"b":{"c":"d"},"fb_time":"1970-01-01T00:00:00.000Z"}\n');
    expect(toFluentBitLine({}, 'x')).toBe('{"fb_time":"x"}\n');
  });

  it('is pure ASCII: characters beyond U+FFFF become surrogate pairs, lower-case hex', () => {
    // Act
    const line = toFluentBitLine({ text: 'Très bien 👍 ☃', nested: ['Zoë'] }, 'x');

    // Assess
    const expected = String.raw`{"text":"Tr\u00e8s bien \ud83d\udc4d \u2603","nested":["Zo\u00eb"],"fb_time":"x"}`;
    expect(line).toBe(`${expected}\n`);
    expect(/^[\x00-\x7f]*$/.test(line)).toBe(true);
    expect(JSON.parse(line).text).toBe('Très bien 👍 ☃');
  });

  it('prints floats as the msgpack-to-JSON step does, nested ones included', () => {
    // Act
    const line = toFluentBitLine({ latency_ms: 71.546, ok: 9.5, n: 12, deep: { v: 9.95 } }, 'x');

    // Assess
    expect(line).toBe(
      '{"latency_ms":71.54600000000001,"ok":9.5,"n":12,"deep":{"v":9.949999999999999},"fb_time":"x"}\n',
    );
  });
});

describe('formatDouble16g', () => {
  it.each([
    [0.1, '0.1'],
    [9.95, '9.949999999999999'],
    [121.5, '121.5'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [-0.000123, '-0.000123'],
    [123456789012345.25, '123456789012345.2'],
    [2829172838751524.5, '2829172838751524'],
    [2829172838751523.5, '2829172838751524'],
    [1.7976931348623157e308, '1.797693134862316e+308'],
    [5e-324, '4.940656458412465e-324'],
  ])('formats %d like C printf("%%.16g") → %s', (x, expected) => {
    expect(formatDouble16g(x)).toBe(expected);
  });
});
