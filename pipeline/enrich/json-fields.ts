import { listedName } from './secret-names.ts';

/**
 * Redacts the values of secret-named keys in JSON text, at any depth, without parsing and
 * re-serialising it: everything but the redacted values stays byte-identical (spacing, key
 * order, number formats), and text cut off by truncation is handled too (an unterminated secret
 * value is redacted to the end).
 */

const REDACTED_VALUE = '"[REDACTED]"';
const QUOTE = 34;
const BACKSLASH = 92;

/** Index just past the closing quote of the string that opens at `open`, or `text.length`. */
const stringEnd = (text: string, open: number): number => {
  let i = open + 1;
  for (;;) {
    const close = text.indexOf('"', i);
    if (close === -1) return text.length;
    let backslashes = 0;
    for (let j = close - 1; j > open && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return close + 1;
    i = close + 1;
  }
};

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

const skipSpace = (text: string, i: number): number => {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
};

/** Index just past the JSON value that starts at `start` (string, object, array or literal). */
const valueEnd = (text: string, start: number): number => {
  const c = text.charCodeAt(start);
  if (c === QUOTE) return stringEnd(text, start);
  if (c === 123 || c === 91) {
    let depth = 0;
    let i = start;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d === QUOTE) {
        i = stringEnd(text, i);
        continue;
      }
      if (d === 123 || d === 91) depth++;
      else if (d === 125 || d === 93) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return text.length;
  }
  let i = start;
  while (i < text.length) {
    const d = text.charCodeAt(i);
    if (d === 44 || d === 125 || d === 93 || isSpace(d)) break;
    i++;
  }
  return i;
};

const keyOf = (raw: string): string => {
  if (raw.indexOf('\\') === -1) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
};

/**
 * `text` with the value of every key for which `isSecret(key)` holds replaced by `"[REDACTED]"`
 * (`null` and `""` are kept: there is nothing to hide). Appends `label:key` (lower case) to `found`.
 */
export function redactJsonFields(
  text: string,
  isSecret: (key: string) => boolean,
  label: string,
  found: string[],
): string {
  let out = '';
  let copied = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    const end = stringEnd(text, i);
    const colon = skipSpace(text, end);
    if (text.charCodeAt(colon) !== 58) {
      i = text.indexOf('"', end);
      continue;
    }
    const valueStart = skipSpace(text, colon + 1);
    const key = keyOf(text.slice(i + 1, end - 1));
    if (valueStart >= text.length || !isSecret(key)) {
      i = text.indexOf('"', valueStart);
      continue;
    }
    const stop = valueEnd(text, valueStart);
    const value = text.slice(valueStart, stop);
    if (value !== 'null' && value !== '""') {
      out += text.slice(copied, valueStart) + REDACTED_VALUE;
      copied = stop;
      const name = `${label}:${listedName(key)}`;
      if (!found.includes(name)) found.push(name);
    }
    i = text.indexOf('"', stop);
  }
  return copied === 0 ? text : out + text.slice(copied);
}
