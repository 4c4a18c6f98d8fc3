import { HotCache } from './hot-cache.ts';
import { isHex, MIN_TOKEN_LENGTH, opaqueKind, randomSlashPieces, shannonEntropy } from './opaque-token.ts';
import {
  isIdName,
  isSecretFieldName,
  isSecretQueryName,
  listedName,
  normaliseName,
  PAIR_NAME_KEYS,
  PAIR_VALUE_KEYS,
} from './secret-names.ts';

/**
 * The one scanner every stored text goes through (path, query, header values, user agent, bodies,
 * and the short columns). It finds credentials three ways, in this order:
 *
 * 1. by shape: known formats (JWTs, AWS key ids, GitHub, Stripe, Google, Slack, GitLab, npm,
 *    Docker, New Relic, age, Shopify, Twilio, Mailgun, Databricks, DigitalOcean, Supabase, Pulumi,
 *    OpenAI-style keys, Slack webhooks, PEM private keys, bearer and basic credentials, passwords
 *    in URLs), payment cards (13-19 digits, one consistent separator, Luhn, a card network's first
 *    digit, not glued to other digits or letters) and email addresses (PII);
 * 2. by name, in text that was not parsed: `password=…`, `"token": "…"`, GraphQL `secret: "…"`,
 *    `<password>…</password>`, `;jsessionid=…`, name/value pairs (`{"name":"password","value":…`,
 *    `<name>password</name><value>…`) and prose (`my password is …`) — the name rules are those
 *    of `secret-names.ts`;
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
    // Only from the start of a run (or after a percent-escape, `%3DeyJ…`, with a header of at most
    // 1 KB): text of many `eyJ` and no dot, tried from each, cost a scan to its end from each (0.7 s
    // for 30 KB). A JWT glued to a word is a long random run for the token rules. The look-behinds
    // come after the literal `eyJ`: in front of it they kept the engine from skipping ahead to
    // `eyJ`, which made the whole enrich stage ~10% slower.
    /(?<jwt>eyJ(?:(?<![\w-]eyJ)[\w-]{2,}|(?<=%[0-9A-Fa-f]{2}eyJ)[\w-]{2,1024})\.eyJ[\w-]{2,}\.[\w-]*)/.source,
    /(?<aws>\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b)/.source,
    /\b(?<bearer>[Bb][Ee][Aa][Rr][Ee][Rr])\s+(?<bearerToken>[^\s"'<>,;()[\]{}\\]+)/.source,
    /\b(?<basic>Basic)\s+(?<basicToken>[A-Za-z0-9+/]{8,}={0,2})/.source,
    /(?<![A-Za-z0-9])(?<apiKey>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}|whsec_[A-Za-z0-9+/=]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,}|gl(?:pat|rt|dt|ptt|soat|cbt|imt|ft|oas)-[A-Za-z0-9_-]{20,}|dckr_pat_[A-Za-z0-9_-]{20,}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}|SK[0-9a-fA-F]{32}(?![A-Za-z0-9])|key-[0-9a-zA-Z]{32}(?![A-Za-z0-9])|dapi[0-9a-f]{32}(?:-\d)?|do[opr]_v1_[a-f0-9]{64}|sbp_[a-f0-9]{40}|pul-[a-f0-9]{40}|xapp-\d-[A-Za-z0-9-]{10,}|NR(?:AK|II|JS|AA)-[A-Z0-9]{27}|AGE-SECRET-KEY-1[0-9A-Z]{58}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z0-9]{20,}|HRKU-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|HRKU-[A-Za-z0-9_]{20,}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}|SG\.[\w-]{16,}\.[\w-]{16,}|sq0(?:atp|csp|idp)-[\w-]{22,}|GOCSPX-[\w-]{20,}|figd_[\w-]{30,}|ATATT3[\w-]{40,}(?:=[A-Fa-f0-9]{8})?|(?:pk|sk|tk)\.eyJ[\w-]{10,}\.[\w-]{10,})/
      .source,
    /(?<webhook>\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/)(?<webhookSecret>[A-Za-z0-9]{16,})/.source,
    /(?<privateKey>-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$))/
      .source,
    // The user name may be empty (`redis://:password@cache:6379`, as Redis, Celery and Sidekiq
    // write it), and the password may hold an unencoded `@`: it ends at the last `@` of the authority.
    // A scheme-relative URL (`//user:password@host/…`) counts where a URL can start: at the start
    // of the text or after a space, a quote, `=`, `(` or `,` (not `a//b:c@d` inside a path).
    /(?<urlPrefix>(?::|(?<![^\s"'=(,]))\/\/[^\s:@/?#]*:)(?<urlPassword>[^\s"'/?#]+)@/.source,

    /(?<![\w.-])(?<card>[2-6]\d{3}(?:[ .-]?\d){9,15})(?![\w])/.source,
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
  /eyJ|A[KSGIRN][A-Z]A|earer|EARER|Basic|_live_|_test_|gh[pousr]_|github_pat_|whsec_|xox|AIza|gl(?:pat|rt|dt|ptt|soat|cbt|imt|ft|oas)-|dckr_pat_|shp[acps][ast]_|SK[0-9a-fA-F]{32}|key-[0-9a-zA-Z]{32}|dapi[0-9a-f]{32}|do[opr]_v1_|sbp_|pul-|xapp-|NR(?:AK|II|JS|AA)-|AGE-SECRET|npm_|hf_|HRKU-|sk-|SG\.|services\/T|sq0|GOCSPX-|figd_|ATATT3|-----BEGIN|:\/\/|@|%40/;

/**
 * Rarer shapes, each looked for only when its text holds a cheap hint (`$2`, `$argon2`, `--`,
 * `-u `): password hashes (bcrypt, argon2: credentials for anyone who can run a cracker) and
 * passwords on command lines (`--password=…`, `--token …` when what follows is not a word, curl's
 * `-u user:password`, a registry login's `-p`, MySQL's `-p…`), and in SQL (`IDENTIFIED BY '…'`).
 */
