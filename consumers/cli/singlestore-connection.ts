import { type Connection, createConnection } from 'mysql2/promise';
import { ConfigError, ShardlineError } from '../../pipeline/errors.ts';

/**
 * A SingleStore reached over the MySQL protocol from a URL:
 * `singlestore://user:password@host:3306/database?ssl=true` (or `mysql://`). TLS is on unless
 * `ssl=false`, as SingleStore Helios requires it. Decimals come back as numbers and DATETIME(6)
 * as text (a JS Date would drop the microseconds), rewritten as ISO UTC like the DuckDB warehouse.
 */
export const connectSingleStore = async (url: string | undefined): Promise<Connection> => {
  if (url === undefined || url === '') {
    throw new ConfigError(
      '--url',
      'no SingleStore given: pass --url singlestore://user:pass@host:3306/db or set SINGLESTORE_URL',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError('--url', 'not a URL; expected singlestore://user:pass@host:3306/db', { cause });
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!['singlestore:', 'mysql:'].includes(parsed.protocol) || database === '') {
    throw new ConfigError(
      '--url',
      `expected singlestore://user:pass@host:3306/<database>, got ${parsed.protocol}//${parsed.host}${parsed.pathname}`,
    );
  }
  try {
    return await createConnection({
      host: parsed.hostname,
      port: parsed.port === '' ? 3306 : Number(parsed.port),
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      database,
      ...(parsed.searchParams.get('ssl') === 'false' ? {} : { ssl: { rejectUnauthorized: true } }),
      decimalNumbers: true,
      supportBigNumbers: true,
      dateStrings: true,
      timezone: 'Z',
      connectTimeout: 10_000,
    });
  } catch (cause) {
    throw new ShardlineError(
      `singlestore: cannot connect to ${parsed.hostname}:${parsed.port || 3306}/${database}: ${(cause as Error).message}; check the URL, the credentials and that the workspace accepts this address`,
      { cause, retriable: true },
    );
  }
};

const DATETIME = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/;

/** Rows as plain values: DATETIME text as ISO UTC with six digits, as the DuckDB warehouse prints. */
export const plainSingleStoreRows = (rows: unknown): Record<string, unknown>[] =>
  (rows as Record<string, unknown>[]).map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => {
        const m = typeof v === 'string' ? DATETIME.exec(v) : null;
        return [k, m ? `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}Z` : v];
      }),
    ),
  );
