import { ConfigError } from '../../pipeline/errors.ts';
import { type NamedQuery, renderNamedQuery } from '../../schemas/queries/named-query.ts';
import { DIALECTS } from '../../schemas/queries/sql-dialect.ts';
import type { WarehouseClient } from './warehouse-client.ts';

/** What a named query returned, and exactly what it covered. */
export interface NamedQueryResult {
  readonly name: string;
  readonly description: string;
  /** Undefined for queries over every project (top_projects). */
  readonly project: string | undefined;
  /** ISO 8601 UTC; `to` is exclusive. */
  readonly from: string;
  readonly to: string;
  readonly timeZone: 'UTC';
  readonly columns: readonly string[];
  readonly rows: Record<string, unknown>[];
  /** Why there are no rows, when it can tell (a misspelt project, data outside the range). */
  readonly note?: string;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A time as given on the command line or in the page: `now`, a duration ago (`-1h`, `1h`, `90m`,
 * `2d`, `1w`: both signs mean the past), or an ISO 8601 time (UTC unless it names a zone).
 */
export const resolveTime = (value: string, now: Date, param: string): string => {
  const text = value.trim();
  if (text === 'now') return now.toISOString();
  const relative = /^-?(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)$/.exec(text);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]!]!).toISOString();
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(text) || /^\d{4}-\d\d-\d\d$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(withZone.replace(' ', 'T'));
  if (!Number.isFinite(ms)) {
    throw new ConfigError(
      `--${param}`,
      `"${value}" is not a time; use ISO 8601 (2025-01-15T10:00:00Z, a date, UTC unless a zone is given), "now", or a duration ago: -1h, 30m, 2d, 1w`,
    );
  }
  return new Date(ms).toISOString();
};

/** The options a query takes, as the command line spells them. */
export const optionsOf = (query: NamedQuery): string[] =>
  query.params.map((p) =>
    ['project', 'from', 'to', 'limit'].includes(p.name) ? `--${p.name}` : `--param ${p.name}=…`,
  );

/**
 * Checks `given` against what the query takes (an option it does not take is an error, not
 * ignored), resolves relative times and the default range (the hour before now), and checks that
 * the range is not empty.
 */
export const namedQueryValues = (
  query: NamedQuery,
  given: Readonly<Record<string, string | undefined>>,
  now: Date,
): Record<string, string> => {
  const takes = new Set(query.params.map((p) => p.name));
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined || takes.has(name)) continue;
    const spelt = ['project', 'from', 'to', 'limit'].includes(name) ? `--${name}` : `--param ${name}`;
    throw new ConfigError(
      spelt,
      `query ${query.name} does not take it; it takes ${optionsOf(query).join(', ') || 'no options'}`,
    );
  }
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(given)) if (v !== undefined) values[k] = v;
  for (const p of query.params) {
    if (p.type === 'timestamp' && values[p.name] !== undefined) {
      values[p.name] = resolveTime(values[p.name]!, now, p.name);
    }
  }
  if (takes.has('to')) values.to ??= now.toISOString();
  if (takes.has('from'))
    values.from ??= new Date(Date.parse(values.to ?? now.toISOString()) - 3_600_000).toISOString();
  if (
    values.from !== undefined &&
    values.to !== undefined &&
    Date.parse(values.from) >= Date.parse(values.to)
  ) {
    throw new ConfigError(
      '--from',
      `${values.from} is not before --to ${values.to}: the range would be empty`,
    );
  }
  return values;
};

/** Runs a named query on `client` with checked values; explains an empty result when it can. */
export const runNamedQueryOn = async (
  client: WarehouseClient,
  query: NamedQuery,
  given: Readonly<Record<string, string | undefined>>,
  now: Date = new Date(),
): Promise<NamedQueryResult> => {
  const values = namedQueryValues(query, given, now);
  const rendered = renderNamedQuery(query, client.dialect, values);
  const result = await client.run(rendered.sql, rendered.values);
  const base = {
    name: query.name,
    description: query.description,
    project: values.project,
    from: values.from ?? '',
    to: values.to ?? '',
    timeZone: 'UTC' as const,
    columns: result.columns,
    rows: result.rows,
  };
  if (result.rows.length > 0 || values.project === undefined) return base;
  return { ...base, note: await whyEmpty(client, values.project) };
};

const whyEmpty = async (client: WarehouseClient, project: string): Promise<string | undefined> => {
  const p = DIALECTS[client.dialect].placeholder('project');
  const bind = client.dialect === 'duckdb' ? { project } : [project];
  const [span] = (
    await client.run(
      `SELECT COUNT(*) AS n, MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM requests WHERE project_id = ${p}`,
      bind,
    )
  ).rows;
  if (Number(span?.n ?? 0) > 0) {
    return `project "${project}" has no requests in this range; it has ${span?.n} from ${span?.first_ts} to ${span?.last_ts}`;
  }
  const projects = (
    await client.run('SELECT project_id FROM requests GROUP BY project_id ORDER BY COUNT(*) DESC LIMIT 10')
  ).rows.map((r) => String(r.project_id));
  return projects.length === 0
    ? 'the warehouse holds no requests yet'
    : `no project "${project}" in the warehouse; projects: ${projects.join(', ')}`;
};

/** `latency_by_endpoint · project "acme" · 2026-11-29 09:00:00 → 10:00:00 UTC (1 h)`. */
export const describeCoverage = (r: NamedQueryResult): string => {
  const time = (iso: string) => iso.replace('T', ' ').replace(/\.000Z$|Z$/, '');
  const hours = (Date.parse(r.to) - Date.parse(r.from)) / 3_600_000;
  const span =
    hours >= 48
      ? `${+(hours / 24).toFixed(1)} d`
      : hours >= 1
        ? `${+hours.toFixed(1)} h`
        : `${Math.round(hours * 60)} min`;
  const project = r.project === undefined ? 'all projects' : `project "${r.project}"`;
  const range =
    r.from === '' ? '' : ` · ${time(r.from)} → ${time(r.to)} ${r.timeZone} (${span}, end exclusive)`;
  return `${r.name} · ${project}${range}`;
};
