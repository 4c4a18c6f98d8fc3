import type { FieldPacket } from 'mysql2';
import type { Connection } from 'mysql2/promise';
import { ConfigError, ShardlineError } from '../../pipeline/errors.ts';
import { DataApiError, QueryError } from './errors.ts';
import { connectSingleStore, plainSingleStoreRows } from './singlestore-connection.ts';

export interface SingleStoreResult {
  readonly columns: readonly string[];
  readonly rows: Record<string, unknown>[];
}

/**
 * One way of talking to SingleStore, whichever the URL chose: the MySQL protocol
 * (`singlestore://` or `mysql://`, port 3306) or the HTTPS Data API (`https://`, port 443, for
 * networks that only let HTTPS out, and for Helios workspaces reached from a browser-like host).
 * `?` placeholders either way. A SQL error becomes a QueryError with SingleStore's own message.
 */
export interface SingleStoreSession {
  /** `host/database (MySQL protocol)` or `… (Data API)`: for banners and errors. */
  readonly describe: string;
  /** A statement that returns rows. */
  query(sql: string, values?: readonly unknown[]): Promise<SingleStoreResult>;
  /** A statement that returns none (DDL, DML, START PIPELINE). */
  exec(sql: string, values?: readonly unknown[]): Promise<void>;
  end(): Promise<void>;
}

/** Opens a session for `url`: `https://user:pass@host/db` → Data API, `singlestore://`/`mysql://` → MySQL protocol. */
export const openSingleStore = async (url: string | undefined): Promise<SingleStoreSession> => {
  if (url?.startsWith('https://') || url?.startsWith('http://')) return dataApiSession(url);
  return mysqlSession(await connectSingleStore(url), url as string);
};

const isSqlError = (e: unknown): e is Error & { sqlMessage: string; errno?: number } =>
  e instanceof Error && typeof (e as { sqlMessage?: unknown }).sqlMessage === 'string';

const mysqlSession = (db: Connection, url: string): SingleStoreSession => {
  const parsed = new URL(url);
  const run = async <T>(task: () => Promise<T>): Promise<T> => {
    try {
      return await task();
    } catch (cause) {
      if (isSqlError(cause)) {
        throw new QueryError('singlestore', `SingleStore: ${cause.errno ?? ''} ${cause.sqlMessage}`.trim(), {
          cause,
        });
      }
      throw cause;
    }
  };
  return {
    describe: `${parsed.hostname}${parsed.pathname} (MySQL protocol)`,
    query: (sql, values = []) =>
      run(async () => {
        const [rows, fields] = await db.query(sql, [...values]);
        return {
          columns: ((fields ?? []) as FieldPacket[]).map((f) => f.name),
          rows: plainSingleStoreRows(rows),
        };
      }),
    exec: (sql, values = []) =>
      run(async () => {
        await db.query(sql, [...values]);
      }),
    end: () => db.end(),
  };
};

interface TuplesResponse {
  readonly results?: readonly {
    readonly columns?: readonly { readonly name: string; readonly dataType?: string }[];
    readonly rows?: readonly (readonly unknown[])[];
  }[];
}

const NUMERIC = /^(TINYINT|SMALLINT|MEDIUMINT|INT|BIGINT|DECIMAL|FLOAT|DOUBLE|BOOL|BIT|YEAR)/i;

/**
 * The Data API with Node's fetch: two documented endpoints (`/api/v2/query/tuples` for rows with
 * their columns, `/api/v2/exec` for statements) with Basic auth. Chosen over
 * `@singlestore/http-client`, a generated client with no types that brings superagent and ~90
 * packages into production for two POST requests.
 * https://docs.singlestore.com/cloud/reference/data-api/data-api-endpoint-reference/
 */
export const dataApiSession = (url: string, fetchImpl: typeof fetch = fetch): SingleStoreSession => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError('--url', 'not a URL; expected https://user:pass@host/<database>', { cause });
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '' || parsed.username === '') {
    throw new ConfigError(
      '--url',
      `expected https://user:pass@<workspace host>/<database> for the Data API, got ${parsed.protocol}//${parsed.host}${parsed.pathname}`,
    );
  }
  if (parsed.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
    throw new ConfigError(
      '--url',
      `the Data API takes credentials: use https://, not http://, for ${parsed.hostname}`,
    );
  }
  const base = `${parsed.protocol}//${parsed.host}`;
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  const post = async (path: string, sql: string, values: readonly unknown[]): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ sql, args: values, database }),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (cause) {
      throw new ShardlineError(
        `singlestore: cannot reach the Data API at ${base}: ${(cause as Error).message}; check the host and that the workspace accepts this address`,
        { cause, retriable: true },
      );
    }
    const text = await res.text();
    if (res.ok) return text === '' ? {} : JSON.parse(text);
    if (res.status === 401 || res.status === 403) {
      throw new DataApiError(
        res.status,
        `singlestore: the Data API refused the credentials (${res.status}); check the user and password in the URL`,
      );
    }
    if (res.status >= 400 && res.status < 500) {
      throw new QueryError('singlestore', `SingleStore: ${text.trim() || `HTTP ${res.status}`}`);
    }
    throw new DataApiError(
      res.status,
      `singlestore: the Data API answered ${res.status}: ${text.trim().slice(0, 500)}`,
    );
  };
  return {
    describe: `${parsed.hostname}/${database} (Data API)`,
    query: async (sql, values = []) => {
      const body = (await post('/api/v2/query/tuples', sql, values)) as TuplesResponse;
      const result = body.results?.[0];
      const columns = (result?.columns ?? []).map((c) => c.name);
      const numeric = (result?.columns ?? []).map((c) => NUMERIC.test(c.dataType ?? ''));
      const rows = (result?.rows ?? []).map((row) =>
        Object.fromEntries(
          columns.map((c, i) => {
            const v = row[i] ?? null;
            return [c, numeric[i] && typeof v === 'string' && v !== '' ? Number(v) : v];
          }),
        ),
      );
      return { columns, rows: plainSingleStoreRows(rows) };
    },
    exec: async (sql, values = []) => {
      await post('/api/v2/exec', sql, values);
    },
    end: async () => undefined,
  };
};
