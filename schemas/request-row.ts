import { z } from 'zod';

/**
 * The enriched row: one per accepted request log, one row of the `requests` table.
 *
 * This column list is the single definition behind the zod row schema (`RequestRowSchema`), the
 * Parquet/DuckDB column types (`duckdbType`) and, later, the SingleStore DDL. Order matters: it is
 * the column order of every Parquet file, so only ever append columns.
 */

export type ColumnType = 'timestamp' | 'string' | 'int16' | 'int32' | 'int64' | 'float64' | 'bool';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly doc: string;
  /**
   * Value of a non-nullable column added after the first release, in rows and files written
   * before it existed: warehouses get it as the column's DEFAULT, readers of old Parquet files
   * (which lack the column) use it in its place.
   */
  readonly default?: number;
}

const col = <N extends string>(
  name: N,
  type: ColumnType,
  nullable: boolean,
  doc: string,
  defaultValue?: number,
) => ({
  name,
  type,
  nullable,
  doc,
  ...(defaultValue === undefined ? {} : { default: defaultValue }),
});

export const REQUEST_COLUMNS = [
  col('ts', 'timestamp', false, 'When the request was received (UTC, microseconds).'),
  col('project_id', 'string', false, 'Project / API the request belongs to.'),
  col('request_id', 'string', false, 'Request id; derived from the content when the app sent none.'),
  col('method', 'string', false, 'HTTP method, upper case.'),
  col('host', 'string', true, 'Host header.'),
  col('path', 'string', false, 'URL path without the query string, secrets redacted.'),
  col('query', 'string', true, 'Query string without the leading `?`, secrets redacted.'),
  col('endpoint', 'string', false, 'Endpoint template, ids replaced: `/v1/users/{id}`.'),
  col('status', 'int16', false, 'HTTP status code.'),
  col('status_class', 'string', false, '`1xx` … `5xx`.'),
  col('is_error', 'bool', false, 'True for status >= 400.'),
  col('latency_ms', 'float64', false, 'Time to serve the request, milliseconds.'),
  col('bytes_in', 'int64', true, 'Request size, bytes.'),
  col('bytes_out', 'int64', true, 'Response size, bytes.'),
  col('client_ip', 'string', true, 'Client IP address.'),
  col('country', 'string', true, 'ISO 3166-1 alpha-2 country of the client IP (DB-IP Lite).'),
  col('city', 'string', true, 'City of the client IP (DB-IP Lite).'),
  col('user_agent', 'string', true, 'User-Agent header as sent.'),
  col('browser', 'string', true, 'Browser or client library name.'),
  col('browser_version', 'string', true, 'Browser major version.'),
  col('os', 'string', true, 'Operating system name.'),
  col('device_type', 'string', false, '`desktop`, `mobile`, `tablet`, `bot`, `other`.'),
  col('is_bot', 'bool', false, 'True when the client is a crawler, monitor or script.'),
  col('headers', 'string', true, 'Selected request headers as JSON, secrets redacted.'),
  col('request_body', 'string', true, 'Request body, capped and redacted.'),
  col('response_body', 'string', true, 'Response body, capped and redacted.'),
  col('redacted', 'string', true, 'Comma-separated names of the fields whose secrets were redacted.'),
  col('protocol', 'string', true, 'HTTP version.'),
  col('service', 'string', true, 'Service name from the sidecar.'),
  col('environment', 'string', true, 'Deployment environment from the sidecar.'),
  col('ingest_ts', 'timestamp', false, 'When Kinesis accepted the record (ApproximateArrivalTimestamp).'),
  col('shard_id', 'string', false, 'Kinesis shard the record came from.'),
  col('sequence_number', 'string', false, 'Kinesis sequence number of the record.'),
  col(
    'sub_sequence',
    'int32',
    false,
    'Position inside the record (KPL sub-record or line of an aggregated record).',
  ),
  col(
    'generation',
    'int64',
    false,
    'Which run derived the row: 0 for live ingestion, the replay id (epoch ms of its start) for a replay. Per (project_id, request_id, ts) the highest generation wins.',
    0,
  ),
] as const satisfies readonly ColumnDef[];

