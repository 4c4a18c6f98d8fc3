/**
 * Everything that differs between the two warehouses' SQL, in one place. The query files use
 * `{{macro(args)}}` for these and `:name` for parameters; everything else in them is SQL both
 * DuckDB and SingleStore (MySQL dialect) read the same way.
 *
 * - percentile: both compute the exact, linearly interpolated percentile. DuckDB's
 *   `quantile_cont` is its native form; SingleStore has PERCENTILE_CONT … WITHIN GROUP as an
 *   aggregate (https://docs.singlestore.com/cloud/reference/sql-reference/window-functions/percentile-cont-and-median/).
 * - count_true: DuckDB has `count_if`, which gives NULL, not 0, when the condition is NULL on
 *   every row (`redacted LIKE …` where nothing was redacted), hence the COALESCE; SingleStore's
 *   BOOL is a TINYINT, counted with CASE.
 * - ratio: DuckDB's `/` on integers is already a double; SingleStore's is a DECIMAL. Both
 *   round to 4 places and give NULL, not an error, for a zero denominator.
 * - minute: DATE_TRUNC exists in both, with the same unit names.
 * - parameters: DuckDB binds `$name`; the MySQL protocol binds `?` by position.
 */
export type DialectName = 'duckdb' | 'singlestore';

export type MacroName = 'percentile' | 'count_true' | 'ratio' | 'minute';

export interface SqlDialect {
  readonly name: DialectName;
  readonly macros: Readonly<Record<MacroName, (...args: string[]) => string>>;
  placeholder(param: string): string;
}

export const DUCKDB: SqlDialect = {
  name: 'duckdb',
  macros: {
    percentile: (expr, fraction) => `quantile_cont(${expr}, ${fraction})`,
    count_true: (condition) => `count_if(COALESCE(${condition}, false))`,
    ratio: (numerator, denominator) => `round(CAST(${numerator} AS DOUBLE) / NULLIF(${denominator}, 0), 4)`,
    minute: (time) => `date_trunc('minute', ${time})`,
  },
  placeholder: (param) => `$${param}`,
};

export const SINGLESTORE: SqlDialect = {
  name: 'singlestore',
  macros: {
    percentile: (expr, fraction) => `PERCENTILE_CONT(${fraction}) WITHIN GROUP (ORDER BY ${expr})`,
    count_true: (condition) => `COUNT(CASE WHEN ${condition} THEN 1 END)`,
    ratio: (numerator, denominator) => `ROUND(${numerator} / NULLIF(${denominator}, 0), 4)`,
    minute: (time) => `DATE_TRUNC('minute', ${time})`,
  },
  placeholder: () => '?',
};

export const DIALECTS: Readonly<Record<DialectName, SqlDialect>> = {
  duckdb: DUCKDB,
  singlestore: SINGLESTORE,
};

/** Arity of each macro, checked when a query file is read. */
export const MACRO_ARITY: Readonly<Record<MacroName, number>> = {
  percentile: 2,
  count_true: 1,
  ratio: 2,
  minute: 1,
};
