import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ANALYTICS_FILE,
  analyticsDashboard,
  grafanaSql,
  OPERATIONS_FILE,
  operationsDashboard,
  renderDashboard,
} from '../../consumers/cli/observability/grafana-dashboards.ts';
import { renderNamedQuery } from '../../schemas/queries/named-query.ts';
import { loadQueryLibrary } from '../../schemas/queries/query-library.ts';

/**
 * The workers' Prometheus alert rules and the two Grafana dashboards, checked offline: every PromQL
 * expression parses with Prometheus's own grammar (@prometheus-io/lezer-promql, as its web UI
 * uses) and names only metrics a worker serves; the dashboards have what Grafana's classic
 * dashboard JSON model requires, and the analytics panels run exactly the named queries.
 */

const RULES = resolve(import.meta.dirname, '../../consumers/cli/observability/shardline-workers.rules.yaml');
const WORKER_METRICS = resolve(import.meta.dirname, '../../consumers/cli/worker-metrics.ts');
const PROCESS_METRICS = resolve(import.meta.dirname, '../../consumers/cli/process-metrics.ts');

/** Every metric family a worker serves, read from the code that renders them. */
const served = (() => {
  const names = new Set<string>();
  for (const file of [WORKER_METRICS, PROCESS_METRICS]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/'((?:shardline|process|nodejs)_[a-z0-9_]+)'/g))
      names.add(m[1]!);
  }
  return names;
})();
const isHistogram = (name: string) => /_(seconds)$/.test(name) && served.has(name);

/** Syntax errors of a PromQL expression, with Grafana's variables given example values first. */
const promqlErrors = (expr: string): string[] => {
  const text = expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '6h')
    .replaceAll('$stream', 'shardline-demo');
  const errors: string[] = [];
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`${text.slice(Math.max(0, node.from - 20), node.to + 20)} (at ${node.from})`);
    },
  });
  return errors;
};

