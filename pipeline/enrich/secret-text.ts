import { MIN_TOKEN_LENGTH, opaqueKind, shannonEntropy } from './opaque-token.ts';
import { isIdName, isSecretFieldName, normaliseName } from './secret-names.ts';

/**
 * The one scanner every stored text goes through (path, query, header values, user agent, bodies,
 * and the short columns). It finds credentials three ways, in this order:
 *
 * 1. by shape: known formats (JWTs, AWS key ids, GitHub, Stripe, Google, Slack, GitLab, npm,
 *    OpenAI-style keys, Slack webhooks, PEM private keys, bearer and basic credentials, passwords
 *    in URLs), payment cards (13-19 digits, one consistent separator, Luhn, a card network's first
 *    digit, not glued to other digits or letters) and email addresses (PII);
 * 2. by name, in text that was not parsed: `password=…`, `"token": "…"`, GraphQL `secret: "…"`,
 *    `<password>…</password>`, `;jsessionid=…` — the name rules are those of `secret-names.ts`;
 * 3. by randomness: opaque tokens and long hex strings (`opaque-token.ts`), unless the name in
 *    front of them says id or hash.
 *
 * Each step is skipped when a cheap test shows it cannot match, so that ordinary values (ids,
 * dates, words, short header values) cost a regex test and one pass over their characters.
 */

export interface ScanOptions {
  /** Text is a URL path: `/` ends values and tokens, and the segment before a token is its name. */
  readonly path?: boolean;
  /** The whole text sits where ids and hashes go (an `etag` header, an `*_id` key). */
  readonly idPosition?: boolean;
}

const SHAPES = new RegExp(
  [
    /(?<jwt>eyJ[\w-]{2,}\.eyJ[\w-]{2,}\.[\w-]*)/.source,
    /(?<aws>\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b)/.source,
    /\b(?<bearer>[Bb]earer)\s+(?<bearerToken>[^\s"'<>,;\\]+)/.source,
    /\b(?<basic>Basic)\s+(?<basicToken>[A-Za-z0-9+/]{8,}={0,2})/.source,
    /(?<![A-Za-z0-9])(?<apiKey>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}|whsec_[A-Za-z0-9+/=]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}|SG\.[\w-]{16,}\.[\w-]{16,})/
      .source,
    /(?<webhook>\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/)(?<webhookSecret>[A-Za-z0-9]{16,})/.source,
    /(?<privateKey>-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))/.source,
    /(?<urlPrefix>:\/\/[^\s:@/?#]+:)(?<urlPassword>[^\s@/?#]+)@/.source,
    /(?<![\w.+-])(?<card>[2-6]\d{3}(?:[ .-]?\d){9,15})(?![\w])/.source,
    /(?<email>(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}(?:@|%40)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24})(?![\w])/
      .source,
  ].join('|'),
  'g',
);

/**
 * Every shape above contains one of these. The card hint is 13 digits, not just 4: trace ids and
 * UUIDs often hold 4 digits in a row, rarely 13.
 */
const SHAPE_HINT =
  /eyJ|A[KSGIRN][A-Z]A|earer|Basic|_live_|_test_|gh[pousr]_|github_pat_|whsec_|xox|AIza|glpat-|npm_|sk-|SG\.|services\/T|-----BEGIN|:\/\/|@|%40|[2-6]\d{3}(?:[ .-]?\d){9}/;

/** Any secret name contains one of these; text without them holds no `name=value` secret. */
const NAME_HINT =
  /pass|pw|pswd|secret|token|auth|key|sess|sid|sig|cred|cookie|jwt|bearer|otp|mfa|cv[cv]|card|ssn|pin|pan|\\u/i;

const NAMED_VALUE =
  /(?<![\w.%\\-])((?:[A-Za-z_]|\\u[0-9a-fA-F]{4})(?:[\w.%[\]-]|\\u[0-9a-fA-F]{4}){0,63})(\\?["'])?[ \t]*([:=])[ \t]*/g;
const XML_ELEMENT = /<((?:[\w.-]+:)?[A-Za-z_][\w.-]{0,63})(?:\s[^<>]{0,512})?>([^<]*)/g;

/** Auth schemes written before the credential: `Authorization: Bearer abc` redacts `abc`. */
const SCHEMES = new Set(['bearer', 'basic', 'token', 'digest', 'negotiate', 'apikey', 'aws4-hmac-sha256']);

const record = (found: string[], name: string): void => {
  if (!found.includes(name)) found.push(name);
};

/** False when `text` certainly holds no credential of a known shape. */
export const mayHoldSecret = (text: string): boolean => text.length >= 8 && SHAPE_HINT.test(text);

const luhnValid = (digits: string): boolean => {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
};

/**
 * The length, in characters of `run`, of the card number it starts with, or 0. Without separators
 * the whole run must be the card (a longer number only contains one by chance); with separators,
 * all of one kind, the card ends at a group boundary, so `4111 1111 1111 1111 22` gives the first
 * 19 characters and a number in `orders:4242…4` is not cut in two.
 */
const cardLength = (run: string): number => {
  let separator = -1;
  const groups: number[] = [];
  let group = 0;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      group++;
      continue;
    }
    if (separator !== -1 && c !== separator) return 0;
    separator = c;
    groups.push(group);
    group = 0;
  }
  groups.push(group);
  const digits = run.replace(/\D/g, '');
  if (separator === -1) return digits.length <= 19 && luhnValid(digits) ? run.length : 0;
  if (groups.length < 3 || groups[0] !== 4) return 0;
  let best = 0;
  let count = 0;
  let chars = 0;
  for (let g = 0; g < groups.length; g++) {
    const size = groups[g] ?? 0;
    if (g < groups.length - 1 && (size < 4 || size > 6) && count + size < 13) return best;
    count += size;
    chars += size + (g === 0 ? 0 : 1);
    if (count > 19) break;
    if (count >= 13 && g >= 2 && luhnValid(digits.slice(0, count))) best = chars;
  }
  return best;
};

