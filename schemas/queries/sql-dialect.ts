/**
 * Everything that differs between the two warehouses' SQL, in one place. The query files use
 * `{{macro(args)}}` for these and `:name` for parameters; everything else in them is SQL both
 * DuckDB and SingleStore (MySQL dialect) read the same way, including the window total
 * `SUM(requests) OVER ()` the share queries use over their groups (SingleStore documents SUM
 * as a window function too, https://docs.singlestore.com/managed-service/en/reference/sql-reference/aggregate-functions/sum.html;
 * OVER with neither PARTITION BY nor ORDER BY is the whole result,
 * https://docs.singlestore.com/db/v10/developer-resources/functional-extensions/working-with-window-functions/).
 *
 * - percentile: both compute the exact, linearly interpolated percentile. DuckDB's
 *   `quantile_cont` is its native form; SingleStore has PERCENTILE_CONT … WITHIN GROUP as an
 *   aggregate (https://docs.singlestore.com/cloud/reference/sql-reference/window-functions/percentile-cont-and-median/).
 *   An optional third argument lists every fraction the query takes of the same column,
 *   `{{percentile(x, 0.95, [0.5, 0.95, 0.99])}}`: DuckDB then computes them in one
 *   `quantile_cont(x, [list])` and picks one (it folds identical aggregates into one; separate
 *   quantile aggregates each copy every value of the group, which made p50/p95/p99 per endpoint
 *   ~1.6x slower on 4.5M rows); SingleStore, which has no lists, gets one PERCENTILE_CONT each.
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

/** The 1-based position of `fraction` in a `[0.5, 0.95, …]` list argument. */
const fractionPosition = (fraction: string, list: string): number => {
  const inner = /^\[(.*)\]$/s.exec(list.trim())?.[1];
  const fractions = inner?.split(',').map((f) => Number(f.trim())) ?? [];
  const position = fractions.indexOf(Number(fraction)) + 1;
  if (inner === undefined || fractions.some((f) => !(f >= 0 && f <= 1)) || position === 0) {
    // named-query.ts turns this into a ConfigError naming the query.
    throw new Error(
      `the third argument of percentile must list fractions in [0, 1] including ${fraction}, e.g. [0.5, 0.95, 0.99]; got ${list}`,
    );
  }
  return position;
};

export const DUCKDB: SqlDialect = {
  name: 'duckdb',
  macros: {
    percentile: (expr, fraction, together) =>
      together === undefined
        ? `quantile_cont(${expr}, ${fraction})`
        : `quantile_cont(${expr}, ${together.trim()})[${fractionPosition(fraction, together)}]`,
    count_true: (condition) => `count_if(COALESCE(${condition}, false))`,
    ratio: (numerator, denominator) => `round(CAST(${numerator} AS DOUBLE) / NULLIF(${denominator}, 0), 4)`,
    minute: (time) => `date_trunc('minute', ${time})`,
  },
  placeholder: (param) => `$${param}`,
};

export const SINGLESTORE: SqlDialect = {
  name: 'singlestore',
  macros: {
    percentile: (expr, fraction, together) => {
      if (together !== undefined) fractionPosition(fraction, together);
      return `PERCENTILE_CONT(${fraction}) WITHIN GROUP (ORDER BY ${expr})`;
    },
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

/** Fewest and most arguments of each macro, checked when a query file is read. */
export const MACRO_ARITY: Readonly<Record<MacroName, readonly [min: number, max: number]>> = {
  percentile: [2, 3],
  count_true: [1, 1],
  ratio: [2, 2],
  minute: [1, 1],
};
