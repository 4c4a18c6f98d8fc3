import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ShardlineError } from '../../../pipeline/errors.ts';
import { loadQueryLibrary } from '../../../schemas/queries/query-library.ts';
import { runNamedQueryOn } from '../named-query-runner.ts';
import { type ServedHttp, serveHttp } from '../serve-http.ts';
import type { WarehouseClient } from '../warehouse-client.ts';
import type { LiveState } from './live-state.ts';

export interface UiServerOptions {
  readonly port: number;
  readonly host: string;
  readonly client: WarehouseClient;
  /** The running pipeline's state (`shardline dev`); without it the page shows only the warehouse. */
  readonly live?: () => LiveState;
}

export type UiServer = ServedHttp;

const PAGE_DIR = join(import.meta.dirname, 'page');
/** Chart.js's self-contained UMD build, served from node_modules: no CDN, no build step. */
const CHART_JS = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

const STATIC: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: join(PAGE_DIR, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: join(PAGE_DIR, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/vendor/chart.umd.min.js': { file: CHART_JS, type: 'text/javascript; charset=utf-8' },
};

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    .end(JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
};

/**
 * The dashboard page and its small JSON API, over the named queries of schemas/queries/:
 *   GET /api/queries            the named queries and the parameters each takes
 *   GET /api/query/<name>?…     one named query; parameters as query-string values, times as
 *                               the CLI takes them (ISO, `now`, `-1h`); answers what it covered
 *   GET /api/live               the running pipeline's state (only under `shardline dev`)
 * Queries run one at a time: the page asks for all of them at once, and the warehouse is a file.
 */
export const startUiServer = async (options: UiServerOptions): Promise<UiServer> => {
  const library = loadQueryLibrary();
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const result = queue.then(task);
    queue = result.catch(() => undefined);
    return result;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    const file = STATIC[url.pathname];
    if (file) {
      res
        .writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' })
        .end(readFileSync(file.file));
      return;
    }
    if (url.pathname === '/api/queries') {
      return json(res, 200, {
        warehouse: options.client.describe,
        live: options.live !== undefined,
        queries: [...library.values()].map((q) => ({
          name: q.name,
          description: q.description,
          params: q.params,
        })),
      });
    }
    if (url.pathname === '/api/live') {
      if (!options.live) return json(res, 404, { error: 'no pipeline runs in this process (shardline ui)' });
      return json(res, 200, options.live());
    }
    const named = /^\/api\/query\/([a-z0-9_]+)$/.exec(url.pathname);
    if (named) {
      const query = library.get(named[1]!);
      if (!query) return json(res, 404, { error: `no query "${named[1]}"; see /api/queries` });
      try {
        const result = await serial(() =>
          runNamedQueryOn(options.client, query, Object.fromEntries(url.searchParams)),
        );
        return json(res, 200, result);
      } catch (e) {
        const known = e instanceof ShardlineError;
        return json(res, known ? 400 : 500, { error: e instanceof Error ? e.message : String(e) });
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; the dashboard is at /\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: e instanceof Error ? e.message : String(e) });
    });
  });
  return serveHttp(server, options.port, options.host);
};
