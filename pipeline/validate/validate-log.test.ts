import { describe, expect, it } from 'vitest';
import { RequestLogV1 } from '../../schemas/request-log.ts';
import { readDecodedRecords } from '../../test/fixtures/fluent-bit/fluent-bit-captures.ts';
import { fastValidateLog } from './fast-check.ts';
import { validateLog } from './validate-log.ts';

function validLog(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    timestamp: '2025-01-15T10:00:00.000Z',
    request_id: 'req-000001',
    project_id: 'proj_alpha',
    method: 'GET',
    path: '/v1/users/42?expand=orders',
    status: 200,
    latency_ms: 12.7,
    bytes_in: 0,
    bytes_out: 512,
    ip: '203.0.113.9',
    user_agent: 'curl/8.5.0',
    headers: { host: 'api.example.com', 'x-request-id': 'req-000001' },
    ...overrides,
  };
}

function without(key: string): Record<string, unknown> {
  const v = validLog();
  delete v[key];
  return v;
}

/** Valid and invalid variants of every field, including the boundaries of each limit. */
function corpus(): Record<string, unknown>[] {
  const values: unknown[] = [
    undefined,
    null,
    '',
    'x',
    'x'.repeat(9),
    'x'.repeat(10),
    'x'.repeat(16),
    'x'.repeat(17),
    'x'.repeat(40),
    'x'.repeat(41),
    'x'.repeat(64),
    'x'.repeat(65),
    'x'.repeat(128),
    'x'.repeat(129),
    'x'.repeat(1024),
    'x'.repeat(1025),
    'x'.repeat(8192),
    'x'.repeat(8193),
    '2025-01-15T10:00:00',
    'not a date at all',
    0,
    -1,
    99,
    100,
    200.5,
    599,
    600,
    1e20,
    2 ** 53,
    2 ** 53 - 1,
    Number.POSITIVE_INFINITY,
    Number.NaN,
    true,
    [],
    ['a'],
    {},
    { a: 'b' },
    { a: ['b', 'c'] },
    { a: 1, b: true },
    { a: null },
    { a: { nested: 1 } },
    { ['x'.repeat(257)]: 'v' },
    { a: 'v'.repeat(8193) },
    Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`h${i}`, 'v'])),
    Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v'])),
  ];
  const fields = Object.keys(RequestLogV1.shape);
  const out: Record<string, unknown>[] = [
    validLog(),
    validLog({ extra: 1 }),
    { ...validLog(), ...JSON.parse('{"__proto__":{"polluted":true}}') },
  ];
  for (const field of fields) {
    out.push(without(field));
    for (const value of values) out.push(validLog({ [field]: value }));
  }
  return out;
}

