import type { z } from 'zod';
import { ConfigError } from './errors.ts';

/**
 * Config errors a person can act on: every line names the field and says what to write there.
 * Parse every config with `parseConfig`; its error map sees each issue while the schema that
 * raised it and the bad value are still at hand, which is what lets it suggest the key that was
 * meant or quote the value that was given.
 *
 * @example
 * my.json is invalid:
 *   stream.name: required; add it (Kinesis data stream name)
 *   top level: unknown key "lakes" (did you mean "lake"?)
 */

type RawIssue = z.core.$ZodRawIssue;
type Issue = z.core.$ZodIssue;

// A value of a field named with one of these words is never quoted: config errors get printed and
// logged. Whole words, so that `apiKey` and `sessionToken` count and `maxKeys` does not.
const SECRET_WORDS = new Set([
  'pass',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'key',
  'credential',
  'credentials',
  'auth',
  'authorization',
  'signature',
  'private',
  'cookie',
]);

export const looksSecret = (name: string): boolean =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((word) => SECRET_WORDS.has(word));

const ISO_DATE_TIME =
  'an ISO 8601 date-time such as 2026-11-29T00:00:00Z (with Z or an offset such as +01:00)';

/** Damerau-Levenshtein distance (optimal string alignment): a swap of two letters costs one edit. */
export const editDistance = (a: string, b: string): number => {
  const width = b.length + 1;
  const d = new Array<number>((a.length + 1) * width).fill(0);
  const at = (i: number, j: number): number => d[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) d[i * width] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
};

/** The candidate a typo most likely meant, or undefined when none is close enough to guess. */
export const closestName = (word: string, candidates: readonly string[]): string | undefined => {
  const lower = word.toLowerCase();
  // About one edit per three letters: "lakes" → "lake", but "db" is not a guess at "dir".
  const allowed = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= allowed ? best : undefined;
};

const quote = (value: unknown): string => {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}…"` : json;
};

const kindOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : 'a date';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
};

const lastKey = (path: readonly PropertyKey[] | undefined): string =>
  String([...(path ?? [])].reverse().find((k) => typeof k === 'string') ?? '');

/** The bad value for the message: quoted for plain settings, only its kind for secret-looking ones. */
const got = (issue: RawIssue): string => {
  const value = issue.input;
  if (looksSecret(lastKey(issue.path))) return `got ${kindOf(value)}`;
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return `got ${quote(value)}`;
  }
  return `got ${kindOf(value)}`;
};

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object ({ … })',
  array: 'a list ([ … ])',
  date: ISO_DATE_TIME,
  null: 'null',
};

const FORMATS: Record<string, string> = {
  datetime: ISO_DATE_TIME,
  url: 'a URL such as http://127.0.0.1:4567',
  date: 'a date such as 2026-11-29',
  email: 'an e-mail address',
  uuid: 'a UUID',
};

const describeOf = (inst: unknown): string | undefined => {
  const description = (inst as { description?: unknown } | undefined)?.description;
  return typeof description === 'string' ? description.replace(/\.$/, '') : undefined;
};

