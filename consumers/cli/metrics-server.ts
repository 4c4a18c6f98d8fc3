import { createServer, type Server } from 'node:http';
import { type ServedHttp, serveHttp } from './serve-http.ts';

export interface MetricsServerOptions {
  readonly port: number;
  readonly host: string;
  readonly metrics: () => string;
  readonly health: () => { ok: boolean; reasons?: readonly string[]; detail: Record<string, unknown> };
}

export type MetricsServer = ServedHttp;

/** `GET /metrics` (Prometheus text) and `GET /health` (200 or 503 with a JSON body). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/metrics') {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        .end(options.metrics());
    } else if (path === '/health') {
      const { ok, reasons, detail } = options.health();
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'unhealthy', reasons: reasons ?? [], ...detail }));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /health\n');
    }
  });
  return serveHttp(server, options.port, options.host);
}