const PASSWORD_HASH =
  /\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}(?![./A-Za-z0-9])|\$argon2(?:id|i|d)\$v=\d+\$[^\s"'$]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+/g;
const COMMAND_LINE =
  /(?<=^|[\s'"])(--(?:password|passwd|pass|token|api-key|apikey|client-secret|access-key|secret-key|auth-token)(?:=|[ \t]+(?=[^\s'"-][^\s'"]*[^A-Za-z\s'"]|[^\s'"-][^\s'"]{15})))([^\s'"]+)/g;
/**
 * A password given to a command by a short flag: `-p` of a registry login (`docker login -u bob -p
 * …`) and of sshpass, `-p…` joined to it for the MySQL clients (`mysql -u root -p…`; `-P` is the
 * port), `-a` of redis-cli. Only on the command's own line.
 */
const SHORT_FLAG_PASSWORD =
  /(\b(?:(?:docker|podman|nerdctl|buildah|skopeo|oras|crane|helm[ \t]+registry)[ \t]+login\b[^\n]{0,256}?[ \t]-p[ \t]+|sshpass[ \t]+-p[ \t]*|redis-cli\b[^\n]{0,256}?[ \t]-a[ \t]+|\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n]{0,256}?[ \t]-p(?=[^\s-])))(['"]?)([^\s'"]+)\2/g;
const SHORT_FLAG_HINT = /login|sshpass|redis-cli|mysql|mariadb/;
/**
 * A password in SQL: `… IDENTIFIED BY '…'` (MySQL, Oracle), `CREATE|ALTER USER|ROLE … PASSWORD '…'`
 * (PostgreSQL). A sentence's `password 'now'` is not a statement.
 */
const SQL_PASSWORD =
  /(\b(?:IDENTIFIED[ \t]+(?:WITH[ \t]+\w+[ \t]+)?BY(?:[ \t]+PASSWORD)?|(?:CREATE|ALTER)[ \t]+(?:USER|ROLE)\b[^;\n]{0,256}?\bPASSWORD)[ \t]*)(['"])([^'"\n]+)\2/gi;
const SQL_HINT = /identified|(?:create|alter)[ \t]+(?:user|role)/i;
/**
 * curl's `-u user:password` on a line that runs curl (not a uid:gid, as in `docker run -u
 * 1000:1000`). Line breaks, `curl` and `-u user:` are found in one pass, in order, and a `-u` counts
 * after a `curl` of its line: one regex that scanned from each `curl` to a `-u` took seconds on a
 * text of many `curl`s (each scan ran to the end).
 */
const CURL_PARTS = /(\n)|(\bcurl\b)|(\s(?:-u|--user) +[^\s:'"]+:)(?!\d+(?:[\s'"]|$))[^\s'"]+/g;
const COMMAND_LINE_HINT = /--(?:pass|token|api|client|access|secret|auth)/;

/** Replaces each match of `re` (its group 1 kept, then `mark`) and records `kind`; only called on a hint. */
const redactMatches = (text: string, re: RegExp, mark: string, kind: string, found: string[]): string => {
  let hit = false;
  const out = text.replace(re, (m: string, kept: string | undefined) => {
    hit = true;
    return typeof kept === 'string' && m !== kept ? `${kept}${mark}` : mark;
  });
  if (hit) record(found, kind);
  return out;
};

// Hints first: most texts hold none, and then no replacer is made (a closure a call costs).
const redactRareShapes = (text: string, label: string, found: string[]): string => {
  let out = text;
  if (out.indexOf('$2') !== -1 || out.indexOf('$argon2') !== -1) {
    out = redactMatches(out, PASSWORD_HASH, '[REDACTED:password_hash]', `${label}:password_hash`, found);
  }
  if (out.indexOf('--') !== -1 && COMMAND_LINE_HINT.test(out)) {
    out = redactMatches(out, COMMAND_LINE, '[REDACTED]', `${label}:password`, found);
  }
  if (out.indexOf('curl') !== -1 && (out.indexOf('-u ') !== -1 || out.indexOf('--user ') !== -1)) {
    out = redactCurlUsers(out, label, found);
  }
  if ((out.indexOf(' -p') !== -1 || out.indexOf(' -a') !== -1) && SHORT_FLAG_HINT.test(out)) {
    out = redactKeptPrefix(out, SHORT_FLAG_PASSWORD, `${label}:password`, found);
  }
  if ((out.indexOf("'") !== -1 || out.indexOf('"') !== -1) && SQL_HINT.test(out)) {
    out = redactKeptPrefix(out, SQL_PASSWORD, `${label}:password`, found);
  }
  return out;
};

/**
 * A Telegram bot's token, `<bot id>:AA<33 characters>`, alone or in an API URL's path
 * (`/bot123456789:AA…/sendMessage`): the bot id is kept. The `_` and `-` of its secret often split
 * it into words too short for the token rules. Apart from SHAPES, behind its own hint: a pattern
 * there that starts with a digit class made every scan ~5-10% slower.
 */
const BOT_TOKEN = /((?<![0-9])\d{5,16}:)AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/g;

/** Each match of `re` (groups: what is kept, the quote, the value) with its value redacted. */
const redactKeptPrefix = (text: string, re: RegExp, kind: string, found: string[]): string =>
  text.replace(re, (m: string, kept: string, quote: string, value: string) => {
    if (isRedactedMark(value, 0)) return m;
    record(found, kind);
    return `${kept}${quote}[REDACTED]${quote}`;
  });

const redactCurlUsers = (text: string, label: string, found: string[]): string => {
  let inCurl = false;
  let hit = false;
  const out = text.replace(CURL_PARTS, (m: string, lineBreak?: string, curl?: string, user?: string) => {
    if (lineBreak !== undefined) inCurl = false;
    else if (curl !== undefined) inCurl = true;
    else if (inCurl && user !== undefined) {
      hit = true;
      return `${user}[REDACTED]`;
    }
    return m;
  });
  if (hit) record(found, `${label}:password`);
  return out;
};
/** Apart: one alternation with both runs at twice the cost of the two. */
const CARD_HINT = /[2-6]\d{3}(?:[ .-]?\d){9}/;

/** Any secret name contains one of these; text without them holds no `name=value` secret. */
const NAME_HINT =
  /pass|pw|pswd|secret|token|auth|key|sess|sid|sig|cred|cookie|jwt|bearer|otp|mfa|cv[cv]|card|ssn|pin|pan|[?&]code=|\\u/i;

/** A text that may hold a name/value pair's value (see `redactPairs`). */
const PAIR_HINT = /val|data|content/i;

const NAMED_VALUE =
  /(?<![\w.%\\-])((?:[A-Za-z_]|\\u[0-9a-fA-F]{4})(?:[\w.%[\]-]|\\u[0-9a-fA-F]{4}){0,63})(\\?["'])?[ \t]*(=>|[:=])[ \t]*/g;
const XML_ELEMENT = /<((?:[\w.-]+:)?[A-Za-z_][\w.-]{0,63})(?:\s[^<>]{0,512})?>([^<]*)/g;
/** An element whose text is a CDATA section: `<password><![CDATA[…]]></password>`. */
const XML_CDATA =
  /<((?:[\w.-]+:)?[A-Za-z_][\w.-]{0,63})(?:\s[^<>]{0,512})?>\s*<!\[CDATA\[([\s\S]*?)(?:\]\]>|$)/g;
/**
 * An element named by an attribute (`<add key="ApiPassword" value="…"/>`, `<param
 * name="password">…</param>`): its `value` attribute is the named value in any element (an HTML
 * form echoed back holds `<input name="password" value="…">`), its text only in the elements
 * configuration formats use for a name/value entry (`PARAM_ELEMENTS`): the text after an HTML
 * `<input name="remember_token">` or an Android `<string name="forgot_password">` is a label.
 */
const XML_NAMED =
  /<([\w.:-]+)(?:\s[^<>]{0,512}?)?\s(?:name|key)\s*=\s*(["'])([^"'<>]{1,64})\2([^<>]{0,512}?)(\/?)>([^<]*)/g;
const PARAM_ELEMENTS = new Set([
  'param',
  'parameter',
  'property',
  'add',
  'setting',
  'entry',
  'field',
  'arg',
  'argument',
  'variable',
  'var',
  'attribute',
]);
const XML_VALUE_ATTRIBUTE = /(\bvalue\s*=\s*)(["'])([^"']*)\2/;

/** Auth schemes written before the credential: `Authorization: Bearer abc` redacts `abc`. */
const SCHEMES = new Set(['bearer', 'basic', 'token', 'digest', 'negotiate', 'apikey', 'aws4-hmac-sha256']);

const record = (found: string[], name: string): void => {
  if (!found.includes(name)) found.push(name);
};

/** False when `text` certainly holds no credential of a known shape. */
export const mayHoldSecret = (text: string): boolean =>
  text.length >= 8 && (SHAPE_HINT.test(text) || CARD_HINT.test(text));

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

const redactShapes = (text: string, label: string, found: string[], idPosition: boolean): string =>
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
      // A bare number where ids go (`x-datadog-trace-id`, `"order_id": …`) passes Luhn one time in ten.
      if (idPosition && /^\d+$/.test(g.card)) return match;
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

/** Where the value that begins at `from` starts: after its opening quote, if any (see `valueSpan`). */
const valueStartAt = (text: string, from: number): number => {
  if (text.charCodeAt(from) === 92 && (text[from + 1] === '"' || text[from + 1] === "'")) return from + 2;
  return text[from] === '"' || text[from] === "'" ? from + 1 : from;
};

/** [start, end) of the value that begins at `from`, quoted or not; the quotes are kept. */
const valueSpan = (text: string, from: number, path: boolean): [number, number] => {
  let i = from;
  const start = valueStartAt(text, from);
  const quote = text.slice(from, start);
  if (quote !== '') {
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
    // A URL's query parameter (`…/cb?code=…&state=…` in a body or a header) is named as in a
    // query string, where OAuth's `code` and Google-style `key` are secrets too.
    const before = m.index > 0 ? text.charCodeAt(m.index - 1) : 0;
    const inQuery = (before === 63 || before === 38) && m[3] === '=';
    // `=>` names a value in a Ruby hash (`"password" =>`, `:password =>`), not in code (`token => …`).
    if (m[3] === '=>' && m[2] === undefined && before !== 58) continue;
    if (!(inQuery ? isSecretQueryName(name) : isSecretFieldName(name))) continue;
    // A value already redacted is passed over before its span is measured: an unquoted one runs to
    // the end of a text without separators, so measuring each of many cost their square (seconds
    // for `password=[REDACTED/…` repeated over a body).
    if (isRedactedMark(text, valueStartAt(text, NAMED_VALUE.lastIndex))) continue;
    const [start, end] = valueSpan(text, NAMED_VALUE.lastIndex, path);
    if (end <= start || start < copied || isRedactedMark(text, start)) continue;
    out += `${text.slice(copied, start)}[REDACTED]`;
    copied = end;
    NAMED_VALUE.lastIndex = end;
    record(found, `${label}:${listedName(normaliseName(name))}`);
  }
  let result = copied === 0 ? text : out + text.slice(copied);
  if (result.indexOf('<') !== -1) {
    result = result.replace(XML_ELEMENT, (match: string, tag: string, content: string) => {
      const local = tag.slice(tag.lastIndexOf(':') + 1);
      if (content.trim() === '' || isRedactedMark(content, 0) || !isSecretFieldName(local)) return match;
      record(found, `${label}:${listedName(normaliseName(local))}`);
      return `${match.slice(0, match.length - content.length)}[REDACTED]`;
    });
    if (result.indexOf('<![CDATA[') !== -1) {
      result = result.replace(XML_CDATA, (match: string, tag: string, content: string) => {
        const local = tag.slice(tag.lastIndexOf(':') + 1);
        if (content === '' || isRedactedMark(content, 0) || !isSecretFieldName(local)) return match;
        record(found, `${label}:${listedName(normaliseName(local))}`);
        const at = match.indexOf('<![CDATA[') + 9;
        return `${match.slice(0, at)}[REDACTED]${match.slice(at + content.length)}`;
      });
    }
    result = result.replace(
      XML_NAMED,
      (match: string, tag: string, _q: string, name: string, rest: string, close: string, text: string) => {
        if (!isSecretFieldName(name)) return match;
        const head = match.slice(0, match.length - text.length);
        const attribute = XML_VALUE_ATTRIBUTE.exec(rest);
        if (attribute !== null && attribute[3] !== '' && !isRedactedMark(attribute[3] as string, 0)) {
          record(found, `${label}:${listedName(normaliseName(name))}`);
          const at = head.length - close.length - 1 - rest.length + attribute.index;
          const valueAt = at + (attribute[1] as string).length + 1;
          return `${head.slice(0, valueAt)}[REDACTED]${head.slice(valueAt + (attribute[3] as string).length)}${text}`;
        }
        const local = tag.slice(tag.lastIndexOf(':') + 1).toLowerCase();
        if (close === '/' || !PARAM_ELEMENTS.has(local) || text.trim() === '' || isRedactedMark(text, 0))
          return match;
        record(found, `${label}:${listedName(normaliseName(name))}`);
        return `${head}[REDACTED]`;
      },
    );
  }
  return result;
};

const PAIR_NAMES = [...PAIR_NAME_KEYS].join('|');
const PAIR_VALUES = [...PAIR_VALUE_KEYS].join('|');
/**
 * A pair's name entry, written as text: `"name": "password"`, `\"Name\":\"api_key\"` (JSON in a
 * string), `name=password` (a form), `<name>password</name>`. Group 2 (or 3) is the name it gives.
 */
const PAIR_NAME_ENTRY = new RegExp(
  `(?<![\\w-])(\\\\?["']?)(?:${PAIR_NAMES})\\1[ \\t]*[:=][ \\t]*\\\\?["']?([\\w./-]{1,64})(?=\\\\?["']|[\\s&,;}\\]<]|$)|<(?:${PAIR_NAMES})>[ \\t]*([\\w.-]{1,64})[ \\t]*</`,
  'gi',
);
/** A pair's value entry: `"value": `, `value=`, `<value>`. The value starts where it ends. */
const PAIR_VALUE_ENTRY = new RegExp(
  `(?<![\\w-])(\\\\?["']?)(?:${PAIR_VALUES})\\1[ \\t]*[:=][ \\t]*|<(?:${PAIR_VALUES})>`,
  'gi',
);
/** How far from its name entry a pair's value entry is looked for (and never past `{` or `}`). */
const PAIR_REACH = 512;

/**
 * The span of the value entry's value in `text[from, to)` (the first one, or the last one when
 * `last`), or undefined. Only a scalar counts: a value that is an object or a list is not one
 * secret.
 */
const pairValueIn = (text: string, from: number, to: number, last: boolean): [number, number] | undefined => {
  const window = text.slice(from, to);
  PAIR_VALUE_ENTRY.lastIndex = 0;
  let at = -1;
  for (let m = PAIR_VALUE_ENTRY.exec(window); m !== null; m = PAIR_VALUE_ENTRY.exec(window)) {
    at = from + m.index + m[0].length;
    if (!last) break;
  }
  if (at === -1) return undefined;
  const c = text[at];
  if (c === '{' || c === '[') return undefined;
  let start = at;
  let end: number;
  if (text[at - 1] === '>') end = text.indexOf('<', at);
  else if (c === '\\' && (text[at + 1] === '"' || text[at + 1] === "'")) {
    // JSON written inside a string: the value ends at the next escaped quote.
    start = at + 2;
    end = text.indexOf(`\\${text[at + 1]}`, start);
  } else [start, end] = valueSpan(text, at, false);
  if (end === -1) end = text.length;
  return end > start && !isRedactedMark(text, start) ? [start, end] : undefined;
};

/**
 * Name/value pairs in text that was not parsed as JSON (a truncated body, one nested past the JSON
 * walk's depth, a form, XML): the value of a pair whose name entry names a secret
 * (`[{"name":"password","value":"…"}`, `name=password&value=…`,
 * `<name>password</name><value>…</value>`). The value entry is looked for after the name entry,
 * then before it, within the same object (no `{` or `}` between) and up to the next or previous
 * name entry, so the work stays linear in the text however many pairs it holds.
 */
const redactPairs = (text: string, label: string, found: string[]): string => {
  const entries: { start: number; end: number; name: string }[] = [];
  PAIR_NAME_ENTRY.lastIndex = 0;
  for (let m = PAIR_NAME_ENTRY.exec(text); m !== null; m = PAIR_NAME_ENTRY.exec(text)) {
    entries.push({ start: m.index, end: m.index + m[0].length, name: (m[2] ?? m[3]) as string });
  }
  const spans: [number, number, string][] = [];
  for (let e = 0; e < entries.length; e++) {
    const { start, end, name } = entries[e] as (typeof entries)[number];
    if (!isSecretFieldName(name)) continue;
    let to = Math.min(text.length, end + PAIR_REACH, entries[e + 1]?.start ?? text.length);
    for (let i = end; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c === 123 || c === 125) to = i;
    }
    let span = pairValueIn(text, end, to, false);
    if (span === undefined) {
      let from = Math.max(0, start - PAIR_REACH, entries[e - 1]?.end ?? 0);
      for (let i = start - 1; i >= from; i--) {
        const c = text.charCodeAt(i);
        if (c === 123 || c === 125) from = i + 1;
      }
      span = pairValueIn(text, from, start, true);
    }
    if (span !== undefined) spans.push([span[0], span[1], name]);
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let copied = 0;
  for (const [start, end, name] of spans) {
    if (start < copied) continue;
    out += `${text.slice(copied, start)}[REDACTED]`;
    copied = end;
    // Listed as the JSON walk lists a pair it parsed.
    record(found, `${label}:${listedName(name)}`);
  }
  return out + text.slice(copied);
};

const isNameChar = (c: number): boolean => isAlnum(c) || c === 95 || c === 45 || c === 46;

/**
 * The name just before a value at `start`: `name=`, `"name": "`, `<name>`, `sha256:` or, in a
 * path, the segment before it.
 */
const nameBefore = (text: string, start: number, path: boolean): string => {
  let i = start - 1;
  if (path && text.charCodeAt(i) === 47) {
    const prev = text.lastIndexOf('/', i - 1);
    return text.slice(prev + 1, i);
  }
  while (i >= 0 && (text[i] === '"' || text[i] === "'" || text[i] === ' ' || text[i] === '\\')) i--;
  const mark = text[i];
  if (mark !== ':' && mark !== '=' && mark !== '>') return '';
  i--;
  while (i >= 0 && (text[i] === '"' || text[i] === "'" || text[i] === ' ' || text[i] === '\\')) i--;
  const end = i + 1;
  while (i >= 0 && isNameChar(text.charCodeAt(i))) i--;
  if (mark === '>' && text[i] !== '<') return '';
  return text.slice(i + 1, end);
};

/** 1: `[A-Za-z0-9_-]`, a token character; 2: `+` or `/`, which base64 secrets also hold. */
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (isAlnum(c) || c === 95 || c === 45) CHAR_CLASS[c] = 1;
  else if (c === 43 || c === 47) CHAR_CLASS[c] = 2;
}

/** AWS secret access keys: 40 base64 characters, which include `+` and `/`, so they are not one token run. */
const isBase64Secret = (text: string, start: number, end: number): boolean => {
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

interface Cut {
  out: string;
  copied: number;
}

const redactTokenRun = (
  text: string,
  start: number,
  end: number,
  label: string,
  found: string[],
  options: ScanOptions | undefined,
  cut: Cut,
): void => {
  const kind = opaqueKind(text, start, end);
  if (kind === null || options?.idPosition === true) return;
  // A hash named as a file (`/media/<md5>.jpg`) is content addressing, not a credential.
  if (kind === 'hex' && text.charCodeAt(end) === 46 && isAlnum(text.charCodeAt(end + 1))) return;
  if (start > 0 && text.startsWith('[REDACTED', start - 1)) return;
  if (isIdName(nameBefore(text, start, options?.path === true))) return;
  cut.out += `${text.slice(cut.copied, start)}[REDACTED:token]`;
  cut.copied = end;
  record(found, `${label}:token`);
};

/** [start, end) of a 40-character base64 secret in the wide run [start, end), or null. */
const base64SecretIn = (text: string, start: number, end: number): [number, number] | null => {
  if (end - start === 40) return isBase64Secret(text, start, end) ? [start, end] : null;
  // `(+KEY)`: a `+` or `/` before or after the key belongs to the text around it.
  let s = start;
  let e = end;
  while (s < e && (text.charCodeAt(s) === 43 || text.charCodeAt(s) === 47)) s++;
  while (e > s && (text.charCodeAt(e - 1) === 43 || text.charCodeAt(e - 1) === 47)) e--;
  return e - s === 40 && isBase64Secret(text, s, e) ? [s, e] : null;
};

/** A base64 run with `/` this long is judged whole without padding (see `base64TokenIn`). */
const LONG_BASE64_RUN = 64;
/** Longest run of base64 text judged whole (STS session tokens reach ~2,000 characters); longer ones (data URLs, blobs) are judged run by run. */
const MAX_BASE64_RUN = 4_096;

/**
 * [start, end) of a random standard-base64 key of another length (a 32-byte key is 43 characters
 * and `=`, an Azure storage key 86): judged whole, as a token run is, else its pieces between
 * `+` and `/` are each too short to judge and leave 8+ characters of it stored. Paths with `/`
 * fail the randomness test (words, too many separators).
 */
const base64TokenIn = (text: string, start: number, end: number): [number, number] | null => {
  let s = start;
  let e = end;
  while (s < e && (text.charCodeAt(s) === 43 || text.charCodeAt(s) === 47)) s++;
  while (e > s && (text.charCodeAt(e - 1) === 43 || text.charCodeAt(e - 1) === 47)) e--;
  const n = e - s;
  if (n < 30) return null;
  // URL paths are runs like this one (`github.com/OpenAI/GPT-3/blob/Main/README2`): a short run
  // with `/` is judged whole only when base64 padding ends it, as it ends most keys (a 32-byte key
  // is 43 characters and `=`, a 64-byte one 86 and `==`). Without padding, its pieces are judged,
  // unless the run is as long as a session token (AWS STS's are hundreds of characters, unpadded
  // as often as not), whose pieces would each be judged too short and stored.
  const slash = text.indexOf('/', s);
  const unpaddedWithSlash = slash !== -1 && slash < e && text.charCodeAt(end) !== 61;
  // Short, unpadded and with `/`: judged only as random base64 looks (`randomSlashPieces`).
  const strict = unpaddedWithSlash && n < LONG_BASE64_RUN;
  if (strict && !randomSlashPieces(text, s, e)) return null;
  let plusSlash = 0;
  let upper = 0;
  let lower = 0;
  let digits = 0;
  let separators = 0;
  let vowels = 0;
  let capitalised = 0;
  let lowerRun = 0;
  let wordChars = 0;
  let previousUpper = false;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    const isLower = c >= 97 && c <= 122;
    if (c >= 65 && c <= 90) upper++;
    else if (isLower) lower++;
    else if (c >= 48 && c <= 57) digits++;
    else {
      separators++;
      if (c === 43 || c === 47) plusSlash++;
    }
    if (isLower) {
      lowerRun++;
      if (previousUpper) capitalised++;
      if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117) vowels++;
    } else {
      if (lowerRun >= 4) wordChars += lowerRun + 1;
      lowerRun = 0;
    }
    previousUpper = c >= 65 && c <= 90;
  }
  if (lowerRun >= 4) wordChars += lowerRun;
  // Random base64 is ~3% `+` and `/`, a few per cent more by chance; a path is words between them.
  if (upper < 3 || lower < 3 || digits < 1 || separators * 5 > n) return null;
  // Long and unpadded: `+` and `/` as rare as in random base64 (~1 in 32), not a path's short pieces.
  if (unpaddedWithSlash && plusSlash * 16 > n) return null;
  const wordy = wordChars * 2 >= n || (capitalised >= 3 && capitalised * 10 >= upper * 8);
  if (wordy && vowels * 100 >= (upper + lower) * 14) return null;
  return shannonEntropy(text, s, e) >= Math.min(4.3, Math.log2(n) * 0.8) ? [s, e] : null;
};

/** Finds runs of 20+ token characters in one pass; text without any costs a table look-up per character. */
const redactOpaque = (
  text: string,
  label: string,
  found: string[],
  options: ScanOptions | undefined,
): string => {
  const wide = options?.path !== true;
  const idPosition = options?.idPosition === true;
  const cut: Cut = { out: '', copied: 0 };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const k = c < 128 ? (CHAR_CLASS[c] as number) : 0;
    if (k === 0 || (k === 2 && !wide)) {
      i++;
      continue;
    }
    // The wide run also spans `+` and `/` (outside paths), for base64 secrets.
    let end = i;
    let slashes = false;
    while (end < n) {
      const d = text.charCodeAt(end);
      const kd = d < 128 ? (CHAR_CLASS[d] as number) : 0;
      if (kd === 1) end++;
      else if (kd === 2 && wide) {
        slashes = true;
        end++;
      } else break;
    }
    if (end - i < MIN_TOKEN_LENGTH) {
      i = end;
      continue;
    }
    let key = slashes && end - i <= 44 ? base64SecretIn(text, i, end) : null;
    if (key === null && slashes && !idPosition && end - i <= MAX_BASE64_RUN) {
      key = base64TokenIn(text, i, end);
      // `integrity="sha384-…"`, `etag: …`: a hash where its name says so.
      if (key !== null && isIdName(nameBefore(text, key[0], false))) key = null;
    }
    if (key !== null) {
      cut.out += `${text.slice(cut.copied, key[0])}[REDACTED:token]`;
      cut.copied = key[1];
      record(found, `${label}:token`);
      i = end;
      continue;
    }
    // Otherwise each `[\w-]` run inside it is judged on its own; where ids go, none is a secret by randomness.
    if (idPosition) {
      i = end;
      continue;
    }
    let j = i;
    while (j < end) {
      let r = j;
      while (r < end && CHAR_CLASS[text.charCodeAt(r)] === 1) r++;
      if (r - j >= MIN_TOKEN_LENGTH) redactTokenRun(text, j, r, label, found, options, cut);
      j = r + 1;
    }
    i = end;
  }
  return cut.copied === 0 ? text : cut.out + text.slice(cut.copied);
};

/**
 * Texts found clean, per scan mode. Most header values, user agents and paths repeat from request
 * to request (`accept`, a browser's user agent, `/v1/search`): a look-up replaces the scan.
 *
 * Two tiers. Every text found clean goes into `seen`, a set cleared when full (which costs nothing
 * per hit). A text found in `seen` again is a repeat and is also put in `hot`, a small
 * direct-mapped table (`hot-cache.ts`) where a hit is one string comparison instead of hashing
 * the whole text in a set of 16k entries. Ids and trace ids, which never repeat, stay out of
 * `hot`. Either tier holds only texts that were scanned in this mode and found clean.
 */
class CleanTexts {
  private readonly seen = new Set<string>();
  private readonly hot = new HotCache<true>(HOT_SLOTS);
  has(text: string): boolean {
    if (this.hot.get(text) === true) return true;
    if (!this.seen.has(text)) return false;
    this.hot.set(text, true);
    return true;
  }
  add(text: string): void {
    if (this.seen.size >= MAX_CLEAN_TEXTS) this.seen.clear();
    this.seen.add(text);
  }
}
const MAX_CLEAN_TEXTS = 16_384;
const MAX_CACHED_LENGTH = 512;
const HOT_SLOTS = 4_096;
const cleanPlain = new CleanTexts();
const cleanPath = new CleanTexts();
const cleanId = new CleanTexts();

const NAME_SCAN: ScanOptions = { idPosition: true };

/**
 * Hex digits and `-` only, and not 13 digits a card could be made of: a UUID, a trace or span id,
 * a hash. Where ids go such a text holds no credential, so it is not scanned: every shape needs
 * another character (`SHAPE_HINT`) or a card's digits (`CARD_HINT`), the rarer ones `$`, `--` and
 * a word, a space or a quote, named values `=`, `:` or `<`, and randomness is not judged there
 * (secret-text.test.ts compares it with the full scan on such texts). Such ids are new in every
 * request (`x-request-id`), so they stay out of the clean-text caches too, where each cost a hash
 * and an entry that only pushed others out.
 */
const isHexId = (text: string): boolean => {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c !== 45 && !isHex(c)) return false;
  }
  return digits < 13 || !CARD_HINT.test(text);
};

/**
 * A name (a JSON key, a header name) with any credential in it redacted (`sk_live_…` or a JWT
 * used as a name). Names are words and ids, so only a credential's shape counts there, as in an
 * id position, never randomness.
 */
export const redactSecretsInName = (name: string, label: string, found: string[]): string =>
  redactSecretsInText(name, label, found, NAME_SCAN);

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
  if (options?.idPosition === true && isHexId(text)) return text;
  const clean =
    text.length > MAX_CACHED_LENGTH
      ? undefined
      : options?.path === true
        ? cleanPath
        : options?.idPosition === true
          ? cleanId
          : cleanPlain;
  if (clean?.has(text)) return text;
  const out = scan(text, label, found, options);
  if (out === text) clean?.add(text);
  return out;
}

/**
 * A credential given in prose: `my password is hunter2`, `the passcode was 7f#kq9!`, `my api key
 * is Zq8Wn3Lp5Tx7Kr2Vm9`, `the token was ab12cd34ef`. Only a word that holds a digit or a symbol
 * (a password, 6+ characters) or a digit (a key or token, 8+) counts, so that messages
 * (`password is required`, `password was reset`, `the token is expired`) keep their words.
 */
const PROSE_CREDENTIAL =
  /(\b(pass(?:word|wd|phrase|code)|pwd|(?:api|access|secret|private|signing)[ _-]?key|(?:access|api|auth|bearer|refresh|session)[ _-]?token|token|client[ _-]?secret|secret)\s{1,4}(?:is|was)\s{0,4}:?\s{1,4}(["']?))([^\s"'<>,;]{6,128})\3/gi;
const HAS_DIGIT_OR_SYMBOL = /[^A-Za-z]/;
const HAS_DIGIT = /\d/;
const PASSWORD_WORD = /^(?:pass|pwd)/i;

/**
 * Each match of `re` (groups: what is kept, the credential's name, the quote, the word after it)
 * with its word redacted when `listed` names what it is (undefined: a word of a message).
 */
const redactWordsAfterNames = (
  text: string,
  re: RegExp,
  label: string,
  found: string[],
  listed: (name: string, bare: string) => string | undefined,
): string =>
  text.replace(re, (match: string, lead: string, name: string, quote: string, word: string) => {
    // An unquoted word's full stop ends the sentence, not the credential.
    const bare = quote === '' ? word.replace(/\.+$/, '') : word;
    if (isRedactedMark(bare, 0)) return match;
    const kind = listed(name, bare);
    if (kind === undefined) return match;
    record(found, `${label}:${kind}`);
    return `${lead}[REDACTED]${word.slice(bare.length)}${quote}`;
  });

const proseCredential = (name: string, bare: string): string | undefined => {
  if (PASSWORD_WORD.test(name))
    return bare.length < 6 || !HAS_DIGIT_OR_SYMBOL.test(bare) ? undefined : 'password';
  return bare.length < 8 || !HAS_DIGIT.test(bare) ? undefined : normaliseName(name);
};

/**
 * A password named without a verb: `password hunter2!`, `the passphrase correct-horse-staple9`.
 * With no `is` or `:` to say a value follows, the word must look made up: letters and a digit,
 * and a symbol or 8+ characters (`password reset`, `password policy v2` stay).
 */
const BARE_PASSWORD = /(\b(pass(?:word|wd|phrase|code)|pwd)\s{1,4}(["']?))([^\s"'<>,;=:]{6,128})\3/gi;
const BARE_PASSWORD_HINT = /pass|pwd/i;
const HAS_LETTER = /[A-Za-z]/;
const HAS_SYMBOL = /[^A-Za-z0-9]/;

const barePassword = (_name: string, bare: string): string | undefined =>
  !HAS_LETTER.test(bare) || !HAS_DIGIT.test(bare) || (bare.length < 8 && !HAS_SYMBOL.test(bare))
    ? undefined
    : 'password';

/**
 * A wallet's recovery words written out after a name that says so: `seed phrase: abandon ability
 * … accident`, `my recovery phrase is …`. BIP 39's are 12 to 24 words of 3 to 8 letters, which no
 * shape or randomness rule sees; named as a field (`mnemonic`, `seedPhrase`) they are a secret
 * field already.
 */
const RECOVERY_WORDS =
  /(\b(?:(?:seed|recovery|backup|secret|wallet|mnemonic)[ _-]?(?:phrase|words|sentence)|mnemonic)(?:\s{1,4}(?:is|was|are|were))?\s{0,4}[:=]?\s{0,4}(["']?))[a-z]{3,8}(?:[ \t]+[a-z]{3,8}){11,23}\b/gi;
const RECOVERY_HINT = /phrase|words|sentence|mnemonic/i;

const redactRecoveryWords = (text: string, label: string, found: string[]): string =>
  text.replace(RECOVERY_WORDS, (_match: string, lead: string) => {
    record(found, `${label}:recoveryphrase`);
    return `${lead}[REDACTED]`;
  });

/** The scan itself, without the clean-text caches or the plain-id shortcut: for tests that compare them. */
export const scanUncached = (text: string, label: string, found: string[], options?: ScanOptions): string =>
  scan(text, label, found, options);

function scan(text: string, label: string, found: string[], options: ScanOptions | undefined): string {
  let out = options?.path === true ? text : redactRareShapes(text, label, found);
  if (out.indexOf(':AA') !== -1)
    out = redactMatches(out, BOT_TOKEN, '[REDACTED]', `${label}:bot_token`, found);
  if (mayHoldSecret(out)) out = redactShapes(out, label, found, options?.idPosition === true);
  if (
    (out.indexOf('=') !== -1 || out.indexOf(':') !== -1 || out.indexOf('<') !== -1) &&
    NAME_HINT.test(out)
  ) {
    out = redactNamedValues(out, label, found, options?.path === true);
    if (options?.path !== true && PAIR_HINT.test(out)) out = redactPairs(out, label, found);
  }
  if (
    options?.path !== true &&
    options?.idPosition !== true &&
    (out.indexOf(' is') !== -1 || out.indexOf(' was') !== -1)
  ) {
    out = redactWordsAfterNames(out, PROSE_CREDENTIAL, label, found, proseCredential);
  }
  if (options?.path !== true && options?.idPosition !== true && out.length >= 14) {
    if (BARE_PASSWORD_HINT.test(out))
      out = redactWordsAfterNames(out, BARE_PASSWORD, label, found, barePassword);
    if (out.length >= 48 && RECOVERY_HINT.test(out)) out = redactRecoveryWords(out, label, found);
  }
  return out.length >= MIN_TOKEN_LENGTH ? redactOpaque(out, label, found, options) : out;
}
