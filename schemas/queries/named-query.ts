import { ConfigError } from '../../pipeline/errors.ts';
import { DIALECTS, type DialectName, MACRO_ARITY, type MacroName } from './sql-dialect.ts';

export type ParamType = 'string' | 'timestamp' | 'int' | 'float';

export interface ParamDef {
  readonly name: string;
  readonly type: ParamType;
  /** Text of the default value; parameters without one are required. */
  readonly defaultValue?: string;
  readonly doc: string;
}

/** One dashboard query: a `schemas/queries/<name>.sql` file. */
export interface NamedQuery {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamDef[];
  /** The SQL with `{{macros}}` and `:params`, as written. */
  readonly template: string;
}

export interface RenderedQuery {
  readonly sql: string;
  /** DuckDB: values by name (`$name`); SingleStore: values in placeholder order (`?`). */
  readonly values: Record<string, string> | string[];
}

/** `-- @param name type [numeric default] doc`; only numbers have defaults. */
const PARAM_LINE =
  /^--\s*@param\s+([a-z_][a-z0-9_]*)\s+(string|timestamp|int|float)(?:\s+(-?\d+(?:\.\d+)?)(?=\s|$))?\s*(.*)$/;
const PARAM_TYPES = new Set<ParamType>(['string', 'timestamp', 'int', 'float']);

/**
 * Reads a query file: leading `--` lines are its description, `-- @param name type [default] doc`
 * lines its parameters. Every `:name` in the SQL must be declared and every declared parameter used.
 */
export const parseNamedQuery = (name: string, text: string): NamedQuery => {
  const lines = text.split('\n');
  const description: string[] = [];
  const params: ParamDef[] = [];
  let i = 0;
  for (; i < lines.length && (lines[i] ?? '').startsWith('--'); i++) {
    const line = lines[i] as string;
    const param = PARAM_LINE.exec(line);
    if (param) {
      const [, pname, type, defaultValue, doc] = param;
      params.push({
        name: pname as string,
        type: type as ParamType,
        ...(defaultValue === undefined ? {} : { defaultValue }),
        doc: (doc ?? '').trim(),
      });
    } else if (line.includes('@param')) {
      throw new ConfigError(
        `query ${name}`,
        `cannot read "${line}"; write -- @param <name> <${[...PARAM_TYPES].join('|')}> [numeric default] <doc>`,
      );
    } else {
      description.push(line.replace(/^--\s?/, ''));
    }
  }
  const template = lines.slice(i).join('\n').trim();
  const used = new Set(paramTokens(template).map((t) => t.name));
  for (const p of params) {
    if (!used.has(p.name))
      throw new ConfigError(`query ${name}`, `parameter :${p.name} is declared but not used`);
  }
  for (const u of used) {
    if (!params.some((p) => p.name === u)) {
      throw new ConfigError(`query ${name}`, `:${u} is used but not declared; add -- @param ${u} <type>`);
    }
  }
  expandMacros(name, template, DIALECTS.duckdb.macros);
  return { name, description: description.join(' ').trim(), params, template };
};

interface Token {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** `:name` tokens outside string literals (and not `::` casts). */
const paramTokens = (sql: string): Token[] => {
  const tokens: Token[] = [];
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === "'") {
      i = sql.indexOf("'", i + 1);
      if (i === -1) break;
    } else if (ch === ':' && sql[i - 1] !== ':' && sql[i + 1] !== ':') {
      const match = /^[a-z_][a-z0-9_]*/.exec(sql.slice(i + 1));
      if (match) {
        tokens.push({ name: match[0], start: i, end: i + 1 + match[0].length });
        i += match[0].length;
      }
    }
  }
  return tokens;
};

