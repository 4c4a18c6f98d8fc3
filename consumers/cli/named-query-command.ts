import { existsSync } from 'node:fs';
import { ConfigError } from '../../pipeline/errors.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { renderNamedQuery } from '../../schemas/queries/named-query.ts';
import { loadQueryLibrary, namedQuery } from '../../schemas/queries/query-library.ts';
import { formatRows, type OutputFormat } from './query-command.ts';
import { connectSingleStore, plainSingleStoreRows } from './singlestore-connection.ts';

export type WarehouseKind = 'embedded' | 'singlestore';

export interface NamedQueryOptions {
  readonly name: string;
  readonly warehouse: WarehouseKind;
  /** Embedded warehouse file. */
  readonly db: string;
  /** SingleStore URL (`--url`, else SINGLESTORE_URL). */
  readonly url: string | undefined;
  readonly format: OutputFormat;
  /** --project, --from, --to, --limit and every --param name=value. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** "now", for the default range (the last hour). */
  readonly now?: Date;
}

/** `name=value` pairs of --param, refused when malformed. */
export const parseParamPairs = (pairs: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw new ConfigError('--param', `"${pair}" is not name=value, e.g. --param min_requests=50`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );

/** Runs one query of schemas/queries/ on the configured warehouse and prints its rows. */
export const runNamedQuery = async (options: NamedQueryOptions): Promise<number> => {
  const query = namedQuery(options.name, loadQueryLibrary());
  const now = options.now ?? new Date();
  const to = options.params.to ?? now.toISOString();
  const from =
    options.params.from ??
    new Date(
      Date.parse(to.includes('T') || to.includes(' ') ? to : `${to}T00:00:00Z`) - 3_600_000,
    ).toISOString();
  const values = { ...options.params, from, to };
  let rows: Record<string, unknown>[];
  if (options.warehouse === 'embedded') {
    if (!existsSync(options.db)) {
      throw new ConfigError(
        '--db',
        `no warehouse at ${options.db}: run \`npm start\` first, or pass --db <file>`,
      );
    }
    const rendered = renderNamedQuery(query, 'duckdb', values);
    const warehouse = await DuckDbWarehouse.open(options.db, { readOnly: true });
    try {
      rows = await warehouse.queryWithParams(rendered.sql, rendered.values as Record<string, string>);
    } finally {
      await warehouse.close();
    }
  } else {
    const rendered = renderNamedQuery(query, 'singlestore', values);
    const db = await connectSingleStore(options.url);
    try {
      rows = plainSingleStoreRows((await db.query(rendered.sql, rendered.values))[0]);
    } finally {
      await db.end();
    }
  }
  process.stdout.write(`${formatRows(rows, options.format)}\n`);
  return 0;
};
