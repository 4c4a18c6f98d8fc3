import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NamedQuery, renderNamedQuery } from '../../../schemas/queries/named-query.ts';
import { loadQueryLibrary } from '../../../schemas/queries/query-library.ts';

/*
 * The two Grafana dashboards, generated (classic dashboard JSON model, importable in Grafana 9 to
 * 13) so that they never drift from the metrics and the named queries:
 *   consumers/cli/observability/grafana-operations.json  the workers' Prometheus metrics
 *   schemas/dashboards/grafana-api-analytics.json         the named queries on SingleStore,
 *                                                         through Grafana's MySQL data source
 * Regenerate with `npx tsx consumers/cli/observability/grafana-dashboards.ts`; a test checks the
 * committed files are what this writes.
 */

export const OPERATIONS_FILE = join(import.meta.dirname, 'grafana-operations.json');
export const ANALYTICS_FILE = join(
  import.meta.dirname,
  '../../../schemas/dashboards/grafana-api-analytics.json',
);

type Panel = Record<string, unknown>;

/** Lays panels out left to right, `w` of 24 columns each, wrapping rows. */
const layout = (panels: readonly (Panel & { w?: number; h?: number })[]): Panel[] => {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map(({ w = 12, h = 8, ...panel }, i) => {
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const out = { id: i + 1, ...panel, gridPos: { x, y, w, h } };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return out;
  });
};

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
const PROMETHEUS = { type: 'prometheus', uid: '${datasource}' };
const RATE = '$__rate_interval';

const timeseries = (
  title: string,
  unit: string,
  targets: [expr: string, legend: string][],
  w = 12,
): Panel => ({
  type: 'timeseries',
  title,
  datasource: PROMETHEUS,
  w,
  fieldConfig: { defaults: { unit }, overrides: [] },
  options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
  targets: targets.map(([expr, legendFormat], i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: PROMETHEUS,
    expr,
    legendFormat,
  })),
});

const quantiles = (metric: string, by = '') =>
  [0.5, 0.95, 0.99].map((q): [string, string] => [
    `histogram_quantile(${q}, sum by (le${by}) (rate(${metric}_bucket{stream=~"$stream"}[${RATE}])))`,
    `p${q * 100}`,
  ]);

const sel = '{stream=~"$stream"}';

/** The fields every Shardline dashboard shares, in Grafana's order, around its own. */
const dashboard = (d: {
  uid: string;
  title: string;
  description: string;
  refresh: string;
  from: string;
}) => ({
  uid: d.uid,
  title: d.title,
  description: d.description,
  tags: ['shardline'],
  timezone: 'utc',
  editable: true,
  graphTooltip: 1,
  schemaVersion: 39,
  version: 1,
  refresh: d.refresh,
  time: { from: d.from, to: 'now' },
  timepicker: {},
  annotations: { list: [] },
  links: [],
});

