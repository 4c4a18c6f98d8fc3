import { ConfigError } from '../../pipeline/errors.ts';
import { loadQueryLibrary, namedQuery } from '../../schemas/queries/query-library.ts';
import { describeCoverage, runNamedQueryOn } from './named-query-runner.ts';
import { formatRows, type OutputFormat, printRows } from './query-command.ts';
import { openWarehouseClient, type WarehouseKind } from './warehouse-client.ts';

export type { WarehouseKind } from './warehouse-client.ts';

export interface NamedQueryOptions {
  readonly name: string;
  readonly warehouse: WarehouseKind;
  /** Embedded warehouse file. */
  readonly db: string;
  /** SingleStore URL (`--url`, else SINGLESTORE_URL). */
  readonly url: string | undefined;
  readonly format: OutputFormat;
  /** --project, --from, --to, --limit and every --param name=value; undefined = not given. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** "now", for relative times and the default range (the last hour). */
  readonly now?: Date;
  /** stdout (rows) and stderr (what the rows cover, why there are none). */
  readonly write?: (text: string) => void;
  readonly writeErr?: (text: string) => void;
}

/** `name=value` pairs of --param, refused when malformed or repeated. */
export const parseParamPairs = (pairs: readonly string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new ConfigError('--param', `"${pair}" is not name=value, e.g. --param min_requests=50`);
    const name = pair.slice(0, eq);
    if (name in out) throw new ConfigError('--param', `${name} is given twice`);
    out[name] = pair.slice(eq + 1);
  }
  return out;
};

/**
 * Runs one query of schemas/queries/ and prints its rows on stdout; on stderr, the project, range
 * and time zone they cover, and why there are none when there are none.
 */
export const runNamedQuery = async (options: NamedQueryOptions): Promise<number> => {
  const query = namedQuery(options.name, loadQueryLibrary());
  const writeErr = options.writeErr ?? ((t: string) => process.stderr.write(t));
  const client = await openWarehouseClient(options);
  try {
    const result = await runNamedQueryOn(client, query, options.params, options.now ?? new Date());
    writeErr(`-- ${describeCoverage(result)}\n`);
    printRows(formatRows(result.rows, options.format, result.columns), options.write);
    if (result.note !== undefined) writeErr(`-- ${result.note}\n`);
    return 0;
  } finally {
    await client.close();
  }
};