const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

const redactShapes = (text: string, label: string, found: string[]): string =>
  text.replace(SHAPES, (match: string, ...rest: unknown[]) => {
    const g = rest[rest.length - 1] as Record<string, string | undefined>;
    if (g.jwt !== undefined) {
      record(found, `${label}:jwt`);
      return '[REDACTED:jwt]';
    }
    if (g.aws !== undefined) {
      record(found, `${label}:aws_key`);
      return '[REDACTED:aws_key]';
    }
    if (g.bearer !== undefined && g.bearerToken !== undefined) {
      const token = g.bearerToken;
      // `bearer of bad news` is prose; a credential has digits or symbols, or is long.
      if (token.startsWith('[REDACTED')) return match;
      if (token.length < 16 && /^[A-Za-z]+[.!?]?$/.test(token)) return match;
      record(found, `${label}:bearer`);
      return `${g.bearer} [REDACTED]`;
    }
    if (g.basic !== undefined && g.basicToken !== undefined) {
      // base64 of `user:password` mixes cases or digits; `Basic information` does not.
      if (!/[A-Z0-9=+/]/.test(g.basicToken.slice(1))) return match;
      record(found, `${label}:basic`);
      return 'Basic [REDACTED]';
    }
    if (g.apiKey !== undefined) {
      record(found, `${label}:api_key`);
      return '[REDACTED:api_key]';
    }
    if (g.webhook !== undefined) {
      record(found, `${label}:webhook`);
      return `${g.webhook}[REDACTED]`;
    }
    if (g.privateKey !== undefined) {
      record(found, `${label}:private_key`);
      return '[REDACTED:private_key]';
    }
    if (g.urlPrefix !== undefined) {
      record(found, `${label}:url_password`);
      return `${g.urlPrefix}[REDACTED]@`;
    }
    if (g.card !== undefined) {
      const end = cardLength(g.card);
      if (end === 0) return match;
      record(found, `${label}:card`);
      return `[REDACTED:card]${g.card.slice(end)}`;
    }
    if (g.email !== undefined) {
      record(found, `${label}:email`);
      return '[REDACTED:email]';
    }
    return match;
  });

const isValueEnd = (c: number, path: boolean): boolean =>
  c <= 32 ||
  c === 38 || // &
  c === 59 || // ;
  c === 44 || // ,
  c === 41 || // )
  c === 125 || // }
  c === 93 || // ]
  c === 60 || // <
  c === 62 || // >
  c === 34 || // "
  c === 39 || // '
  c === 92 || // backslash: the end of an escaped JSON string
  (path && (c === 47 || c === 63 || c === 35)); // / ? #

/** [start, end) of the value that begins at `from`, quoted or not; the quotes are kept. */
const valueSpan = (text: string, from: number, path: boolean): [number, number] => {
  let i = from;
  let quote = '';
  if (text.charCodeAt(i) === 92 && (text[i + 1] === '"' || text[i + 1] === "'")) quote = `\\${text[i + 1]}`;
  else if (text[i] === '"' || text[i] === "'") quote = text[i] as string;
  if (quote !== '') {
    const start = i + quote.length;
    if (quote.length === 1) {
      for (i = start; i < text.length; i++) {
        const c = text[i];
        if (c === '\\') i++;
        else if (c === quote) break;
      }
      return [start, Math.min(i, text.length)];
    }
    const close = text.indexOf(quote, start);
    return [start, close === -1 ? text.length : close];
  }
  while (i < text.length && !isValueEnd(text.charCodeAt(i), path)) i++;
  // `Authorization: Bearer abc`: the credential is the word after the scheme.
  const word = text.slice(from, i).toLowerCase();
  if (SCHEMES.has(word) && text.charCodeAt(i) === 32) {
    let j = i + 1;
    while (j < text.length && !isValueEnd(text.charCodeAt(j), path)) j++;
    return [i + 1, j];
  }
  return [from, i];
};

const isRedactedMark = (text: string, start: number): boolean =>
  text.startsWith('[REDACTED', start) || text.startsWith('REDACTED', start);