export const operationsDashboard = (): Record<string, unknown> => ({
  ...dashboard({
    uid: 'shardline-operations',
    title: 'Shardline: operations',
    description:
      'Workers (shardline consume/dev): throughput, lag, freshness, errors, leases. Metrics: README "Operate and look at it".',
    refresh: '30s',
    from: 'now-6h',
  }),
  templating: {
    list: [
      {
        type: 'datasource',
        name: 'datasource',
        label: 'Prometheus',
        query: 'prometheus',
        current: {},
        hide: 0,
      },
      {
        type: 'query',
        name: 'stream',
        label: 'Stream',
        datasource: PROMETHEUS,
        query: { query: 'label_values(shardline_records_processed_total, stream)', refId: 'StreamVariable' },
        definition: 'label_values(shardline_records_processed_total, stream)',
        includeAll: true,
        multi: true,
        allValue: '.*',
        refresh: 2,
        current: {},
        hide: 0,
      },
    ],
  },
  panels: layout([
    {
      type: 'stat',
      title: 'Healthy workers',
      datasource: PROMETHEUS,
      w: 6,
      h: 4,
      targets: [{ refId: 'A', datasource: PROMETHEUS, expr: `sum(shardline_healthy${sel})`, instant: true }],
      fieldConfig: { defaults: { unit: 'none' }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    },
    {
      type: 'stat',
      title: 'Max iterator age',
      datasource: PROMETHEUS,
      w: 6,
      h: 4,
      targets: [
        {
          refId: 'A',
          datasource: PROMETHEUS,
          expr: `max(shardline_iterator_age_seconds${sel})`,
          instant: true,
        },
      ],
      fieldConfig: { defaults: { unit: 's' }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    },
    {
      type: 'stat',
      title: 'Arrival → queryable p95',
      datasource: PROMETHEUS,
      w: 6,
      h: 4,
      targets: [
        {
          refId: 'A',
          datasource: PROMETHEUS,
          expr: `histogram_quantile(0.95, sum by (le) (rate(shardline_arrival_to_queryable_seconds_bucket${sel}[${RATE}])))`,
        },
      ],
      fieldConfig: { defaults: { unit: 's' }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    },
    {
      type: 'stat',
      title: 'Dead letters (range)',
      datasource: PROMETHEUS,
      w: 6,
      h: 4,
      targets: [
        {
          refId: 'A',
          datasource: PROMETHEUS,
          expr: `sum(increase(shardline_dead_letters_total${sel}[$__range]))`,
          instant: true,
        },
      ],
      fieldConfig: { defaults: { unit: 'none' }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    },
    timeseries('Records and rows per second', 'ops', [
      [`sum(rate(shardline_records_processed_total${sel}[${RATE}]))`, 'records in'],
      [`sum(rate(shardline_rows_landed_total${sel}[${RATE}]))`, 'rows landed'],
      [`sum(rate(shardline_duplicates_dropped_total${sel}[${RATE}]))`, 'duplicates dropped'],
    ]),
    timeseries('Bytes in per second', 'Bps', [
      [`sum(rate(shardline_bytes_processed_total${sel}[${RATE}]))`, 'bytes in'],
    ]),
    timeseries('Iterator age per shard', 's', [
      [`max by (shard) (shardline_iterator_age_seconds${sel})`, '{{shard}}'],
    ]),
    timeseries('Oldest record waiting to land, per shard', 's', [
      [`max by (shard) (shardline_shard_oldest_unlanded_seconds${sel})`, '{{shard}}'],
    ]),
    timeseries('Batch landing time', 's', quantiles('shardline_batch_landing_duration_seconds')),
    timeseries('Arrival → landed / → queryable (p95)', 's', [
      [
        `histogram_quantile(0.95, sum by (le) (rate(shardline_arrival_to_landed_seconds_bucket${sel}[${RATE}])))`,
        'arrival → landed',
      ],
      [
        `histogram_quantile(0.95, sum by (le) (rate(shardline_arrival_to_queryable_seconds_bucket${sel}[${RATE}])))`,
        'arrival → queryable',
      ],
    ]),
    timeseries('Dead letters per second, by reason', 'ops', [
      [`sum by (reason) (rate(shardline_dead_letters_total${sel}[${RATE}]))`, '{{reason}}'],
    ]),
    timeseries('Errors per second, by kind', 'ops', [
      [`sum by (kind) (rate(shardline_kinesis_errors_total${sel}[${RATE}]))`, 'kinesis {{kind}}'],
      [`sum by (kind) (rate(shardline_landing_errors_total${sel}[${RATE}]))`, 'landing {{kind}}'],
      [`sum by (kind) (rate(shardline_warehouse_load_errors_total${sel}[${RATE}]))`, 'warehouse {{kind}}'],
      [
        `sum by (reason) (rate(shardline_processor_restarts_total${sel}[${RATE}]))`,
        'processor restart {{reason}}',
      ],
    ]),
    timeseries('Warehouse load time (embedded)', 's', quantiles('shardline_warehouse_load_duration_seconds')),
    timeseries('Warehouse files waiting to load', 'none', [
      [`sum by (worker) (shardline_warehouse_files_pending${sel})`, '{{worker}}'],
    ]),
    timeseries('Leases held per worker', 'none', [
      [`sum by (worker) (shardline_leases_held${sel})`, '{{worker}}'],
    ]),
    timeseries('Lease moves per second', 'ops', [
      [`sum(rate(shardline_leases_taken_total${sel}[${RATE}]))`, 'taken'],
      [`sum(rate(shardline_leases_stolen_total${sel}[${RATE}]))`, 'stolen'],
      [`sum(rate(shardline_leases_lost_total${sel}[${RATE}]))`, 'lost'],
    ]),
    timeseries('CPU per worker', 'percentunit', [
      [`sum by (instance) (rate(process_cpu_seconds_total[${RATE}]))`, '{{instance}}'],
    ]),
    timeseries('Memory per worker', 'bytes', [
      [`max by (instance) (process_resident_memory_bytes)`, '{{instance}}'],
    ]),
  ]),
});

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
const MYSQL = { type: 'mysql', uid: '${warehouse}' };

/** Grafana's text for each parameter of a named query: its variables and time-range macros. */
const GRAFANA_VALUES: Readonly<Record<string, string>> = {
  // `sqlstring` quotes the value and doubles each `'` in it (Grafana's "Advanced variable format
  // options"), so a project id is a SQL string, never SQL. (MySQL-protocol servers also read `\`
  // as an escape unless NO_BACKSLASH_ESCAPES; project ids come from the query variable below.)
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
  project: '${project:sqlstring}',
  from: '$__timeFrom()',
  to: '$__timeTo()',
};

/**
 * A named query as Grafana's MySQL data source runs it on SingleStore: the SingleStore rendering
 * of schemas/queries/<name>.sql with each `?` replaced by the dashboard's variable or time macro.
 * `$__timeFrom()`/`$__timeTo()` expand to quoted UTC times, as the named queries expect.
 */
export const grafanaSql = (query: NamedQuery, numbers: Record<string, string> = {}): string => {
  const markers: Record<string, string> = {
    project: 'grafana-project',
    from: '2000-01-01T00:00:00Z',
    to: '2000-01-02T00:00:00Z',
  };
  const rendered = renderNamedQuery(query, 'singlestore', { ...markers, ...numbers });
  const positional = rendered.values as string[];
  // Which parameter each placeholder binds, by the distinct marker values above.
  const names = positional.map((v) => {
    if (v === markers.project) return 'project';
    if (v.startsWith('2000-01-01')) return 'from';
    if (v.startsWith('2000-01-02')) return 'to';
    throw new Error(`query ${query.name}: no Grafana value for a placeholder bound to ${v}`);
  });
  let i = 0;
  return rendered.sql.replace(/\?/g, () => GRAFANA_VALUES[names[i++]!]!);
};

interface AnalyticsPanel {
  readonly query: string;
  readonly title: string;
  readonly type: 'timeseries' | 'barchart' | 'table' | 'piechart';
  readonly numbers?: Record<string, string>;
  readonly w?: number;
}

export const ANALYTICS_PANELS: readonly AnalyticsPanel[] = [
  { query: 'requests_per_minute', title: 'Requests and errors per minute', type: 'timeseries', w: 24 },
  {
    query: 'latency_by_endpoint',
    title: 'Latency by endpoint (ms)',
    type: 'table',
    numbers: { limit: '20' },
    w: 24,
  },
  { query: 'error_rate_by_status_class', title: 'Requests by status class', type: 'piechart', w: 8 },
  { query: 'top_endpoints', title: 'Top endpoints', type: 'barchart', numbers: { limit: '10' }, w: 16 },
  { query: 'top_consumers', title: 'Top consumers', type: 'table', numbers: { limit: '20' }, w: 8 },
  { query: 'countries', title: 'Countries', type: 'barchart', numbers: { limit: '15' }, w: 8 },
  { query: 'browsers', title: 'Browsers and clients', type: 'piechart', numbers: { limit: '10' }, w: 8 },
  { query: 'best_practice_failures', title: 'Best-practice failures', type: 'table', w: 24 },
];

export const analyticsDashboard = (library = loadQueryLibrary()): Record<string, unknown> => ({
  ...dashboard({
    uid: 'shardline-api-analytics',
    title: 'Shardline: API analytics',
    description:
      "The named queries of schemas/queries/ on the SingleStore warehouse, through Grafana's MySQL data source (SingleStore speaks the MySQL protocol).",
    refresh: '1m',
    from: 'now-1h',
  }),
  templating: {
    list: [
      {
        type: 'datasource',
        name: 'warehouse',
        label: 'SingleStore (MySQL)',
        query: 'mysql',
        current: {},
        hide: 0,
      },
      {
        type: 'query',
        name: 'project',
        label: 'Project',
        datasource: MYSQL,
        query:
          'SELECT project_id FROM requests WHERE $__timeFilter(ts) GROUP BY project_id ORDER BY COUNT(*) DESC LIMIT 200',
        definition:
          'SELECT project_id FROM requests WHERE $__timeFilter(ts) GROUP BY project_id ORDER BY COUNT(*) DESC LIMIT 200',
        refresh: 2,
        includeAll: false,
        multi: false,
        current: {},
        hide: 0,
      },
    ],
  },
  panels: layout(
    ANALYTICS_PANELS.map((p) => {
      const query = library.get(p.query);
      if (!query) throw new Error(`no named query ${p.query}`);
      return {
        type: p.type,
        title: p.title,
        description: `${query.description} (schemas/queries/${p.query}.sql)`,
        datasource: MYSQL,
        w: p.w ?? 12,
        h: p.type === 'table' ? 9 : 8,
        fieldConfig: { defaults: {}, overrides: [] },
        options: {},
        targets: [
          {
            refId: 'A',
            datasource: MYSQL,
            editorMode: 'code',
            // Table format for all: the time-series panel takes the DATETIME column as its time field.
            format: 'table',
            rawQuery: true,
            rawSql: grafanaSql(query, p.numbers),
          },
        ],
      };
    }),
  ),
});

export const renderDashboard = (dashboard: Record<string, unknown>): string =>
  `${JSON.stringify(dashboard, null, 2)}\n`;

if (process.argv[1] === import.meta.filename) {
  writeFileSync(OPERATIONS_FILE, renderDashboard(operationsDashboard()));
  writeFileSync(ANALYTICS_FILE, renderDashboard(analyticsDashboard()));
  process.stdout.write(`wrote ${OPERATIONS_FILE}\nwrote ${ANALYTICS_FILE}\n`);
}
