import { describe, expect, it } from 'vitest';
import type { RequestLog } from '../../schemas/request-log.ts';
import { readDecodedRecords } from '../../test/fixtures/fluent-bit/fluent-bit-captures.ts';
import { dedupeKey, requestKey } from './deduplicator.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function log(overrides: Partial<RequestLog> = {}): RequestLog {
  return { project_id: 'p', method: 'GET', path: '/', status: 200, latency_ms: 1, ...overrides };
}

describe('requestKey', () => {
  it('uses request_id first', () => {
    const key = requestKey(log({ request_id: 'r1', headers: { 'x-request-id': 'h1' } }), text('{}'));
    expect(key).toEqual({ requestId: 'r1', derived: false });
  });

  it('falls back to the x-request-id header, in any case and shape', () => {
    expect(requestKey(log({ headers: { 'x-request-id': 'h1' } }), text('{}')).requestId).toBe('h1');
    expect(requestKey(log({ headers: { 'X-Request-ID': ' h2 ' } }), text('{}')).requestId).toBe('h2');
    expect(requestKey(log({ headers: { 'x-request-id': ['h3', 'h4'] } }), text('{}')).requestId).toBe('h3');
    expect(requestKey(log({ headers: { 'x-request-id': 42 } }), text('{}')).requestId).toBe('42');
  });

  it('derives an id from the content when there is none, or none usable', () => {
    const cases: RequestLog['headers'][] = [
      undefined,
      {},
      { 'x-request-id': '' },
      { 'x-request-id': 'x'.repeat(129) },
    ];
    for (const headers of cases) {
      const key = requestKey(log({ headers }), text('{"a":1}'));
      expect(key.derived).toBe(true);
      expect(key.requestId).toMatch(/^h:[A-Za-z0-9_-]{22}$/);
    }
  });

  it('gives a line re-read by Fluent Bit (another fb_time) the same derived id', () => {
    // Prepare: a real captured line, re-stamped as a later read would be
    const line = readDecodedRecords('kinesis_tail')[0]!.data.trimEnd();
    expect(line).toMatch(/,"fb_time":"[^"]+"}$/);
    const reread = line.replace(/"fb_time":"[^"]+"/, '"fb_time":"2030-01-01T00:00:00.000Z"');
    const numeric = line.replace(/"fb_time":"[^"]+"/, '"fb_time":1736935200.5');
    const withoutFbTime = line.replace(/,"fb_time":"[^"]+"/, '');
    // Act
    const ids = [line, reread, `${numeric}\r\n`, withoutFbTime].map(
      (l) => requestKey(log(), text(l)).requestId,
    );
    // Assess
    expect(new Set(ids).size).toBe(1);
  });

  it('tells apart lines that differ anywhere else', () => {
    const a = requestKey(log(), text('{"path":"/a","fb_time":"2025-01-15T10:00:00"}')).requestId;
    const b = requestKey(log(), text('{"path":"/b","fb_time":"2025-01-15T10:00:00"}')).requestId;
    expect(a).not.toBe(b);
  });

  it('only ignores fb_time when it is really the last key', () => {
    const a = requestKey(log(), text('{"fb_time":"1","path":"/a"}')).requestId;
    const b = requestKey(log(), text('{"fb_time":"2","path":"/a"}')).requestId;
    // an fb_time-like text inside a string value is content, not a key
    const c = requestKey(log(), text('{"note":"x\\",\\"fb_time\\":\\"1\\"}')).requestId;
    const d = requestKey(log(), text('{"note":"x\\",\\"fb_time\\":\\"2\\"}')).requestId;
    expect(a).not.toBe(b);
    expect(c).not.toBe(d);
  });
});

describe('dedupeKey', () => {
  it('scopes request ids to their project, unambiguously', () => {
    expect(dedupeKey('p1', 'r', 1n)).not.toBe(dedupeKey('p2', 'r', 1n));
    expect(dedupeKey('ab', 'c', 1n)).not.toBe(dedupeKey('a', 'bc', 1n));
    // Ids are client text: a NUL in them must not move the line between project and id.
    expect(dedupeKey('a\u0000x', 'y', 1n)).not.toBe(dedupeKey('a', 'x\u0000y', 1n));
    expect(dedupeKey('a', 'b\u0000c', 1n)).not.toBe(dedupeKey('a\u0000b', 'c', 1n));
  });

  it('tells apart two requests that reuse an id at different times, and not a resend of one', () => {
    expect(dedupeKey('p', 'trace-1', 1_000n)).not.toBe(dedupeKey('p', 'trace-1', 2_000n));
    expect(dedupeKey('p', 'trace-1', 1_000n)).toBe(dedupeKey('p', 'trace-1', 1_000n));
  });
});