/** Splits macro arguments on top-level commas (not inside parentheses, brackets or quotes). */
const splitArgs = (args: string): string[] => {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quoted = false;
  for (let i = 0; i < args.length; i++) {
    const ch = args[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && (ch === '(' || ch === '[')) depth++;
    else if (!quoted && (ch === ')' || ch === ']')) depth--;
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(args.slice(start).trim());
  return out;
};

/** Replaces `{{macro(args)}}`, innermost first, so macros may nest. */
const expandMacros = (
  name: string,
  sql: string,
  macros: Readonly<Record<MacroName, (...args: string[]) => string>>,
): string => {
  let out = sql;
  for (let open = out.lastIndexOf('{{'); open !== -1; open = out.lastIndexOf('{{')) {
    const close = out.indexOf('}}', open);
    const call = /^(\w+)\(([\s\S]*)\)$/.exec(out.slice(open + 2, close === -1 ? undefined : close).trim());
    const macro = call?.[1] as MacroName | undefined;
    if (close === -1 || !call || macro === undefined || !(macro in MACRO_ARITY)) {
      throw new ConfigError(
        `query ${name}`,
        `cannot expand "${out.slice(open, close === -1 ? open + 40 : close + 2)}"; macros are ${Object.keys(MACRO_ARITY).join(', ')}`,
      );
    }
    const args = splitArgs(call[2] as string);
    const [min, max] = MACRO_ARITY[macro];
    if (args.length < min || args.length > max) {
      throw new ConfigError(
        `query ${name}`,
        `{{${macro}}} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`,
      );
    }
    let expanded: string;
    try {
      expanded = macros[macro](...args);
    } catch (cause) {
      throw new ConfigError(`query ${name}`, cause instanceof Error ? cause.message : String(cause), {
        cause,
      });
    }
    out = out.slice(0, open) + expanded + out.slice(close + 2);
  }
  return out;
};

/** `2025-01-15 10:00:00.000000`: the UTC text both warehouses read as a timestamp. */
const timestampText = (value: string, param: string): string => {
  const trimmed = value.trim();
  // A zone-less time is UTC, as everywhere in Shardline.
  const withZone =
    /[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) || /^\d{4}-\d\d-\d\d$/.test(trimmed) ? trimmed : `${trimmed}Z`;
  const ms = Date.parse(withZone.replace(' ', 'T'));
  if (!Number.isFinite(ms)) {
    throw new ConfigError(`--${param}`, `"${value}" is not a time; use ISO 8601, e.g. 2025-01-15T10:00:00Z`);
  }
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, -1)}000`;
};

/** Checks and normalises one value; numbers come back as their canonical text. */
const checkValue = (p: ParamDef, value: string): string => {
  switch (p.type) {
    case 'string':
      return value;
    case 'timestamp':
      return timestampText(value, p.name);
    case 'int':
      if (!/^-?\d{1,15}$/.test(value.trim()))
        throw new ConfigError(`--${p.name}`, `"${value}" is not an integer`);
      return String(Number(value));
    case 'float':
      if (!Number.isFinite(Number(value)) || value.trim() === '') {
        throw new ConfigError(`--${p.name}`, `"${value}" is not a number`);
      }
      return String(Number(value));
  }
};

/**
 * The query in one dialect with its values bound. Strings and times are bound as parameters;
 * numbers, already checked to be numbers, are written into the SQL (MySQL cannot bind a LIMIT
 * in every client).
 */
export const renderNamedQuery = (
  query: NamedQuery,
  dialectName: DialectName,
  given: Readonly<Record<string, string | undefined>>,
): RenderedQuery => {
  const dialect = DIALECTS[dialectName];
  const values = new Map<string, string>();
  for (const p of query.params) {
    const raw = given[p.name] ?? p.defaultValue;
    if (raw === undefined) {
      throw new ConfigError(`--${p.name}`, `query ${query.name} needs it: ${p.doc || p.type}`);
    }
    values.set(p.name, checkValue(p, raw));
  }
  const template = expandMacros(query.name, query.template, dialect.macros);
  const positional: string[] = [];
  let sql = '';
  let last = 0;
  for (const t of paramTokens(template)) {
    const def = query.params.find((p) => p.name === t.name) as ParamDef;
    const value = values.get(t.name) as string;
    sql += template.slice(last, t.start);
    if (def.type === 'int' || def.type === 'float') {
      sql += value;
    } else {
      sql += dialect.placeholder(t.name);
      positional.push(value);
    }
    last = t.end;
  }
  sql += template.slice(last);
  const named = Object.fromEntries(
    query.params
      .filter((p) => p.type === 'string' || p.type === 'timestamp')
      .map((p) => [p.name, values.get(p.name) as string]),
  );
  return { sql, values: dialectName === 'duckdb' ? named : positional };
};
