import { describe, expect, it } from 'vitest';
import { parseNamedQuery, renderNamedQuery } from './named-query.ts';
import { loadQueryLibrary } from './query-library.ts';

const TEMPLATE = `-- Slow endpoints.
-- @param project string  Project id.
-- @param from timestamp  Start.
-- @param limit int 5  Rows.
SELECT endpoint, {{ratio({{count_true(is_error)}}, COUNT(*))}} AS r, ROUND({{percentile(latency_ms, 0.95)}}, 3) AS p95
FROM requests WHERE project_id = :project AND ts >= :from AND note <> 'a:b' AND x::INT = 1
GROUP BY {{minute(ts)}} LIMIT :limit`;

describe('named queries: one library, two dialects', () => {
  it('parses the description and the parameters with their defaults', () => {
    // Act
    const q = parseNamedQuery('slow', TEMPLATE);

    // Assess
    expect(q.description).toBe('Slow endpoints.');
    expect(q.params).toEqual([
      { name: 'project', type: 'string', doc: 'Project id.' },
      { name: 'from', type: 'timestamp', doc: 'Start.' },
      { name: 'limit', type: 'int', defaultValue: '5', doc: 'Rows.' },
    ]);
  });

  it('renders DuckDB with $name parameters and its own functions', () => {
    // Act
    const r = renderNamedQuery(parseNamedQuery('slow', TEMPLATE), 'duckdb', {
      project: 'p1',
      from: '2025-01-15T10:00:00Z',
    });

    // Assess
    expect(r.sql).toContain(
      'round(CAST(count_if(COALESCE(is_error, false)) AS DOUBLE) / NULLIF(COUNT(*), 0), 4)',
    );
    expect(r.sql).toContain('quantile_cont(latency_ms, 0.95)');
    expect(r.sql).toContain("date_trunc('minute', ts)");
    expect(r.sql).toContain("project_id = $project AND ts >= $from AND note <> 'a:b' AND x::INT = 1");
    expect(r.sql).toMatch(/LIMIT 5$/);
    expect(r.values).toEqual({ project: 'p1', from: '2025-01-15 10:00:00.000000' });
  });

  it('renders SingleStore with positional ? parameters and MySQL-dialect functions', () => {
    // Act
    const r = renderNamedQuery(parseNamedQuery('slow', TEMPLATE), 'singlestore', {
      project: 'p1',
      from: '2025-01-15 11:30',
      limit: '7',
    });

    // Assess
    expect(r.sql).toContain('ROUND(COUNT(CASE WHEN is_error THEN 1 END) / NULLIF(COUNT(*), 0), 4)');
    expect(r.sql).toContain('PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_ms)');
    expect(r.sql).toContain('project_id = ? AND ts >= ?');
    expect(r.sql).toMatch(/LIMIT 7$/);
    expect(r.values).toEqual(['p1', '2025-01-15 11:30:00.000000']);
  });

  it('computes percentiles of one column in one DuckDB aggregate and one PERCENTILE_CONT each on SingleStore', () => {
    // Prepare
    const q = parseNamedQuery(
      'p',
      `SELECT {{percentile(latency_ms, 0.5, [0.5, 0.95, 0.99])}} AS a, {{percentile(latency_ms, 0.99, [0.5, 0.95, 0.99])}} AS b FROM requests`,
    );

    // Act
    const duckdb = renderNamedQuery(q, 'duckdb', {}).sql;
    const singlestore = renderNamedQuery(q, 'singlestore', {}).sql;

    // Assess
    expect(duckdb).toBe(
      'SELECT quantile_cont(latency_ms, [0.5, 0.95, 0.99])[1] AS a, quantile_cont(latency_ms, [0.5, 0.95, 0.99])[3] AS b FROM requests',
    );
    expect(singlestore).toBe(
      'SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY latency_ms) AS a, PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY latency_ms) AS b FROM requests',
    );
  });

  it('refuses a percentile whose list lacks its fraction, naming the query', () => {
    // Act
    const missing = () => parseNamedQuery('q', 'SELECT {{percentile(x, 0.9, [0.5, 0.95])}}');
    const notList = () => parseNamedQuery('q', 'SELECT {{percentile(x, 0.9, 0.9)}}');
    const tooMany = () => parseNamedQuery('q', 'SELECT {{percentile(x, 0.9, [0.9], 1)}}');

    // Assess
    expect(missing).toThrow(
      /query q: the third argument of percentile must list fractions .* including 0\.9/,
    );
    expect(notList).toThrow(/query q: the third argument of percentile/);
    expect(tooMany).toThrow(/\{\{percentile\}\} takes 2 to 3 argument\(s\), got 4/);
  });

  it('refuses missing, malformed and undeclared parameters, naming them', () => {
    // Prepare
    const q = parseNamedQuery('slow', TEMPLATE);

    // Act
    const missing = () => renderNamedQuery(q, 'duckdb', { from: '2025-01-15' });
    const badTime = () => renderNamedQuery(q, 'duckdb', { project: 'p', from: 'yesterday-ish' });
    const badInt = () =>
      renderNamedQuery(q, 'duckdb', { project: 'p', from: '2025-01-15', limit: '5; DROP' });
    const undeclared = () => parseNamedQuery('x', 'SELECT 1 WHERE a = :nope');
    const badMacro = () => parseNamedQuery('x', 'SELECT {{median(x)}}');

    // Assess
    expect(missing).toThrow(/--project: query slow needs it/);
    expect(badTime).toThrow(/--from: "yesterday-ish" is not a time/);
    expect(badInt).toThrow(/--limit: "5; DROP" is not an integer/);
    expect(undeclared).toThrow(/:nope is used but not declared/);
    expect(badMacro).toThrow(/macros are percentile, count_true, ratio, minute/);
  });

  it('renders every query of the library in both dialects without leftover macros or parameters', () => {
    // Prepare
    const values = { project: 'p', from: '2025-01-15', to: '2025-01-16' };

    // Act
    const rendered = [...loadQueryLibrary().values()].flatMap((q) => [
      renderNamedQuery(q, 'duckdb', values).sql,
      renderNamedQuery(q, 'singlestore', values).sql,
    ]);

    // Assess
    expect(rendered.length).toBeGreaterThanOrEqual(24);
    expect(rendered.filter((sql) => /\{\{|[^:]:[a-z_]/.test(sql.replace(/'[^']*'/g, '')))).toEqual([]);
  });
});