/** Metric names an expression reads (identifiers followed by `{`, `[` or a space, not functions). */
const metricsOf = (expr: string): string[] =>
  [...expr.matchAll(/(?<![\w:$])((?:shardline|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!);

const knownMetric = (name: string): boolean => {
  if (served.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && isHistogram(base);
};

type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
const rules = (
  parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);

describe('worker alert rules', () => {
  it('alert on iterator age rising, nothing landed while records wait, dead-letter rate, lease churn and warehouse loads failing', () => {
    // Act
    const alerts = rules.map((r) => r.alert);

    // Assess
    expect(alerts).toEqual(
      expect.arrayContaining([
        'ShardlineIteratorAgeRising',
        'ShardlineNothingLanded',
        'ShardlineDeadLetterRate',
        'ShardlineLeaseChurn',
        'ShardlineWarehouseLoadFailing',
      ]),
    );
  });

  it('every expression parses as PromQL and reads only metrics a worker serves', () => {
    for (const rule of rules) {
      // Act
      const errors = promqlErrors(rule.expr);
      const unknown = metricsOf(rule.expr).filter((m) => !knownMetric(m));

      // Assess
      expect(errors, rule.alert).toEqual([]);
      expect(unknown, rule.alert).toEqual([]);
      expect(metricsOf(rule.expr).length, rule.alert).toBeGreaterThan(0);
    }
  });

  it('every alert has a severity, a valid `for`, a summary and a description saying what to do', () => {
    for (const rule of rules) {
      // Assess
      expect(rule.alert, rule.expr).toMatch(/^Shardline[A-Z]\w+$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(rule.annotations?.summary?.length).toBeGreaterThan(10);
      expect(rule.annotations?.description?.length).toBeGreaterThan(30);
    }
  });

  it('an expression with a syntax error is caught (the parser is not lenient)', () => {
    // Act
    const errors = promqlErrors('sum by (job (rate(shardline_rows_landed_total[5m])');

    // Assess
    expect(errors.length).toBeGreaterThan(0);
  });
});

type Dashboard = Record<string, unknown> & {
  panels: (Record<string, unknown> & {
    id: number;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource: { type: string; uid: string };
    targets: Record<string, unknown>[];
  })[];
  templating: { list: { name: string; type: string }[] };
};

const committed = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Dashboard;

/** What Grafana's classic dashboard JSON model needs to import a dashboard and lay out its panels. */
const expectImportable = (d: Dashboard) => {
  for (const field of ['uid', 'title', 'schemaVersion', 'panels', 'time', 'templating', 'annotations']) {
    expect(d, field).toHaveProperty(field);
  }
  expect(d.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
  expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
  const ids = d.panels.map((p) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  const variables = new Set(d.templating.list.map((v) => v.name));
  const occupied = new Set<string>();
  for (const p of d.panels) {
    expect(typeof p.type).toBe('string');
    expect(typeof p.title).toBe('string');
    const { x, y, w, h } = p.gridPos;
    expect(x + w, String(p.title)).toBeLessThanOrEqual(24);
    expect(w > 0 && h > 0).toBe(true);
    for (let cx = x; cx < x + w; cx++) {
      for (let cy = y; cy < y + h; cy++) {
        expect(occupied.has(`${cx},${cy}`), `${p.title} overlaps another panel`).toBe(false);
        occupied.add(`${cx},${cy}`);
      }
    }
    // Data sources are chosen by a dashboard variable, never a uid of one Grafana.
    expect(variables.has(p.datasource.uid.replace(/^\$\{(.*)\}$/, '$1'))).toBe(true);
    expect(p.targets.length).toBeGreaterThan(0);
    expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
  }
};

describe('Grafana dashboards', () => {
  it('the committed files are what the generator writes', () => {
    // Assess
    expect(readFileSync(OPERATIONS_FILE, 'utf8')).toBe(renderDashboard(operationsDashboard()));
    expect(readFileSync(ANALYTICS_FILE, 'utf8')).toBe(renderDashboard(analyticsDashboard()));
  });

  it('operations: importable, every PromQL parses and reads metrics a worker serves', () => {
    // Prepare
    const d = committed(OPERATIONS_FILE);

    // Act
    const exprs = d.panels.flatMap((p) => p.targets.map((t) => String(t.expr)));

    // Assess
    expectImportable(d);
    for (const expr of exprs) {
      expect(promqlErrors(expr), expr).toEqual([]);
      expect(
        metricsOf(expr).filter((m) => !knownMetric(m)),
        expr,
      ).toEqual([]);
    }
    const read = new Set(exprs.flatMap(metricsOf).map((m) => m.replace(/_bucket$/, '')));
    for (const needed of [
      'shardline_records_processed_total',
      'shardline_bytes_processed_total',
      'shardline_rows_landed_total',
      'shardline_dead_letters_total',
      'shardline_duplicates_dropped_total',
      'shardline_iterator_age_seconds',
      'shardline_batch_landing_duration_seconds',
      'shardline_warehouse_load_duration_seconds',
      'shardline_arrival_to_queryable_seconds',
      'shardline_kinesis_errors_total',
      'shardline_landing_errors_total',
      'shardline_leases_held',
      'process_cpu_seconds_total',
    ]) {
      expect(read.has(needed), needed).toBe(true);
    }
  });

  it('API analytics: importable, on the MySQL data source, each panel the SingleStore SQL of a named query', () => {
    // Prepare
    const d = committed(ANALYTICS_FILE);
    const library = loadQueryLibrary();
    const values = { project: 'acme', from: '2025-01-15T10:00:00Z', to: '2025-01-15T11:00:00Z' };

    // Assess
    expectImportable(d);
    expect(d.panels.map((p) => p.datasource.type)).toEqual(d.panels.map(() => 'mysql'));
    const shown = new Set<string>();
    for (const p of d.panels) {
      const name = /schemas\/queries\/(\w+)\.sql/.exec(String(p.description))?.[1] ?? '';
      const query = library.get(name);
      expect(query, String(p.title)).toBeDefined();
      shown.add(name);
      const sql = String(p.targets[0]!.rawSql);
      // Grafana's macros and variable, expanded as Grafana does, give the named query's own SQL.
      const rendered = renderNamedQuery(query!, 'singlestore', {
        ...values,
        ...Object.fromEntries([...sql.matchAll(/LIMIT (\d+)/g)].map((m) => ['limit', m[1]!])),
      });
      const expanded = sql
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
        .replaceAll('${project:sqlstring}', '?')
        .replaceAll('$__timeFrom()', '?')
        .replaceAll('$__timeTo()', '?');
      expect(expanded).toBe(rendered.sql);
      expect(sql).not.toContain('?');
      // The project is quoted and escaped by Grafana (sqlstring), never pasted into the SQL as is.
      expect(sql).not.toMatch(/'\$\{project/);
      expect(grafanaSql(query!)).toContain('$__timeFrom()');
    }
    expect([...shown].sort()).toEqual(
      [
        'best_practice_failures',
        'browsers',
        'countries',
        'error_rate_by_status_class',
        'latency_by_endpoint',
        'requests_per_minute',
        'top_consumers',
        'top_endpoints',
      ].sort(),
    );
  });
});
