import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { openApiFromEndpoints, routesFromOpenApi } from '../../pipeline/enrich/routes/openapi.ts';
import { RouteBook } from '../../pipeline/enrich/routes/route-book.ts';
import { type EndpointStats, SNAPSHOT_FORMAT } from '../../pipeline/enrich/routes/route-snapshot.ts';
import {
  loadDeclared,
  loadLearned,
  loadRouteBook,
  mergeEndpointStats,
  saveDeclared,
} from '../../pipeline/enrich/routes/route-store.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import type { ObjectStore } from '../../pipeline/land/object-store.ts';
import { createObjectStore } from '../../pipeline/pipeline.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { consumeConfigFromEnv, loadConsumeConfig } from './consume-config.ts';
import { formatRows, type OutputFormat } from './query-command.ts';

export interface LakeOptions {
  /** `shardline dev` state directory (its lake is `<dir>/lake`). */
  readonly dir: string;
  /**
   * A `shardline consume` config: its lake. Wins over `dir`; without it, `$SHARDLINE_CONFIG` (the
   * JSON itself, as in the container) does, as for the other data engineers' commands.
   */
  readonly config?: string;
}

export const lakeStore = (o: LakeOptions): ObjectStore => {
  const config = o.config !== undefined ? loadConsumeConfig(o.config) : consumeConfigFromEnv();
  return config !== undefined ? createObjectStore(config.lake) : new LocalDirStore(join(o.dir, 'lake'));
};

/** `shardline endpoints import`: an OpenAPI document's routes become exact templates of a project. */
export async function runEndpointsImport(project: string, file: string, o: LakeOptions): Promise<number> {
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new ConfigError('file', `cannot read ${file}`, { cause });
  });
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('file', `${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}`, {
      cause,
    });
  }
  let routes: ReturnType<typeof routesFromOpenApi>;
  try {
    routes = routesFromOpenApi(doc);
  } catch (cause) {
    throw new ConfigError('file', `${file}: ${(cause as Error).message}`, { cause });
  }
  const store = lakeStore(o);
  await saveDeclared(store, {
    format: SNAPSHOT_FORMAT,
    project,
    source: file,
    savedAt: new Date().toISOString(),
    routes,
  });
  process.stdout.write(
    `imported ${new Set(routes.map((r) => r.template)).size} paths (${routes.length} operations) for ${project} into ${store.describe()}; workers use them within a minute\n`,
  );
  return 0;
}

/** The project's endpoints as counted by every worker, re-templated with the current routes and merged. */
export async function currentEndpoints(project: string, store: ObjectStore): Promise<EndpointStats[]> {
  const book = new RouteBook({ worker: 'shardline-cli' });
  await loadRouteBook(book, store);
  const learned = await loadLearned(store, project);
  const merged = new Map<string, EndpointStats>();
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  };
  for (const e of mergeEndpointStats(learned)) {
    // A template counted early (`/repos/torvalds/{id}`) joins what it is now (`/repos/{id}/{id}`);
    // an app's own route (named parameters) is kept as it is.
    const template = /\{(?!id\}|date\})[^}]+\}/.test(e.template)
      ? e.template
      : book.retemplate(project, e.template);
    let m = merged.get(template);
    if (m === undefined) {
      m = { template, count: 0, methods: {}, statuses: {}, query: {} };
      merged.set(template, m);
    }
    m.count += e.count;
    add(m.methods, e.methods);
    add(m.statuses, e.statuses);
    add(m.query, e.query);
  }
  const declared = await loadDeclared(store, project);
  for (const r of declared?.routes ?? []) {
    if (!merged.has(r.template))
      merged.set(r.template, {
        template: r.template,
        count: 0,
        methods: { [r.method]: 0 },
        statuses: {},
        query: {},
      });
  }
  return [...merged.values()].sort((a, b) => b.count - a.count || a.template.localeCompare(b.template));
}

const top = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');

/** `shardline endpoints list`. */
export async function runEndpointsList(
  project: string,
  o: LakeOptions & { format: OutputFormat },
): Promise<number> {
  const endpoints = await currentEndpoints(project, lakeStore(o));
  const rows = endpoints.map((e) => ({
    endpoint: e.template,
    requests: e.count,
    methods: top(e.methods),
    statuses: top(e.statuses),
    query: Object.keys(e.query).sort().join(','),
  }));
  process.stdout.write(`${formatRows(rows, o.format)}\n`);
  return 0;
}

/** `shardline endpoints export`: an OpenAPI 3.1 document of what was seen. */
export async function runEndpointsExport(
  project: string,
  o: LakeOptions & { out?: string },
): Promise<number> {
  const doc = openApiFromEndpoints(project, await currentEndpoints(project, lakeStore(o)));
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (o.out === undefined) process.stdout.write(text);
  else {
    await writeFile(o.out, text);
    process.stdout.write(`wrote ${o.out}\n`);
  }
  return 0;
}

/** An endpoint from an app's `route` field: it names its parameters (not only `{id}` and `{date}`). */
const APP_ROUTE = /\{(?!id\}|date\})[^}]+\}/;

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * `shardline endpoints retemplate`: rewrites `endpoint` of stored rows from their `path` with the
 * current routes (declared and learned). Rows whose endpoint came from the app's `route` field
 * (named parameters other than `{id}` and `{date}`) are left as they are.
 */
export async function runEndpointsRetemplate(
  o: LakeOptions & { db: string; project?: string },
): Promise<number> {
  const store = lakeStore(o);
  const book = new RouteBook({ worker: 'shardline-cli' });
  await loadRouteBook(book, store);
  const warehouse = await DuckDbWarehouse.open(o.db);
  try {
    const where = o.project === undefined ? '' : ` WHERE project_id = ${sqlString(o.project)}`;
    const rows = (
      await warehouse.query(`SELECT DISTINCT project_id, path, endpoint FROM requests${where}`)
    ).filter((r) => !APP_ROUTE.test(String(r.endpoint)));
    const changes = new Map<string, { project: string; path: string; endpoint: string }>();
    for (const r of rows) {
      const project = String(r.project_id);
      const path = String(r.path);
      const endpoint = book.retemplate(project, path);
      if (endpoint !== r.endpoint) changes.set(`${project}\u0000${path}`, { project, path, endpoint });
    }
    let updated = 0;
    const list = [...changes.values()];
    for (let i = 0; i < list.length; i += 500) {
      const values = list
        .slice(i, i + 500)
        .map((c) => `(${sqlString(c.project)}, ${sqlString(c.path)}, ${sqlString(c.endpoint)})`)
        .join(',');
      const [res] = await warehouse.query(
        `UPDATE requests SET endpoint = m.endpoint FROM (VALUES ${values}) AS m(project_id, path, endpoint) WHERE requests.project_id = m.project_id AND requests.path = m.path`,
      );
      updated += Number(res?.Count ?? res?.count ?? 0);
    }
    process.stdout.write(
      `${JSON.stringify({ paths: rows.length, pathsChanged: changes.size, rowsUpdated: updated })}\n`,
    );
    return 0;
  } finally {
    await warehouse.close();
  }
}