const formatOf = (inst: unknown): string | undefined => {
  const format = (inst as { _zod?: { def?: { format?: unknown } } } | undefined)?._zod?.def?.format;
  return typeof format === 'string' ? format : undefined;
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const alternatives = (items: readonly string[]): string =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : (items[0] ?? '');

const listed = (values: readonly unknown[]): string => values.map((v) => quote(v)).join(', ');

const didYouMean = (value: unknown, values: readonly unknown[]): string => {
  if (typeof value !== 'string') return '';
  const guess = closestName(
    value,
    values.filter((v): v is string => typeof v === 'string'),
  );
  return guess === undefined ? '' : ` (did you mean ${quote(guess)}?)`;
};

const oneOf = (issue: RawIssue, values: readonly unknown[]): string => {
  const allowed = values.length === 1 ? quote(values[0]) : `one of ${listed(values)}`;
  const hint = looksSecret(lastKey(issue.path)) ? '' : didYouMean(issue.input, values);
  return `must be ${allowed}, ${got(issue)}${hint}`;
};

const knownKeys = (inst: unknown): string[] => {
  const def = (inst as { _zod?: { def?: { type?: string; shape?: Record<string, unknown> } } })?._zod?.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
};

const unknownKeyMessage = (key: string, known: readonly string[]): string => {
  const guess = closestName(key, known);
  if (guess !== undefined) return `unknown key ${quote(key)} (did you mean ${quote(guess)}?)`;
  return known.length > 0
    ? `unknown key ${quote(key)}; remove it (keys allowed here: ${known.join(', ')})`
    : `unknown key ${quote(key)}; remove it`;
};

/** What one branch of a plain union wanted, for "expected X or Y". */
const expectation = (issue: Issue): string | undefined => {
  if (issue.code === 'invalid_type') return EXPECTED[issue.expected] ?? issue.expected;
  if (issue.code === 'invalid_value') return listed(issue.values);
  if (issue.code === 'invalid_format') return FORMATS[issue.format] ?? issue.format;
  return undefined;
};

const boundMessage = (issue: RawIssue & { code: 'too_small' | 'too_big' }): string => {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const bound =
    issue.inclusive === false ? (small ? 'greater than' : 'less than') : small ? 'at least' : 'at most';
  const value = issue.input;
  switch (issue.origin) {
    case 'string':
      return `must be ${bound} ${limit} characters long, got ${typeof value === 'string' ? value.length : '?'}`;
    case 'array':
    case 'set':
      return `must have ${bound} ${limit} entries, got ${Array.isArray(value) ? value.length : '?'}`;
    default:
      return `must be ${bound} ${limit}, ${got(issue)}`;
  }
};

/**
 * The per-parse zod error map of every config. Returns undefined (zod's own text) only for
 * issues a config cannot raise; messages a schema wrote itself (refinements) outrank this map.
 */
export const configIssueMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) {
        const description = describeOf(issue.inst);
        return description ? `required; add it (${description})` : 'required; add it';
      }
      const format = formatOf(issue.inst);
      const expected = (format && FORMATS[format]) ?? EXPECTED[issue.expected] ?? issue.expected;
      const unquote =
        issue.expected === 'number' || issue.expected === 'int' || issue.expected === 'boolean'
          ? typeof issue.input === 'string'
            ? '; write it without quotes'
            : ''
          : '';
      return `expected ${expected}, ${got(issue)}${unquote}`;
    }
    case 'invalid_value':
      return oneOf(issue, issue.values);
    case 'invalid_format': {
      const expected =
        FORMATS[issue.format] ?? (issue.pattern ? `a value matching ${issue.pattern}` : issue.format);
      return `expected ${expected}, ${got(issue)}`;
    }
    case 'too_small':
    case 'too_big':
      return boundMessage(issue);
    case 'unrecognized_keys': {
      const known = knownKeys(issue.inst);
      return issue.keys.map((key) => unknownKeyMessage(key, known)).join('; ');
    }
    case 'invalid_union': {
      if (issue.discriminator !== undefined) {
        const options = (issue as { options?: readonly unknown[] }).options ?? [];
        const types = options.filter((o) => o !== undefined);
        const description = describeOf(issue.inst);
        const about = description ? ` — ${description}` : '';
        // The issue's input is the whole object; the message is about its discriminator.
        const input = isObject(issue.input) ? issue.input[issue.discriminator] : undefined;
        if (input === undefined) return `required; set it to one of ${listed(types)}${about}`;
        return `${oneOf({ ...issue, input }, types)}${about}`;
      }
      const wanted = [...new Set(issue.errors.map((branch) => branch[0] && expectation(branch[0])))];
      if (wanted.length === 0 || wanted.some((w) => w === undefined)) return undefined;
      return `expected ${alternatives(wanted as string[])}, ${got(issue)}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}, ${got(issue)}`;
    default:
      return undefined;
  }
};

const fieldOf = (path: readonly PropertyKey[]): string =>
  path.length ? path.map(String).join('.') : 'top level';

/**
 * One ConfigError for every issue of a parse: a line per issue, each `field: what to do`. The
 * error's `field` is the first broken field (for an unknown key, that key itself).
 */
export const configErrorFrom = (source: string, error: z.ZodError): ConfigError => {
  const lines = error.issues.map((i) => `  ${fieldOf(i.path)}: ${i.message}`);
  const first = error.issues[0];
  const path =
    first?.code === 'unrecognized_keys' ? [...first.path, first.keys[0] ?? ''] : (first?.path ?? []);
  return new ConfigError(
    fieldOf(path),
    `${source} is invalid:\n${lines.join('\n')}\nFix the field${lines.length > 1 ? 's' : ''} above and start again.`,
  );
};

/** Parses a config value, or throws a ConfigError that says what to fix in `source`. */
export const parseConfig = <S extends z.ZodType>(
  schema: S,
  value: unknown,
  source = 'config',
): z.output<S> => {
  const result = schema.safeParse(value, { error: configIssueMessage });
  if (!result.success) throw configErrorFrom(source, result.error);
  return result.data;
};

/**
 * A config given as JSON in an environment variable (a container's task definition, a Lambda's
 * environment): the parsed value, or undefined when the variable is unset or blank. Bad JSON is a
 * config error naming the variable.
 */
export const configJsonFromEnv = (name: string, env: NodeJS.ProcessEnv = process.env): unknown => {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(name, `is not valid JSON: ${(cause as Error).message}`, { cause });
  }
};
