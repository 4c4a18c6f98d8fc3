import { openWarehouseClient, type WarehouseTarget } from './warehouse-client.ts';

/**
 * Output of every command that prints rows. `json` is NDJSON everywhere (one object per line, no
 * enclosing array): it streams, and `jq`, DuckDB's `read_json` and most log tools read it as is.
 */
export type OutputFormat = 'table' | 'json' | 'csv';

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/**
 * Renders rows as an aligned text table, NDJSON or CSV. `columns` keeps the header when there are
 * no rows (a table still shows what it would have held, then `(0 rows)`).
 */
export const formatRows = (
  rows: readonly Record<string, unknown>[],
  format: OutputFormat,
  columns: readonly string[] = rows.length > 0 ? Object.keys(rows[0]!) : [],
): string => {
  if (format === 'json') return rows.map((r) => JSON.stringify(r)).join('\n');
  if (format === 'csv') {
    return [
      columns.map(csvCell).join(','),
      ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(',')),
    ].join('\n');
  }
  const text = (v: unknown) => (v === null || v === undefined ? 'NULL' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const fmt = (cells: string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    ...(columns.length > 0 ? [fmt([...columns]), fmt(widths.map((w) => '-'.repeat(w)))] : []),
    ...rows.map((r) => fmt(columns.map((c) => text(r[c])))),
    `(${rows.length} row${rows.length === 1 ? '' : 's'})`,
  ].join('\n');
};

/** Prints `formatted` followed by a line break, or nothing for NDJSON of no rows. */
export const printRows = (
  formatted: string,
  write: (text: string) => void = (t) => process.stdout.write(t),
) => {
  if (formatted !== '') write(`${formatted}\n`);
};

/**
 * `shardline query "<sql>"`: one statement on the embedded warehouse (its readers' snapshot, so the
 * loader is never held up) or on SingleStore. A SQL error is a QueryError with the warehouse's
 * message and position, printed by main without a stack.
 */
export const runQuery = async (
  sql: string,
  opts: WarehouseTarget & { format: OutputFormat; write?: (text: string) => void },
): Promise<number> => {
  const client = await openWarehouseClient(opts);
  try {
    const result = await client.run(sql);
    printRows(formatRows(result.rows, opts.format, result.columns), opts.write);
    return 0;
  } finally {
    await client.close();
  }
};
