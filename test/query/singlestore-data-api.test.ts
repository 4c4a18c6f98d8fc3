import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNamedQueryOn } from '../../consumers/cli/named-query-runner.ts';
import { openSingleStore } from '../../consumers/cli/singlestore-session.ts';
import { openWarehouseClient } from '../../consumers/cli/warehouse-client.ts';
import { runWarehouseCommand } from '../../consumers/cli/warehouse-command.ts';
import { loadQueryLibrary } from '../../schemas/queries/query-library.ts';

/**
 * SingleStore's HTTPS Data API, chosen by an https:// URL, against a local stand-in that answers
 * as the documented endpoints do (/api/v2/query/tuples, /api/v2/exec; Basic auth; `?` args; a SQL
 * error as a 4xx with SingleStore's message). The real service is tested in
 * singlestore-live-session.test.ts when a URL is given.
 */

interface Call {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: { sql: string; args: unknown[]; database: string };
}

let server: Server;
let url: string;
const calls: Call[] = [];

const bodyOf = async (req: IncomingMessage): Promise<string> => {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
};

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = JSON.parse(await bodyOf(req)) as Call['body'];
    calls.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
    if (req.headers.authorization !== `Basic ${Buffer.from('admin:s3cr=t').toString('base64')}`) {
      res.writeHead(401).end('Unauthorized');
    } else if (/^selec /i.test(body.sql)) {
      res
        .writeHead(400)
        .end(
          "Error 1064 (42000): You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'selec * from requests' at line 1",
        );
    } else if (req.url === '/api/v2/exec') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"lastInsertId":0,"rowsAffected":0}');
    } else if (/information_schema.PIPELINES\b/.test(body.sql) && !/FILES|BATCHES/.test(body.sql)) {
      res.writeHead(200).end(
        JSON.stringify({
          results: [{ columns: [{ name: 'state', dataType: 'VARCHAR' }], rows: [['Running']] }],
        }),
      );
    } else if (/PIPELINES_FILES/.test(body.sql)) {
      res.writeHead(200).end(
        JSON.stringify({
          results: [
            {
              columns: [
                { name: 'file_state', dataType: 'VARCHAR' },
                { name: 'files', dataType: 'BIGINT' },
              ],
              rows: [['Loaded', '12']],
            },
          ],
        }),
      );
    } else if (/status_class/.test(body.sql)) {
      res.writeHead(200).end(
        JSON.stringify({
          results: [
            {
              columns: [
                { name: 'status_class', dataType: 'VARCHAR' },
                { name: 'requests', dataType: 'BIGINT' },
                { name: 'share', dataType: 'DECIMAL' },
              ],
              rows: [
                ['2xx', '90', '0.9000'],
                ['5xx', '10', '0.1000'],
              ],
            },
          ],
        }),
      );
    } else {
      res
        .writeHead(200)
        .end(JSON.stringify({ results: [{ columns: [{ name: 'file', dataType: 'VARCHAR' }], rows: [] }] }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  // The Data API is HTTPS; the stand-in is plain HTTP on loopback, which the session also accepts.
  url = `http://admin:s3cr%3Dt@127.0.0.1:${(server.address() as AddressInfo).port}/analytics`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('SingleStore Data API session', () => {
  it('runs a named query through /api/v2/query/tuples with Basic auth, `?` args and the database; numbers come back as numbers', async () => {
    // Prepare
    const client = await openWarehouseClient({ warehouse: 'singlestore', db: '', url });
    const query = loadQueryLibrary().get('error_rate_by_status_class')!;
    calls.length = 0;

    // Act
    const result = await runNamedQueryOn(client, query, {
      project: 'acme',
      from: '2025-01-15T10:00:00Z',
      to: '2025-01-15T11:00:00Z',
    });

    // Assess
    expect(client.describe).toBe('SingleStore 127.0.0.1/analytics (Data API)');
    expect(calls[0]).toMatchObject({
      path: '/api/v2/query/tuples',
      body: {
        database: 'analytics',
        args: ['acme', '2025-01-15 10:00:00.000000', '2025-01-15 11:00:00.000000'],
      },
    });
    expect(calls[0]!.body.sql).toContain('project_id = ? AND ts >= ? AND ts < ?');
    expect(result.columns).toEqual(['status_class', 'requests', 'share']);
    expect(result.rows).toEqual([
      { status_class: '2xx', requests: 90, share: 0.9 },
      { status_class: '5xx', requests: 10, share: 0.1 },
    ]);
  });

  it("a SQL error is SingleStore's own message, as a QueryError", async () => {
    // Prepare
    const session = await openSingleStore(url);

    // Act
    const failed = session.query('selec * from requests');

    // Assess
    await expect(failed).rejects.toMatchObject({
      name: 'QueryError',
      message: expect.stringContaining("near 'selec * from requests' at line 1"),
    });
  });

  it('wrong credentials say so', async () => {
    // Act
    const session = await openSingleStore(url.replace('s3cr%3Dt', 'nope'));

    // Assess
    await expect(session.query('SELECT 1')).rejects.toMatchObject({ name: 'DataApiError', status: 401 });
  });

  it('`shardline warehouse status` and `pause` work over it (query/tuples for rows, exec for statements)', async () => {
    // Prepare
    const lines: string[] = [];
    calls.length = 0;

    // Act
    const status = await runWarehouseCommand(
      'status',
      { url, pipeline: 'shardline_requests', format: 'json', limit: 20 },
      (l) => lines.push(l),
    );
    const pause = await runWarehouseCommand(
      'pause',
      { url, pipeline: 'shardline_requests', format: 'json', limit: 20 },
      (l) => lines.push(l),
    );

    // Assess
    expect([status, pause]).toEqual([0, 0]);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      pipeline: 'shardline_requests',
      state: 'Running',
      loaded: 12,
    });
    expect(calls.at(-1)).toMatchObject({
      path: '/api/v2/exec',
      body: { sql: 'STOP PIPELINE `shardline_requests`' },
    });
  });
});
