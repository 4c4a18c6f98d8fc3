import { existsSync } from 'node:fs';
import { ConfigError } from '../../pipeline/errors.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

export type OutputFormat = 'table' | 'json' | 'csv';

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** Renders rows as an aligned text table, JSON lines or CSV. */
export const formatRows = (rows: readonly Record<string, unknown>[], format: OutputFormat): string => {
  if (format === 'json') return rows.map((r) => JSON.stringify(r)).join('\n');
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
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
    fmt(columns),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => fmt(columns.map((c) => text(r[c])))),
    `(${rows.length} row${rows.length === 1 ? '' : 's'})`,
  ].join('\n');
};

export const runQuery = async (sql: string, opts: { db: string; format: OutputFormat }): Promise<number> => {
  if (!existsSync(opts.db)) {
    throw new ConfigError('--db', `no warehouse at ${opts.db}: run \`npm start\` first, or pass --db <file>`);
  }
  const warehouse = await DuckDbWarehouse.open(opts.db, { readOnly: true });
  try {
    const rows = await warehouse.query(sql);
    process.stdout.write(`${formatRows(rows, opts.format)}\n`);
    return 0;
  } finally {
    await warehouse.close();
  }
};
