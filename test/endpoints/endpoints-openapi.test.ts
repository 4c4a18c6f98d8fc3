import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { currentEndpoints, runEndpointsImport } from '../../consumers/cli/endpoints-command.ts';
import { routeOf } from '../../fluent-bit/node/request-logger.ts';
import { createEnricher } from '../../pipeline/enrich/enrich-log.ts';
import { GeoIp } from '../../pipeline/enrich/geo-ip.ts';
import { normaliseRoute } from '../../pipeline/enrich/routes/declared-routes.ts';
import { openApiFromEndpoints, routesFromOpenApi } from '../../pipeline/enrich/routes/openapi.ts';
import { RouteBook } from '../../pipeline/enrich/routes/route-book.ts';
import { loadRouteBook, syncRouteBook } from '../../pipeline/enrich/routes/route-store.ts';
import { UserAgentClassifier } from '../../pipeline/enrich/user-agent.ts';
import { MemoryStore } from '../../pipeline/land/memory-store.ts';
import { fastValidateLog } from '../../pipeline/validate/fast-check.ts';
import type { RequestLog } from '../../schemas/request-log.ts';
import { runCorpus } from './run-corpus.ts';

const ctx = {
  shardId: 'shardId-000000000000',
  sequenceNumber: '1',
  subSequence: 0,
  arrivedAt: new Date('2026-01-01T00:00:00Z'),
  requestId: 'r1',
  tsMicros: 1n,
};
const log = (over: Partial<RequestLog>): RequestLog => ({
  project_id: 'p',
  method: 'GET',
  path: '/',
  status: 200,
  latency_ms: 1,
  ...over,
});

const OPENAPI = {
  openapi: '3.0.3',
  info: { title: 'repos', version: '1' },
  servers: [{ url: 'https://api.example.com/v3' }],
  paths: {
    '/repos/{owner}/{repo}': { get: {} },
    '/repos/{owner}/{repo}/branches/{branch}': { get: {} },
    '/projects/{name}:addRole': { post: {} },
  },
};

describe('routes the app knows: the route field', () => {
  it('is the endpoint, in {param} style, and the fast validation path accepts it', () => {
    // Prepare
    const enrich = createEnricher({
      geoIp: GeoIp.disabled(),
      userAgents: new UserAgentClassifier(),
      routes: new RouteBook(),
    });
    const record = log({ path: '/users/octo-cat/repos', route: '/users/:username/repos' });

    // Act
    const row = enrich(record, ctx);

    // Assess
    expect(fastValidateLog(record as unknown as Record<string, unknown>)).toBe(record);
    expect(row.endpoint).toBe('/users/{username}/repos');
  });

  it.each([
    ['/users/:id', '/users/{id}'],
    ['/files/*', '/files/{path}'],
    ['/a/:id(\\d+)/b/:name?', '/a/{id}/b/{name}'],
    ['/users/{user_id}', '/users/{user_id}'],
  ])('normalises %s to %s', (route, expected) => {
    expect(normaliseRoute(route)).toBe(expected);
  });

  it('comes from Express (baseUrl + route.path) and Fastify (routeOptions.url)', () => {
    const express = { route: { path: '/:id' }, baseUrl: '/v1/users' } as never;
    const fastify = { shardlineRoute: '/v1/orders/:orderId' } as never;
    expect(routeOf(express)).toBe('/v1/users/:id');
    expect(routeOf(fastify)).toBe('/v1/orders/:orderId');
    expect(routeOf({} as never)).toBeUndefined();
  });
});

