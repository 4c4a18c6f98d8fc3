import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNamedQuery } from '../../consumers/cli/named-query-command.ts';
import { resolveTime } from '../../consumers/cli/named-query-runner.ts';
import { runQuery } from '../../consumers/cli/query-command.ts';
import { type LandedTraffic, landGeneratedTraffic } from '../warehouse/landed-traffic.ts';

/**
 * `shardline query` as an analyst meets it: SQL errors are DuckDB's message and position without
 * a Node stack, named queries refuse what they do not take, read relative times, say what they
 * cover, keep the header of an empty result and explain it; `--format json` is NDJSON.
 */

const BIN = resolve(import.meta.dirname, '../../consumers/cli/bin.cjs');
const START = '2025-01-15T10:00:00.000Z';
const NOW = new Date('2025-01-15T10:05:00.000Z');

let dir: string;
let db: string;
let landed: LandedTraffic;
let project: string;

const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

/** Runs a named query in-process, capturing stdout and stderr. */
const named = async (name: string, params: Record<string, string | undefined>, format = 'table' as const) => {
  let out = '';
  let err = '';
  const code = await runNamedQuery({
    name,
    warehouse: 'embedded',
    db,
    url: undefined,
    format,
    params,
    now: NOW,
    write: (t) => (out += t),
    writeErr: (t) => (err += t),
  });
  return { code, out, err };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'query-tool-'));
  landed = await landGeneratedTraffic(dir, {
    count: 1_500,
    seed: 7,
    startTime: START,
    ratePerSecond: 10,
    batchRows: 250,
  });
  await landed.warehouse.close();
  db = join(dir, 'warehouse.duckdb');
  const counts = new Map<string, number>();
  for (const r of landed.rows) counts.set(r.project_id, (counts.get(r.project_id) ?? 0) + 1);
  project = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shardline query: SQL errors', () => {
  it("prints DuckDB's message and position for bad SQL and a wrong column, never a Node stack", async () => {
    // Act
    const [syntax, column] = await Promise.all([
      cli('query', '--db', db, 'selec * from requests'),
      cli('query', '--db', db, 'select nope from requests'),
    ]);

    // Assess
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain('syntax error at or near "selec"');
    expect(syntax.stderr).toMatch(/LINE 1: selec \* from requests\n\s+\^/);
    expect(column.code).toBe(1);
    expect(column.stderr).toMatch(/Referenced column "nope" not found/);
    for (const r of [syntax, column]) {
      expect(r.stderr).not.toMatch(/node:internal|triggerUncaughtException|at .*\.ts:\d+/);
      expect(r.stdout).toBe('');
    }
  }, 60_000);

  it('keeps the header of an empty result, in every format; json is NDJSON', async () => {
    // Prepare
    const sql = "select project_id, count(*) as n from requests where project_id = 'nobody' group by 1";
    const outputs: Record<string, string> = { table: '', csv: '', json: '' };

    // Act
    for (const format of ['table', 'csv', 'json'] as const) {
      await runQuery(sql, { warehouse: 'embedded', db, format, write: (t) => (outputs[format] += t) });
    }
    let ndjson = '';
    await runQuery('select 1 as a union all select 2 order by a', {
      warehouse: 'embedded',
      db,
      format: 'json',
      write: (t) => (ndjson += t),
    });

    // Assess
    expect(outputs.table).toBe('project_id  n\n----------  -\n(0 rows)\n');
    expect(outputs.csv).toBe('project_id,n\n');
    expect(outputs.json).toBe('');
    expect(ndjson).toBe('{"a":1}\n{"a":2}\n');
  });
});

describe('shardline query --named', () => {
  it('refuses an option or parameter the query does not take, naming the ones it takes', async () => {
    // Act
    const limit = named('error_rate_by_status_class', { project, limit: '1' });
    const param = named('top_endpoints', { project, min_requests: '5' });
    const projectOnTop = named('top_projects', { project });

    // Assess
    await expect(limit).rejects.toThrow(
      /--limit: query error_rate_by_status_class does not take it; it takes --project, --from, --to/,
    );
    await expect(param).rejects.toThrow(/--param min_requests: query top_endpoints does not take it/);
    await expect(projectOnTop).rejects.toThrow(/--project: query top_projects does not take it/);
  });

  it('reads relative times and prints the project, range and time zone it covers', async () => {
    // Act
    const r = await named('error_rate_by_status_class', { project, from: '-5m' });
    const days = resolveTime('2d', NOW, 'from');
    const minus = resolveTime('-1h', NOW, 'from');

    // Assess
    expect(r.err).toContain(
      `-- error_rate_by_status_class · project "${project}" · 2025-01-15 10:00:00 → 2025-01-15 10:05:00 UTC (5 min, end exclusive)`,
    );
    expect(r.out).toMatch(/^status_class\s+requests\s+share\n/);
    expect(days).toBe('2025-01-13T10:05:00.000Z');
    expect(minus).toBe('2025-01-15T09:05:00.000Z');
    expect(() => resolveTime('yesterday-ish', NOW, 'from')).toThrow(/-1h, 30m, 2d/);
  });

  it('refuses --from after --to instead of printing nothing', async () => {
    // Act
    const r = named('top_endpoints', { project, from: '2025-01-15T11:00:00Z', to: '2025-01-15T10:00:00Z' });

    // Assess
    await expect(r).rejects.toThrow(/--from: 2025-01-15T11:00:00.000Z is not before --to/);
  });

  it('keeps the header of an empty result and says why it is empty: a misspelt project, or data elsewhere', async () => {
    // Act
    const misspelt = await named('top_endpoints', { project: `${project}x`, from: START });
    const elsewhere = await named('top_endpoints', {
      project,
      from: '2025-01-16T00:00:00Z',
      to: '2025-01-17',
    });

    // Assess
    expect(misspelt.out).toBe(
      'method  endpoint  requests  errors  error_rate\n------  --------  --------  ------  ----------\n(0 rows)\n',
    );
    expect(misspelt.err).toMatch(
      new RegExp(`no project "${project}x" in the warehouse; projects: .*${project}`),
    );
    expect(elsewhere.err).toMatch(
      new RegExp(`project "${project}" has no requests in this range; it has \\d+ from 2025-01-15`),
    );
  });

  it('--format json prints one object per line', async () => {
    // Act
    const r = await named('error_rate_by_status_class', { project, from: START }, 'json' as never);

    // Assess
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.map((l) => Object.keys(JSON.parse(l)))).toEqual(
      lines.map(() => ['status_class', 'requests', 'share']),
    );
  });
});