export type ColumnName = (typeof REQUEST_COLUMNS)[number]['name'];

/** Table name in every warehouse. */
export const REQUESTS_TABLE = 'requests';

const zodFor = (c: ColumnDef): z.ZodType => {
  const base: z.ZodType = (() => {
    switch (c.type) {
      case 'timestamp':
        // microseconds since the epoch, UTC
        return z.bigint();
      case 'string':
        return z.string();
      case 'int16':
      case 'int32':
        return z.number().int();
      case 'int64':
        return z.number().int();
      case 'float64':
        return z.number();
      case 'bool':
        return z.boolean();
    }
  })();
  if (c.default !== undefined) return base.default(c.default);
  return c.nullable ? base.nullable() : base;
};

export const RequestRowSchema = z.object(
  Object.fromEntries(REQUEST_COLUMNS.map((c) => [c.name, zodFor(c).describe(c.doc)])),
);

/**
 * One enriched request. Timestamps are microseconds since the epoch (bigint) so that nothing is
 * lost on the way to Parquet's TIMESTAMP(MICROS).
 */
export interface RequestRow {
  ts: bigint;
  project_id: string;
  request_id: string;
  method: string;
  host: string | null;
  path: string;
  query: string | null;
  endpoint: string;
  status: number;
  status_class: string;
  is_error: boolean;
  latency_ms: number;
  bytes_in: number | null;
  bytes_out: number | null;
  client_ip: string | null;
  country: string | null;
  city: string | null;
  user_agent: string | null;
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  device_type: string;
  is_bot: boolean;
  headers: string | null;
  request_body: string | null;
  response_body: string | null;
  redacted: string | null;
  protocol: string | null;
  service: string | null;
  environment: string | null;
  ingest_ts: bigint;
  shard_id: string;
  sequence_number: string;
  sub_sequence: number;
  /** Unset means 0 (live ingestion); a replay sets its run id. */
  generation?: number;
}

// Compile-time check that the interface and the column list name the same fields.
type _SameKeys = [ColumnName] extends [keyof RequestRow]
  ? [keyof RequestRow] extends [ColumnName]
    ? true
    : never
  : never;
export const _sameKeys: _SameKeys = true;

/** DuckDB (and Parquet logical) type of a column. */
export const duckdbType = (t: ColumnType): string => {
  switch (t) {
    case 'timestamp':
      return 'TIMESTAMP';
    case 'string':
      return 'VARCHAR';
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'float64':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
  }
};

/** A column's type and constraints in DuckDB DDL (`CREATE TABLE`, `ALTER TABLE … ADD COLUMN`). */
export const duckdbColumnType = (c: ColumnDef): string =>
  `${duckdbType(c.type)}${c.nullable ? '' : ' NOT NULL'}${c.default === undefined ? '' : ` DEFAULT ${c.default}`}`;

/** `CREATE TABLE` column list for DuckDB, derived from the one column definition. */
export const duckdbColumnsDdl = (): string =>
  REQUEST_COLUMNS.map((c) => `"${c.name}" ${duckdbColumnType(c)}`).join(',\n  ');

/** A request's identity in the pipeline and in both warehouses (their unique key). */
export const REQUEST_KEY_COLUMNS = [
  'project_id',
  'request_id',
  'ts',
] as const satisfies readonly ColumnName[];

/** Where a row's record was read: a resend of the same request differs here, and only here. */
export const ROW_SOURCE_COLUMNS = [
  'ingest_ts',
  'shard_id',
  'sequence_number',
  'sub_sequence',
] as const satisfies readonly ColumnName[];

/**
 * What enrichment derives from a request: the columns a replay compares to decide that it
 * changed a row (neither the key, nor where the record was read, nor the generation).
 */
export const DERIVED_COLUMNS: readonly ColumnDef[] = REQUEST_COLUMNS.filter(
  (c) =>
    !(REQUEST_KEY_COLUMNS as readonly string[]).includes(c.name) &&
    !(ROW_SOURCE_COLUMNS as readonly string[]).includes(c.name) &&
    c.name !== 'generation',
);
