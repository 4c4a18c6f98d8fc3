import { describe, expect, it } from 'vitest';
import { RequestLogV1 } from '../../schemas/request-log.ts';
import { MALFORMED_KINDS, malformedLine } from './malformed-line.ts';
import { Prng } from './prng.ts';
import { createRequestLog } from './traffic-generator.ts';

/** What the pipeline's decode + validate stages would say about one Data line. */
const verdict = (line: string): 'invalid_json' | 'not_an_object' | 'schema_violation' | 'valid' => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return 'invalid_json';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not_an_object';
  return RequestLogV1.safeParse(parsed).success ? 'valid' : 'schema_violation';
};

const EXPECTED = {
  truncated_json: 'invalid_json',
  not_json: 'invalid_json',
  not_an_object: 'not_an_object',
  fb_unparsed: 'schema_violation',
  missing_status: 'schema_violation',
  wrong_type: 'schema_violation',
} as const;

describe('malformedLine', () => {
  it.each(MALFORMED_KINDS)(
    'makes %s lines that the pipeline must reject, for the expected reason',
    (kind) => {
      // Prepare
      const rng = new Prng(3);
      const logs = Array.from({ length: 300 }, (_, i) => createRequestLog(i, { seed: 4 }));

      // Act
      const lines = logs.map((log) => malformedLine(rng, log, '2025-01-15T10:00:00.000Z', kind));

      // Assess
      for (const { kind: made, line } of lines) {
        expect(made).toBe(kind);
        expect(line.endsWith('\n')).toBe(true);
        expect(line.indexOf('\n')).toBe(line.length - 1);
        expect(/^[\x00-\x7f]*$/.test(line)).toBe(true);
        expect(verdict(line.slice(0, -1)), line).toBe(EXPECTED[kind]);
      }
    },
  );

  it('picks every kind when none is asked for', () => {
    // Prepare
    const rng = new Prng(9);
    const log = createRequestLog(0, { seed: 4 });

    // Act
    const kinds = new Set(Array.from({ length: 200 }, () => malformedLine(rng, log, 0).kind));

    // Assess
    expect([...kinds].sort()).toEqual([...MALFORMED_KINDS].sort());
  });
});