describe('validateLog', () => {
  it('accepts every log of the real captures, on the fast path', () => {
    const lines = readDecodedRecords('kinesis_tail_1200').map(
      (r) => JSON.parse(r.data) as Record<string, unknown>,
    );
    for (const value of lines) {
      expect(fastValidateLog(value)).toBeDefined();
      const result = validateLog(value);
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.tsMicros).toBe(BigInt(Date.parse(String(value.timestamp))) * 1000n);
    }
  });

  it('has a fast path that accepts only what zod accepts, and returns exactly what zod returns', () => {
    let fast = 0;
    for (const value of corpus()) {
      const zod = RequestLogV1.safeParse(value);
      const fastLog = fastValidateLog(value);
      if (fastLog !== undefined) {
        fast++;
        expect({ value, success: zod.success }).toEqual({ value, success: true });
        expect(fastLog).toEqual(zod.data);
      }
      const result = validateLog(value);
      if (!zod.success) expect({ value, ok: result.ok }).toEqual({ value, ok: false });
    }
    expect(fast).toBeGreaterThan(100);
  });

  it('strips unknown keys, as the schema does, without touching its input', () => {
    const input = { ...validLog(), ...JSON.parse('{"extra":"x","__proto__":{"polluted":true}}') };
    const result = validateLog(input);
    expect(result.ok).toBe(true);
    expect(result.ok && Object.keys(result.log).sort()).toEqual(Object.keys(validLog()).sort());
    expect(result.ok && Object.getPrototypeOf(result.log)).toBe(Object.prototype);
    expect(input.extra).toBe('x');
  });

  it('names the field, what was expected and what came', () => {
    expect(validateLog(validLog({ status: 'abc' }))).toEqual({
      ok: false,
      message: 'status: expected integer 100..599, got a string of 3 characters',
    });
    expect(validateLog(without('project_id'))).toEqual({
      ok: false,
      message: 'project_id: expected string of 1..128 characters, missing',
    });
    const nested = validateLog(validLog({ headers: { host: { a: 1 } } }));
    expect(nested.ok === false && nested.message).toMatch(/^headers\.host: .*got an object of 1 keys$/);
  });

  it('names a key in its message only when it is a short plain name: a key can be a credential', () => {
    const jwt =
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const cases = [
      [{ [jwt]: {} }, /^headers\.<a key of 92 characters>: /],
      [{ sk_live_4eC39HqLyjWDarjtT1zdp7dc: {} }, /^headers\.<a key of 32 characters>: /],
      [{ 'x-api-key': {} }, /^headers\.x-api-key: /],
    ] as const;
    for (const [headers, expected] of cases) {
      const result = validateLog(validLog({ headers }));
      const message = result.ok ? '' : result.message;
      expect(message).toMatch(expected);
      expect(message).not.toMatch(/eyJzdWIi|sk_live_4e/);
    }
  });

  it('bounds a query logged as an object, as a query string is bounded', () => {
    // Prepare: 90,000 parameters made a 583 KB column and most of a second of CPU for one line.
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, 'x']));
    const few = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`p${i}`, 'x']));

    // Act
    const tooMany = validateLog(validLog({ query: many }));
    const enough = validateLog(validLog({ query: few }));

    // Assess
    expect(tooMany.ok === false && tooMany.message).toMatch(/^query: expected .*at most 256 /);
    expect(enough.ok).toBe(true);
  });

  it('reports at most three issues, one per field', () => {
    const result = validateLog({ timestamp: {}, status: 'x', method: 1, path: 2, latency_ms: -1 });
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : result.message;
    expect(message.split('; ')).toHaveLength(4);
    expect(message).toMatch(/^timestamp: .*; \(\+\d+ more\)$/);
    expect(message.match(/timestamp:/g)).toHaveLength(1);
  });

  it('never quotes a value in messages, only its type and size', () => {
    // Prepare
    const secret = 'S3cr3tT0k3nValue-'.repeat(600);

    // Act
    const tooLong = validateLog(validLog({ method: 'M'.repeat(5000) }));
    const header = validateLog(validLog({ headers: { authorization: `Bearer ${secret}` } }));
    const badTime = validateLog(validLog({ timestamp: 'S3cr3tT0k3n-not-a-date' }));

    // Assess
    expect(tooLong.ok === false && tooLong.message).toMatch(/^method: .*got a string of 5000 characters$/);
    expect(header.ok === false && header.message).toMatch(
      /^headers\.authorization: .*got a string of 10207 characters$/,
    );
    for (const r of [tooLong, header, badTime])
      expect(r.ok === false && r.message).not.toMatch(/S3cr3t|MMMM/);
  });

  it('requires the request time to be a real instant, falling back to fb_time', () => {
    expect(validateLog(validLog({ timestamp: '2025-02-30T10:00:00Z' }))).toEqual({
      ok: false,
      message:
        'timestamp: expected ISO 8601 date-time (no zone means UTC) or epoch milliseconds >= 0, got a string of 20 characters',
    });
    const fallback = validateLog({ ...without('timestamp'), fb_time: '2025-01-15T10:00:01' });
    expect(fallback.ok && fallback.tsMicros).toBe(BigInt(Date.parse('2025-01-15T10:00:01Z')) * 1000n);
    const badFallback = validateLog({ ...without('timestamp'), fb_time: '2025-01-15T99:00:01' });
    expect(badFallback.ok === false && badFallback.message).toMatch(/^fb_time: /);
    const none = validateLog(without('timestamp'));
    expect(none).toMatchObject({ ok: true, tsMicros: undefined });
  });
});