describe('routes a team declares and routes to look at', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-endpoints-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads OpenAPI paths under the server base path', () => {
    expect(routesFromOpenApi(OPENAPI).map((r) => `${r.method} ${r.template}`)).toEqual([
      'GET /v3/repos/{owner}/{repo}',
      'GET /v3/repos/{owner}/{repo}/branches/{branch}',
      'POST /v3/projects/{name}:addRole',
    ]);
  });

  it('import makes a YAML document exact for its project, stored where learned routes are', async () => {
    // Prepare
    const file = join(dir, 'openapi.yaml');
    await writeFile(file, toYaml(OPENAPI));
    await runEndpointsImport('proj_repos', file, { dir });
    const { LocalDirStore } = await import('../../pipeline/land/local-dir-store.ts');
    const book = new RouteBook();
    await loadRouteBook(book, new LocalDirStore(join(dir, 'lake')));

    // Act
    const endpoints = [
      book.endpoint('proj_repos', '/v3/repos/torvalds/linux', 'GET', 200, null),
      book.endpoint('proj_repos', '/v3/repos/torvalds/linux/branches/main', 'GET', 200, null),
      book.endpoint('proj_repos', '/v3/projects/my-project:addRole', 'POST', 200, null),
      book.endpoint('other', '/v3/repos/torvalds/linux', 'GET', 200, null),
    ];

    // Assess
    expect(endpoints).toEqual([
      '/v3/repos/{owner}/{repo}',
      '/v3/repos/{owner}/{repo}/branches/{branch}',
      '/v3/projects/{name}:addRole',
      '/v3/repos/torvalds/linux',
    ]);
  });

  it('import stores into the lake of $SHARDLINE_CONFIG when no --config is given, as the other lake commands do', async () => {
    // Prepare: the container's way of configuring a worker, with its own lake.
    const file = join(dir, 'openapi.yaml');
    await writeFile(file, toYaml(OPENAPI));
    const lake = join(dir, 'configured-lake');
    const before = process.env.SHARDLINE_CONFIG;
    process.env.SHARDLINE_CONFIG = JSON.stringify({
      stream: { name: 'api-logs', region: 'us-east-1' },
      lake: { type: 'local', dir: lake },
    });

    // Act
    try {
      await runEndpointsImport('proj_repos', file, { dir });
    } finally {
      if (before === undefined) delete process.env.SHARDLINE_CONFIG;
      else process.env.SHARDLINE_CONFIG = before;
    }

    // Assess: the routes are in the configured lake, not under the dev directory.
    const { LocalDirStore } = await import('../../pipeline/land/local-dir-store.ts');
    const configured = new RouteBook();
    await loadRouteBook(configured, new LocalDirStore(lake));
    const dev = new RouteBook();
    await loadRouteBook(dev, new LocalDirStore(join(dir, 'lake')));
    expect(configured.endpoint('proj_repos', '/v3/repos/torvalds/linux', 'GET', 200, null)).toBe(
      '/v3/repos/{owner}/{repo}',
    );
    expect(dev.endpoint('proj_repos', '/v3/repos/torvalds/linux', 'GET', 200, null)).toBe(
      '/v3/repos/torvalds/linux',
    );
  });

  it('export writes an OpenAPI 3.1 document that the 3.1 schema accepts', async () => {
    // Prepare
    const run = runCorpus(1_500);
    const store = new MemoryStore();
    await syncRouteBook(run.book, store);

    // Act
    const docs = [];
    for (const api of ['github-like', 'stripe-like', 'kubernetes-like', 's3-like']) {
      docs.push(openApiFromEndpoints(api, await currentEndpoints(api, store)));
    }

    // Assess
    const validator = new Validator();
    for (const doc of docs) {
      const result = await validator.validate(doc);
      expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
      expect(result.valid).toBe(true);
      expect(validator.version).toBe('3.1');
    }
    const github = docs[0] as { paths: Record<string, Record<string, { parameters: { in: string }[] }>> };
    const issue = github.paths['/repos/{repo_id}/{repo_id2}/issues'];
    expect(Object.keys(github.paths).length).toBeGreaterThan(20);
    expect(issue?.get?.parameters.some((p) => p.in === 'query')).toBe(true);
  });
});