const redactNamedValues = (text: string, label: string, found: string[], path: boolean): string => {
  let out = '';
  let copied = 0;
  NAMED_VALUE.lastIndex = 0;
  for (let m = NAMED_VALUE.exec(text); m !== null; m = NAMED_VALUE.exec(text)) {
    const name = m[1] as string;
    if (!isSecretFieldName(name)) continue;
    const [start, end] = valueSpan(text, NAMED_VALUE.lastIndex, path);
    if (end <= start || start < copied || isRedactedMark(text, start)) continue;
    out += `${text.slice(copied, start)}[REDACTED]`;
    copied = end;
    NAMED_VALUE.lastIndex = end;
    record(found, `${label}:${normaliseName(name)}`);
  }
  let result = copied === 0 ? text : out + text.slice(copied);
  if (result.indexOf('<') !== -1) {
    result = result.replace(XML_ELEMENT, (match: string, tag: string, content: string) => {
      const local = tag.slice(tag.lastIndexOf(':') + 1);
      if (content.trim() === '' || isRedactedMark(content, 0) || !isSecretFieldName(local)) return match;
      record(found, `${label}:${normaliseName(local)}`);
      return `${match.slice(0, match.length - content.length)}[REDACTED]`;
    });
  }
  return result;
};

/** The name just before a value at `start` (`name=`, `"name": "`, or the path segment before it). */
const nameBefore = (text: string, start: number, path: boolean): string => {
  let i = start - 1;
  if (path) {
    if (text.charCodeAt(i) !== 47) return '';
    const prev = text.lastIndexOf('/', i - 1);
    return text.slice(prev + 1, i);
  }
  while (i >= 0 && (text[i] === '"' || text[i] === "'" || text[i] === ' ' || text[i] === '\\')) i--;
  if (text[i] !== ':' && text[i] !== '=') return '';
  i--;
  while (i >= 0 && (text[i] === '"' || text[i] === "'" || text[i] === ' ' || text[i] === '\\')) i--;
  const end = i + 1;
  while (i >= 0 && (isAlnum(text.charCodeAt(i)) || text[i] === '_' || text[i] === '-' || text[i] === '.'))
    i--;
  return text.slice(i + 1, end);
};

const isTokenChar = (c: number): boolean => isAlnum(c) || c === 95 || c === 45;

/** AWS secret access keys: 40 base64 characters, which include `+` and `/`, so they are not one token run. */
const isBase64Secret = (text: string, start: number, end: number): boolean => {
  if (end - start !== 40) return false;
  let upper = 0;
  let lower = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) upper++;
    else if (c >= 97 && c <= 122) lower++;
    else if (c >= 48 && c <= 57) digits++;
  }
  return upper >= 3 && lower >= 3 && digits >= 1 && shannonEntropy(text, start, end) >= 4.3;
};

const redactOpaque = (
  text: string,
  label: string,
  found: string[],
  options: ScanOptions | undefined,
): string => {
  const path = options?.path === true;
  let out = '';
  let copied = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (!isTokenChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    // A wide run also spans `+` and `/`, for base64 secrets; paths start with `/` and never are one.
    let end = i;
    while (end < n) {
      const c = text.charCodeAt(end);
      if (isTokenChar(c) || ((c === 43 || c === 47) && !path)) end++;
      else break;
    }
    let wideEnd = end;
    while (wideEnd < n && text.charCodeAt(wideEnd) === 61) wideEnd++;
    if (end - i === 40 && isBase64Secret(text, i, end)) {
      out += `${text.slice(copied, i)}[REDACTED:token]`;
      copied = end;
      record(found, `${label}:token`);
      i = wideEnd;
      continue;
    }
    // Otherwise each `[\w-]` run inside the wide run is judged on its own.
    let j = i;
    while (j < end) {
      let k = j;
      while (k < end && isTokenChar(text.charCodeAt(k))) k++;
      if (k - j >= MIN_TOKEN_LENGTH) {
        const kind = opaqueKind(text, j, k);
        if (
          kind !== null &&
          options?.idPosition !== true &&
          !(j > 0 && text.startsWith('[REDACTED', j - 1)) &&
          !isIdName(nameBefore(text, j, path))
        ) {
          out += `${text.slice(copied, j)}[REDACTED:token]`;
          copied = k;
          record(found, `${label}:token`);
        }
      }
      j = k + 1;
    }
    i = wideEnd === end ? end : wideEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
};

/**
 * `text` with every credential found replaced by a `[REDACTED…]` marker (bearer and basic
 * credentials keep their scheme, URL passwords the user name, named values their name). Appends
 * `label:kind` for each kind found to `found`, once.
 */
export function redactSecretsInText(
  text: string,
  label: string,
  found: string[],
  options?: ScanOptions,
): string {
  if (text.length < 8) return text;
  let out = text;
  if (SHAPE_HINT.test(out)) out = redactShapes(out, label, found);
  if (NAME_HINT.test(out)) out = redactNamedValues(out, label, found, options?.path === true);
  return out.length >= MIN_TOKEN_LENGTH ? redactOpaque(out, label, found, options) : out;
}
