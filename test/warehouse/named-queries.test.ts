import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderNamedQuery } from '../../schemas/queries/named-query.ts';
import { loadQueryLibrary } from '../../schemas/queries/query-library.ts';
import type { RequestRow } from '../../schemas/request-row.ts';
import { EXPECTED, type Range } from './expected-dashboards.ts';
import { type LandedTraffic, landGeneratedTraffic } from './landed-traffic.ts';

const START = '2025-01-15T10:00:00.000Z';
const startMicros = BigInt(Date.parse(START)) * 1000n;
const library = loadQueryLibrary();

let dir: string;
let landed: LandedTraffic;
let range: Range;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'named-queries-'));
  // 6,000 requests at 20/s: five minutes of traffic, in 24 files from three shards.
  landed = await landGeneratedTraffic(dir, {
    count: 6_000,
    seed: 5,
    startTime: START,
    ratePerSecond: 20,
    batchRows: 250,
  });
  // The busiest project, and a range that leaves out the first and the last minute.
  const counts = new Map<string, number>();
  for (const r of landed.rows) counts.set(r.project_id, (counts.get(r.project_id) ?? 0) + 1);
  const project = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] as string;
  range = { project, fromMicros: startMicros + 60_000_000n, toMicros: startMicros + 240_500_000n };
});

afterAll(async () => {
  await landed?.warehouse.close();
  await rm(dir, { recursive: true, force: true });
});

const iso = (micros: bigint): string => new Date(Number(micros / 1000n)).toISOString();

/** Numbers within rounding of the last printed digit; everything else exactly. */
const expectRowsToMatch = (actual: Record<string, unknown>[], expected: Record<string, unknown>[]) => {
  expect(actual.map((r) => Object.keys(r))).toEqual(expected.map((r) => Object.keys(r)));
  const close = (a: unknown, e: unknown) =>
    typeof e === 'number' && typeof a === 'number'
      ? Math.abs(a - e) <= 1e-3 * Math.max(1, Math.abs(e))
      : a === e;
  const mismatches = actual.flatMap((row, i) =>
    Object.keys(row)
      .filter((k) => !close(row[k], expected[i]?.[k]))
      .map((k) => ({ row: i, column: k, actual: row[k], expected: expected[i]?.[k] })),
  );
  expect(mismatches).toEqual([]);
};

describe('named dashboard queries on DuckDB over Parquet written by the pipeline', () => {
  it('loaded every generated row once, from every landed file', async () => {
    // Act
    const loaded = await landed.warehouse.rowCount();
    const keys = new Set(landed.rows.map((r: RequestRow) => `${r.project_id}\u0000${r.request_id}`));

    // Assess
    expect(landed.files).toBe(24);
    expect(keys.size).toBe(landed.rows.length);
    expect(loaded).toBe(landed.rows.length);
  });

  it('has an independent expectation for every query of the library', () => {
    // Assess
    expect(Object.keys(EXPECTED).sort()).toEqual([...library.keys()].sort());
  });

  it.each([...library.keys()])('%s matches the figures computed from the input rows', async (name) => {
    // Prepare
    const query = library.get(name);
    if (query === undefined) throw new Error(`no query ${name}`);
    const rendered = renderNamedQuery(query, 'duckdb', {
      project: range.project,
      from: iso(range.fromMicros),
      to: iso(range.toMicros),
    });
    const expected = EXPECTED[name]?.(landed.rows, range) ?? [];

    // Act
    const actual = await landed.warehouse.queryWithParams(
      rendered.sql,
      rendered.values as Record<string, string>,
    );

    // Assess
    expect(expected.length).toBeGreaterThan(0);
    expectRowsToMatch(actual, expected);
  });
});

describe('named queries on values the generator never makes', () => {
  let unknownDir: string;
  let unknown: LandedTraffic;

  beforeAll(async () => {
    unknownDir = await mkdtemp(join(tmpdir(), 'named-queries-unknown-'));
    // A third of the rows without browser, OS and country, a third with each spelt (unknown):
    // the queries name NULL after grouping, so both must still end up in one row. And secrets
    // in every place of the redacted list, including a body field whose name only looks like one.
    const redacted = [
      'header:authorization,query:sig',
      'path:jwt',
      'request_body:path:x,header:x-query:y',
      'header:cookie,path:card,query:sig',
    ];
    unknown = await landGeneratedTraffic(unknownDir, {
      count: 600,
      seed: 7,
      startTime: START,
      ratePerSecond: 20,
      batchRows: 100,
      edit: (row, i) => ({
        ...row,
        ...(i % 3 === 0 ? { browser: null, os: null, country: null } : {}),
        ...(i % 3 === 1 ? { browser: '(unknown)', os: '(unknown)', country: '(unknown)' } : {}),
        ...(i % 5 < redacted.length ? { redacted: redacted[i % 5] as string } : {}),
      }),
    });
  });

  afterAll(async () => {
    await unknown?.warehouse.close();
    await rm(unknownDir, { recursive: true, force: true });
  });

  it.each(['browsers', 'operating_systems', 'countries'])(
    '%s counts NULL and (unknown) in one row',
    async (name) => {
      // Prepare
      const query = library.get(name);
      if (query === undefined) throw new Error(`no query ${name}`);
      const project = unknown.rows[0]?.project_id as string;
      const whole: Range = { project, fromMicros: startMicros, toMicros: startMicros + 3_600_000_000n };
      const rendered = renderNamedQuery(query, 'duckdb', {
        project,
        from: iso(whole.fromMicros),
        to: iso(whole.toMicros),
      });
      const expected = EXPECTED[name]?.(unknown.rows, whole) ?? [];

      // Act
      const actual = await unknown.warehouse.queryWithParams(
        rendered.sql,
        rendered.values as Record<string, string>,
      );

      // Assess
      const labels = actual.map((r) => Object.values(r)[0]);
      expect(labels.filter((l) => l === '(unknown)')).toHaveLength(1);
      expectRowsToMatch(actual, expected);
    },
  );

  it('best_practice_failures finds secrets in the path and query string, and only there', async () => {
    // Prepare
    const query = library.get('best_practice_failures');
    if (query === undefined) throw new Error('no query best_practice_failures');
    const project = unknown.rows[0]?.project_id as string;
    const whole: Range = { project, fromMicros: startMicros, toMicros: startMicros + 3_600_000_000n };
    const rendered = renderNamedQuery(query, 'duckdb', {
      project,
      from: iso(whole.fromMicros),
      to: iso(whole.toMicros),
    });
    const expected = EXPECTED.best_practice_failures?.(unknown.rows, whole) ?? [];

    // Act
    const actual = await unknown.warehouse.queryWithParams(
      rendered.sql,
      rendered.values as Record<string, string>,
    );

    // Assess
    expect(expected.some((r) => (r.secret_in_url as number) > 0)).toBe(true);
    expectRowsToMatch(actual, expected);
  });
});
