import { LIMITS } from '../request-log.ts';
import type { ColumnDef } from '../request-row.ts';

/**
 * Strings that are keys, or that analysts group by, get a bounded VARCHAR; the key columns
 * compare bytewise (utf8mb4_bin) so that `Req-1` and `req-1` stay two requests, as in DuckDB.
 * Bodies and headers can reach 16 KiB characters, up to 64 KiB of UTF-8: more than TEXT holds
 * (65,535 bytes), hence MEDIUMTEXT. On a columnstore VARCHAR and TEXT are stored alike; the length
 * only matters where a column sits in a key.
 * https://docs.singlestore.com/cloud/reference/sql-reference/data-types/string-types/
 */
const BINARY = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
const STRING_TYPES: Readonly<Record<string, string>> = {
  project_id: `VARCHAR(${LIMITS.maxIdLength}) ${BINARY}`,
  request_id: `VARCHAR(${LIMITS.maxIdLength}) ${BINARY}`,
  method: `VARCHAR(${LIMITS.maxMethodLength})`,
  status_class: 'VARCHAR(8)',
  country: 'VARCHAR(8)',
  device_type: 'VARCHAR(16)',
  shard_id: 'VARCHAR(64)',
  sequence_number: 'VARCHAR(64)',
  headers: 'MEDIUMTEXT',
  request_body: 'MEDIUMTEXT',
  response_body: 'MEDIUMTEXT',
};

/**
 * SingleStore type of a row column. Times are DATETIME(6), not TIMESTAMP: TIMESTAMP converts
 * to and from the session time zone and ends in 2038; DATETIME(6) keeps the UTC microseconds the
 * Parquet files carry, unchanged.
 * https://docs.singlestore.com/cloud/reference/sql-reference/data-types/time-and-date/
 */
export const singlestoreType = (c: ColumnDef): string => {
  switch (c.type) {
    case 'timestamp':
      return 'DATETIME(6)';
    case 'string':
      return STRING_TYPES[c.name] ?? 'TEXT';
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INT';
    case 'int64':
      return 'BIGINT';
    case 'float64':
      return 'DOUBLE';
    case 'bool':
      return 'BOOL';
  }
};

/** One column definition line of `CREATE TABLE` / `ALTER TABLE … ADD COLUMN`. */
export const singlestoreColumnDdl = (c: ColumnDef): string =>
  `\`${c.name}\` ${singlestoreType(c)}${c.nullable ? ' NULL' : ' NOT NULL'}${c.default === undefined ? '' : ` DEFAULT ${c.default}`}`;
