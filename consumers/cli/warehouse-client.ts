import type { RenderedQuery } from '../../schemas/queries/named-query.ts';
import type { DialectName } from '../../schemas/queries/sql-dialect.ts';
import { openSingleStore } from './singlestore-session.ts';
import { type QueryResult, queryWarehouse, readableFile } from './warehouse-reader.ts';

export type WarehouseKind = 'embedded' | 'singlestore';

/**
 * Where analyst queries run (`shardline query`, `shardline ui`): the embedded warehouse, read
 * through its snapshot so that no query holds up loading, or SingleStore over the MySQL protocol
 * or the Data API. Values bind as the dialect expects (`$name` for DuckDB, `?` for SingleStore).
 */
export interface WarehouseClient {
  readonly dialect: DialectName;
  /** What the queries read, for banners and output headers. */
  readonly describe: string;
  run(sql: string, values?: RenderedQuery['values']): Promise<QueryResult>;
  close(): Promise<void>;
}

export interface WarehouseTarget {
  readonly warehouse: WarehouseKind;
  /** Embedded warehouse file. */
  readonly db: string;
  /** SingleStore URL: singlestore://, mysql:// (MySQL protocol) or https:// (Data API). */
  readonly url?: string;
}

export const openWarehouseClient = async (target: WarehouseTarget): Promise<WarehouseClient> => {
  if (target.warehouse === 'embedded') {
    const file = readableFile(target.db);
    return {
      dialect: 'duckdb',
      describe: `DuckDB ${file.file}${file.snapshot ? " (the loader's snapshot: behind the warehouse by at most one refresh)" : ''}`,
      run: (sql, values) =>
        queryWarehouse(target.db, sql, values === undefined || Array.isArray(values) ? undefined : values),
      close: async () => undefined,
    };
  }
  const session = await openSingleStore(target.url);
  return {
    dialect: 'singlestore',
    describe: `SingleStore ${session.describe}`,
    run: (sql, values) => session.query(sql, Array.isArray(values) ? values : []),
    close: () => session.end(),
  };
};
