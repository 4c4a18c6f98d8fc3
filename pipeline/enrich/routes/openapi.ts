import { pathSegments } from '../endpoint-template.ts';
import { normaliseRoute } from './declared-routes.ts';
import type { EndpointStats } from './route-snapshot.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface DeclaredRoute {
  readonly method: string;
  readonly template: string;
}

/**
 * The routes of an OpenAPI (3.x) or Swagger (2.0) document: every path under the server's base
 * path (`servers[0].url` or `basePath`), with its methods.
 */
export function routesFromOpenApi(doc: unknown): DeclaredRoute[] {
  if (typeof doc !== 'object' || doc === null)
    throw new TypeError('not an OpenAPI document: expected an object');
  const d = doc as {
    paths?: Record<string, Record<string, unknown>>;
    servers?: { url?: string }[];
    basePath?: string;
  };
  if (typeof d.paths !== 'object' || d.paths === null)
    throw new TypeError('not an OpenAPI document: no `paths`');
  let base = d.basePath ?? '';
  const server = d.servers?.[0]?.url;
  if (typeof server === 'string') {
    const withoutOrigin = server.replace(/^[a-z]+:\/\/[^/]*/i, '');
    // Server variables in the base path (`/{version}`) are kept as parameters.
    base = withoutOrigin;
  }
  base = base.replace(/\/+$/, '');
  const out: DeclaredRoute[] = [];
  for (const [path, item] of Object.entries(d.paths)) {
    const template = normaliseRoute(`${base}${path}`);
    const methods = METHODS.filter((m) => typeof item?.[m] === 'object');
    for (const m of methods.length > 0 ? methods : (['get'] as const))
      out.push({ method: m.toUpperCase(), template });
  }
  return out;
}

const paramName = (previous: string | undefined, used: Set<string>): string => {
  let base = (previous ?? 'param').replace(/[^A-Za-z0-9_]/g, '_').replace(/s$/, '');
  base = base === '' ? 'param' : `${base}_id`;
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}${i}`;
  used.add(name);
  return name;
};

/** A template with each parameter named after the literal before it: `/users/{id}/repos/{id}` → `/users/{user_id}/repos/{repo_id}`. */
export function nameParameters(template: string): { path: string; names: string[] } {
  const used = new Set<string>();
  const names: string[] = [];
  let previous: string | undefined;
  const segments = pathSegments(template).map((segment) => {
    if (!segment.includes('{')) {
      previous = segment;
      return segment;
    }
    return segment.replace(/\{[^}]*\}/g, (match) => {
      const given = match.slice(1, -1);
      const name =
        given !== '' && given !== 'id' && given !== 'date' && !used.has(given)
          ? given
          : paramName(previous, used);
      used.add(name);
      names.push(name);
      return `{${name}}`;
    });
  });
  return { path: `/${segments.join('/')}`, names };
}

/**
 * An OpenAPI 3.1 document of the endpoints seen: paths, methods, path parameters, the query
 * parameters seen and the status codes returned.
 */
export function openApiFromEndpoints(
  project: string,
  endpoints: readonly EndpointStats[],
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...endpoints].sort((a, b) => a.template.localeCompare(b.template));
  for (const e of sorted) {
    const { path, names } = nameParameters(e.template);
    paths[path] ??= {};
    const item = paths[path];
    for (const [method, count] of Object.entries(e.methods)) {
      const m = method.toLowerCase();
      if (!(METHODS as readonly string[]).includes(m) || item[m] !== undefined) continue;
      const responses: Record<string, unknown> = {};
      for (const status of Object.keys(e.statuses).sort()) {
        if (/^[1-5]\d\d$/.test(status))
          responses[status] = { description: `Seen ${e.statuses[status]} times.` };
      }
      if (Object.keys(responses).length === 0) responses.default = { description: 'No status seen.' };
      item[m] = {
        summary: `${method} ${e.template}`,
        description: `Seen ${count} times (all methods: ${e.count}).`,
        parameters: [
          ...names.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
          ...Object.keys(e.query)
            .sort()
            .map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
        ],
        responses,
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `${project} (learned by Shardline from traffic)`,
      version: new Date().toISOString().slice(0, 10),
    },
    paths,
  };
}
