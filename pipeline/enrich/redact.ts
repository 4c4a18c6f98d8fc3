import { classifySegment } from './endpoint-template.ts';
import { redactJson } from './json-body.ts';
import { LruCache } from './lru-cache.ts';
import {
  isIdName,
  isSecretFieldName,
  isSecretHeaderName,
  isSecretQueryName,
  listedName,
  normaliseName,
} from './secret-names.ts';
import { redactSecretsInName, redactSecretsInText, type ScanOptions } from './secret-text.ts';

/**
 * Redaction of everything a request log carries before any of it is stored. Secrets are found by
 * name (headers, query and matrix parameters, form fields, JSON keys, XML elements, GraphQL
 * arguments), by shape and by randomness (anywhere, see `secret-text.ts`). Each function also returns what it redacted, as `where:what` names
 * (`header:authorization`, `query:token`, `body:card`) for the row's `redacted` column.
 * Content that is not secret is kept byte for byte.
 */

const REDACTED = '[REDACTED]';
const PATH_SCAN: ScanOptions = { path: true };
const ID_SCAN: ScanOptions = { idPosition: true };
const QUERY_REDACTED = 'REDACTED';
const NONE: readonly string[] = Object.freeze([]);

/** Headers whose values are URLs that may carry secrets in their query string. */
const URL_HEADERS = new Set([
  'referer',
  'location',
  'content-location',
  'origin',
  // The request's own URL as proxies and gateways pass it on.
  ':path',
  'x-original-url',
  'x-original-uri',
  'x-forwarded-uri',
  'x-forwarded-url',
  'x-rewrite-url',
  'x-envoy-original-path',
]);

const record = (found: string[], name: string): void => {
  if (!found.includes(name)) found.push(name);
};

const decodeName = (raw: string): string => {
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
};

const redactParams = (
  params: string,
  label: string,
  found: string[],
  isSecret: (name: string) => boolean = isSecretQueryName,
): string => {
  let out = '';
  let copied = 0;
  let start = 0;
  while (start < params.length) {
    let amp = params.indexOf('&', start);
    if (amp === -1) amp = params.length;
    const eq = params.indexOf('=', start);
    if (eq !== -1 && eq + 1 < amp) {
      const name = decodeName(params.slice(start, eq)).trim();
      if (isSecret(name)) {
        out += `${params.slice(copied, eq + 1)}${QUERY_REDACTED}`;
        copied = amp;
        record(found, `${label}:${listedName(name)}`);
      } else if (isCapabilityWord(name) && isCapabilityValue(decodeName(params.slice(eq + 1, amp)))) {
        // `?invite=<uuid>`, `?reset=<token>`: the link's capability, as in a path.
        out += `${params.slice(copied, eq + 1)}${QUERY_REDACTED}`;
        copied = amp;
        record(found, `${label}:token`);
      } else if (params.indexOf('%', eq) !== -1 && params.indexOf('%', eq) < amp) {
        // Encoding hides shapes (`%2F` in a base64 key, `%40` in an email): scan the decoded value.
        const value = decodeName(params.slice(eq + 1, amp));
        const before = found.length;
        if (redactSecretsInText(value, label, found) !== value || found.length !== before) {
          out += `${params.slice(copied, eq + 1)}${QUERY_REDACTED}`;
          copied = amp;
        }
      }
    } else if (eq === -1 || eq >= amp) {
      // `password%3Dhunter2`: a parameter whose `=` is encoded is read decoded.
      const raw = params.slice(start, amp);
      const encodedEq = raw.toLowerCase().indexOf('%3d');
      const name = encodedEq > 0 ? decodeName(raw.slice(0, encodedEq)).trim() : '';
      if (name !== '' && isSecret(name)) {
        out += `${params.slice(copied, start + encodedEq + 3)}${QUERY_REDACTED}`;
        copied = amp;
        record(found, `${label}:${listedName(name)}`);
      }
    }
    start = amp + 1;
  }
  const redacted = copied === 0 ? params : out + params.slice(copied);
  return redactSecretsInText(redacted, label, found);
};

/** `q` without its leading `?`, with the values of secret parameters replaced by `REDACTED`. */
export function redactQuery(q: string, label = 'query'): { query: string; redacted: readonly string[] } {
  const params = q.charCodeAt(0) === 63 ? q.slice(1) : q;
  if (params === '') return { query: '', redacted: NONE };
  const found: string[] = [];
  const query = redactParams(params, label, found);
  return { query, redacted: found.length === 0 ? NONE : found };
}

/**
 * A request path with credentials that appear in it redacted: a JWT in `/reset/<token>`, a card
 * number, a key or random token as a segment, `;jsessionid=…` matrix parameters, an email.
 */
export function redactPath(path: string): { path: string; redacted: readonly string[] } {
  const found: string[] = [];
  const decoded = path.indexOf('%') === -1 ? path : redactEncodedSegments(path, found);
  const redacted = redactNamedSegments(
    redactCapabilitySegments(redactSecretsInText(decoded, 'path', found, PATH_SCAN), found),
    found,
  );
  return { path: redacted, redacted: found.length === 0 ? NONE : found };
}

/**
 * Segments before a capability token: the link in a password-reset, invitation, verification or
 * unsubscribe e-mail, a share link, a key. Normalised (lower case, no `-` or `_`).
 */
const CAPABILITY_WORDS =
  /^(?:(?:password)?reset(?:password)?|invite|invites|invitation|invitations|verify|verifyemail|emailverification|confirm|confirmemail|unsubscribe|optout|magic|magiclink|magiclinks|loginlink|signinlink|activate)$/;
/** A path or name holds none of these, and so no capability word: most, one test. */
const CAPABILITY_HINT = /reset|invit|verif|confirm|unsub|opt-?out|magic|link|activat/i;
const isCapabilityWord = (name: string): boolean =>
  CAPABILITY_HINT.test(name) && CAPABILITY_WORDS.test(normaliseName(name));

/** CamelCase words: every capital starts a lower-case run of 3 or more (`ConfirmEmail`). */
const CAMEL_WORDS = /^[a-z]*(?:[A-Z][a-z]{3,})+$/;
/**
 * Letters in mixed case that are not CamelCase words (`URDetsvyQeMe`): a random token that the
 * segment rules, which look for digits, take for a word.
 */
const isMixedCaseToken = (value: string): boolean =>
  value.length >= 10 &&
  /^[A-Za-z]+$/.test(value) &&
  (value.match(/[A-Z]/g)?.length ?? 0) >= 3 &&
  (value.match(/[a-z]/g)?.length ?? 0) >= 3 &&
  !CAMEL_WORDS.test(value);

/** An id by its characters, 8 or more of them, not only digits (sequential ids, phone numbers). */
const isCapabilityValue = (value: string): boolean =>
  value.length >= 8 &&
  !/^\+?[\d-]+$/.test(value) &&
  (classifySegment(value).includes('{') || isMixedCaseToken(value));

/**
 * A value after a capability word (`/reset-password/<uuid>`, `/invite/Hk3kP9qL2x`) is the
 * capability itself, however short or regular: when its characters make it an id
 * (`isCapabilityValue`), it is redacted. Words stay (`/invite/accept`). One short non-word may
 * stand between (Django's `/reset/<uid>/<token>/`). Key, token and share ids (`/keys/<uuid>` of a
 * KMS, `/tokens/<id>`) are object ids, judged as any other segment. The query's `?invite=<uuid>`
 * is judged the same way (`redactParams`).
 */
const redactCapabilitySegments = (path: string, found: string[]): string => {
  if (path.indexOf('/', 1) === -1 || !CAPABILITY_HINT.test(path)) return path;
  const segments = path.split('/');
  const word = (k: number): boolean => k >= 1 && isCapabilityWord(segments[k] as string);
  let changed = false;
  for (let i = 2; i < segments.length; i++) {
    const whole = segments[i] as string;
    const semicolon = whole.indexOf(';');
    const segment = semicolon === -1 ? whole : whole.slice(0, semicolon);
    if (segment.includes('[REDACTED') || !isCapabilityValue(segment)) continue;
    // Between them, a short non-word: the user id of Django's `/reset/<uidb64>/<token>/` (`MQ`).
    const between = segments[i - 1] as string;
    if (!word(i - 1) && !(between.length <= 6 && !/^[a-z]*$/.test(between) && word(i - 2))) continue;
    segments[i] = `[REDACTED:token]${whole.slice(segment.length)}`;
    record(found, 'path:token');
    changed = true;
  }
  return changed ? segments.join('/') : path;
};

/**
 * A segment that names one credential (`password`, `set-password`, `token`, `client_secret`,
 * `api-key`, `private_key`), normalised: the segment after it is that credential's value
 * (`/users/42/password/hunter2pass`, npm's `/tokens/token/<token>`). Plurals (`/secrets/{name}`,
 * `/tokens/{id}`) name collections, whose next segment is an object id, and are not listed.
 */
const CREDENTIAL_SEGMENT =
  /(?:password|passwd|passphrase|passcode|secret|token|apikey|privatekey|secretkey)$|^pwd$/;
/** A path holds none of these, and so no credential segment: most, one test. */
const CREDENTIAL_HINT = /pass|pwd|secret|token|key/i;
/** A route's own placeholder as some frameworks log it (`{token}`, `:token`, `<token>`). */
const PLACEHOLDER = /^(?:\{[^/{}]*\}|:\w+|<[^/<>]*>)$/;
/**
 * A credential's value rather than a route word: 4 or more characters with a digit or a symbol
 * (`hunter2pass`, `S3cret!`), or random enough to be an id. Words (`/password/reset`,
 * `/token/introspect`, Vault's `/secret/data/…`) are routes and stay.
 */
const isCredentialValue = (value: string): boolean =>
  value.length >= 4 && !PLACEHOLDER.test(value) && (/[^A-Za-z._-]/.test(value) || isCapabilityValue(value));

/** The value after a segment that names a credential (see `CREDENTIAL_SEGMENT`) is redacted. */
const redactNamedSegments = (path: string, found: string[]): string => {
  if (path.indexOf('/', 1) === -1 || !CREDENTIAL_HINT.test(path)) return path;
  const segments = path.split('/');
  let changed = false;
  for (let i = 2; i < segments.length; i++) {
    const name = segments[i - 1] as string;
    if (name.length > 64 || !CREDENTIAL_HINT.test(name)) continue;
    const normalised = normaliseName(name);
    if (!CREDENTIAL_SEGMENT.test(normalised)) continue;
    const whole = segments[i] as string;
    const semicolon = whole.indexOf(';');
    const value = semicolon === -1 ? whole : whole.slice(0, semicolon);
    if (value.includes('[REDACTED') || !isCredentialValue(value)) continue;
    segments[i] = `${REDACTED}${whole.slice(value.length)}`;
    record(found, `path:${listedName(name)}`);
    changed = true;
  }
  return changed ? segments.join('/') : path;
};

const ESCAPED = /%[0-9A-Fa-f]{2}/;
/** A redaction mark, kept as written when a decoded segment is encoded again. */
const MARK = /(\[REDACTED(?::[a-z_]+)?\])/;

/**
 * Segments written percent-encoded (`/users/ab%2Bcd%2Fef…`): `%` splits a token into runs too
 * short to judge, so each such segment is decoded and scanned first and, when that finds a
 * secret, stored redacted and encoded again (then the whole path is scanned as usual).
 */
const redactEncodedSegments = (path: string, found: string[]): string => {
  const segments = path.split('/');
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (!ESCAPED.test(segment)) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      continue;
    }
    // One value, no longer a path: its `/` and `+` are the key's own (base64), as in a query
    // value; under an id-named parent (`/commits/…`) only known formats are secrets, as in a path.
    const parent = i > 0 ? (segments[i - 1] as string) : '';
    const scanned = redactSecretsInText(decoded, 'path', found, isIdName(parent) ? ID_SCAN : undefined);
    if (scanned === decoded) continue;
    // Stored encoded again around the redaction marks, so no control character or `/` appears.
    segments[i] = scanned
      .split(MARK)
      .map((part, k) => (k % 2 === 1 ? part : encodeURIComponent(part)))
      .join('');
    changed = true;
  }
  return changed ? segments.join('/') : path;
};

/** What is known of a header name; names repeat on every request, so this is worked out once per name. */
interface HeaderName {
  /** The name as stored: lower-case, or its redacted form when the name itself is a credential. */
  readonly name: string;
  /** The name was a credential (`{"sk_live_…": "1"}`, a token sent as a header name). */
  readonly nameRedacted: boolean;
  readonly label: string;
  readonly secret: boolean;
  readonly url: boolean;
  /** Ids and hashes are expected in its value (`x-request-id`, `etag`, `traceparent`). */
  readonly scan: ScanOptions | undefined;
}

const headerNames = new LruCache<string, HeaderName>(4_096);

const headerName = (raw: string): HeaderName => {
  let known = headerNames.get(raw);
  if (known === undefined) {
    const lower = raw.toLowerCase();
    // Judged as sent: a JWT's shape has capitals.
    const scanned = redactSecretsInName(raw, 'headers', []);
    const name = scanned === raw ? lower : scanned;
    known = {
      name,
      nameRedacted: name !== lower,
      label: `header:${name}`,
      secret: isSecretHeaderName(name),
      url: URL_HEADERS.has(name),
      scan: isIdName(name) ? ID_SCAN : undefined,
    };
    if (raw.length <= 256) headerNames.set(raw, known);
  }
  return known;
};

/** Authorization schemes (IANA's registry and common vendor ones), kept in front of `[REDACTED]`. */
const AUTH_SCHEMES = new Set([
  'basic',
  'bearer',
  'digest',
  'dpop',
  'gnap',
  'hoba',
  'mutual',
  'negotiate',
  'ntlm',
  'oauth',
  'privatetoken',
  'scram-sha-1',
  'scram-sha-256',
  'vapid',
  'token',
  'apikey',
  'api-key',
  'key',
  'hmac',
  'signature',
  'aws4-hmac-sha256',
  'sharedkey',
  'sharedkeylite',
  'sso-key',
  'splunk',
  'klaviyo-api-key',
  'ssws',
  'otp',
]);

/** Other schemes (`Hawk`, `Bot`, `Client-ID`, `Zoho-oauthtoken`): a short word of letters, not a credential. */
const SCHEME_WORD = /^[A-Za-z]{2,12}(?:-[A-Za-z]{2,12})?$/;

const redactSecretHeader = (name: string, value: string): string => {
  if (name === 'authorization' || name === 'proxy-authorization') {
    // Keep the scheme (`Bearer`, `Basic`, `AWS4-HMAC-SHA256`): which kind of auth was used is
    // useful. Only a known one or a short word of letters: a first word that is the credential
    // itself must not be kept.
    const m = /^([A-Za-z][\w-]*)\s+\S/.exec(value);
    const scheme = m === null ? '' : (m[1] as string);
    if (AUTH_SCHEMES.has(scheme.toLowerCase()) || SCHEME_WORD.test(scheme)) return `${scheme} ${REDACTED}`;
  }
  return REDACTED;
};

const redactHeaderString = (header: HeaderName, value: string, found: string[]): string => {
  if (header.secret) {
    if (value === '') return value;
    record(found, header.label);
    return redactSecretHeader(header.name, value);
  }
  if (header.url) {
    const q = value.indexOf('?');
    if (q !== -1) {
      const hash = value.indexOf('#', q);
      const end = hash === -1 ? value.length : hash;
      const params = redactParams(value.slice(q + 1, end), header.label, found);
      // A fragment carries parameters too: OAuth's implicit flow returns `#access_token=…`.
      const fragment = hash === -1 ? '' : `#${redactParams(value.slice(hash + 1), header.label, found)}`;
      return redactSecretsInText(value.slice(0, q + 1), header.label, found) + params + fragment;
    }
  }
  return redactSecretsInText(value, header.label, found, header.scan);
};

const redactHeaderValue = (header: HeaderName, value: unknown, found: string[]): unknown => {
  if (typeof value === 'string') return redactHeaderString(header, value, found);
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const r = typeof v === 'string' ? redactHeaderString(header, v, found) : v;
      if (r !== v && copy === null) copy = value.slice(0, i);
      if (copy !== null) copy.push(r);
    }
    return copy ?? value;
  }
  if ((typeof value === 'number' || typeof value === 'boolean') && header.secret) {
    record(found, header.label);
    return REDACTED;
  }
  // A card number sent as a JSON number: scanned as text, and stored as the redacted text.
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1e12) {
    const text = String(value);
    const out = redactSecretsInText(text, header.label, found, header.scan);
    return out === text ? value : out;
  }
  return value;
};

const firstString = (value: unknown): string | null => {
  if (typeof value === 'string') return value === '' ? null : value;
  if (Array.isArray(value)) return firstString(value[0]);
  return null;
};

const redactNotAllowed = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(() => REDACTED);
  return value === '' ? value : REDACTED;
};

/**
 * Headers as a JSON object with lower-case names and secret values redacted (`authorization`
 * keeps its scheme: `Bearer [REDACTED]`), plus the `host` header (redacted too). `json` is null
 * when there are no headers. With an `allowlist` (lower-case names), the values of other headers
 * are all `[REDACTED]` and `headers:not_allowed` is listed once.
 */
export function redactHeaders(
  h: Record<string, unknown> | undefined,
  allowlist?: ReadonlySet<string>,
): {
  json: string | null;
  host: string | null;
  redacted: readonly string[];
} {
  if (h === undefined || h === null) return { json: null, host: null, redacted: NONE };
  const keys = Object.keys(h);
  if (keys.length === 0) return { json: null, host: null, redacted: NONE };
  const found: string[] = [];
  // A copy of `h`, made only once a value needs a change, so that clean headers are serialised as
  // they are. A spread keeps `h`'s shape (V8 clones it, and JSON.stringify takes its fast path);
  // an own `__proto__` key is copied as a key, and assigning to it sets that key.
  let copy: Record<string, unknown> | null = null;
  // Some name differs from its key (`Content-Type`): two keys may then become one name, so the
  // values are kept by position and written under their names (`changedHeadersJson`).
  let values: unknown[] | null = null;
  let host: string | null = null;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const header = headerName(key);
    if (header.nameRedacted) record(found, 'headers:name');
    const value = h[key];
    let redacted: unknown;
    if (allowlist === undefined || allowlist.has(header.name))
      redacted = redactHeaderValue(header, value, found);
    else {
      redacted = redactNotAllowed(value);
      if (redacted !== value) record(found, 'headers:not_allowed');
    }
    if (values === null && header.name !== key) {
      const before = copy ?? h;
      values = keys.slice(0, i).map((k) => before[k]);
    }
    if (values !== null) values.push(redacted);
    else if (redacted !== value) {
      copy ??= { ...h };
      copy[key] = redacted;
    }
    if (header.name === 'host' || (header.name === ':authority' && host === null))
      host = firstString(redacted);
  }
  return {
    json: values === null ? JSON.stringify(copy ?? h) : changedHeadersJson(keys, values),
    host,
    redacted: found.length === 0 ? NONE : found,
  };
}

/**
 * The JSON object of headers `keys` (as sent) with `values` (redacted), under their header names,
 * once some name differs from its key. Names that meet (`Host` and `host`): the last value under
 * the first one's place, as an object keeps them. No prototype: a header named `__proto__` must
 * stay a key.
 */
const changedHeadersJson = (keys: readonly string[], values: readonly unknown[]): string => {
  const copy = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < keys.length; i++) copy[headerName(keys[i] as string).name] = values[i];
  return JSON.stringify(copy);
};

/** A form body starts with a field name and `=`; leading blank lines and spaces are tolerated. */
const FORM_START = /^\s*[\w.%[\]-]+=/;
/** Work on at most this many times the cap, so that a huge body costs little; the tail is cut anyway. */
const WORK_FACTOR = 2;

type BodyKind = 'json' | 'form' | 'multipart' | 'text';

/** A multipart body opens with its boundary line, then a part's `Content-Disposition`. */
const MULTIPART_START = /^--[^\r\n]{1,200}\r?\n[Cc]ontent-/;

/** The body's kind from its content type, checked against its first character, else guessed from it. */
const bodyKind = (text: string, first: number, contentType: string | undefined): BodyKind => {
  const c = text.charCodeAt(first);
  const looksJson = c === 123 || c === 91;
  if (c === 45 && MULTIPART_START.test(first === 0 ? text : text.slice(first))) return 'multipart';
  if (contentType !== undefined && contentType !== '') {
    const type = contentType.toLowerCase();
    if (type.includes('json')) return looksJson ? 'json' : 'text';
    if (type.includes('x-www-form-urlencoded')) return 'form';
    if (type.includes('xml') || type.includes('graphql') || type.startsWith('text/')) return 'text';
  }
  if (looksJson) return 'json';
  return FORM_START.test(text) ? 'form' : 'text';
};

const truncate = (text: string, cap: number): string => {
  if (text.length <= cap) return text;
  let end = cap;
  // Do not leave half of a surrogate pair at the end.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end);
};

/**
 * A body, redacted then cut to `capChars` characters. It is parsed by its content type (or, when
 * there is none, by its first character): JSON has secret keys, name/value pairs and every string
 * scanned; form bodies have secret fields redacted; and every body is then scanned as text (XML
 * elements, GraphQL arguments, shapes, tokens), so that a body that does not parse is still
 * scanned. `label` names the body in `redacted` (`request_body:password`). An empty or absent
 * body, or a cap of 0, gives null.
 */
export function redactBody(
  body: string | undefined,
  capChars: number,
  label = 'body',
  contentType?: string,
): { body: string | null; redacted: readonly string[] } {
  if (body === undefined || body === '' || capChars <= 0) return { body: null, redacted: NONE };
  const found: string[] = [];
  const workLimit = capChars * WORK_FACTOR + 1024;
  let text = body.length > workLimit ? body.slice(0, workLimit) : body;
  let first = 0;
  while (first < text.length && text.charCodeAt(first) <= 32) first++;
  const kind = bodyKind(text, first, contentType);
  if (kind === 'json') {
    const json = redactJson(text, label, found);
    text = json.parsed ? json.text : redactSecretsInText(json.text, label, found);
  } else if (kind === 'form') {
    text = redactParams(text, label, found, isFormFieldName);
  } else if (kind === 'multipart') {
    text = redactMultipart(text, first, label, found);
  } else {
    text = redactSecretsInText(text, label, found);
  }
  return { body: truncate(text, capChars), redacted: found.length === 0 ? NONE : found };
}

/** Form fields are named like query parameters and like JSON keys. */
const isFormFieldName = (name: string): boolean => isSecretQueryName(name) || isSecretFieldName(name);

const PART_NAME = /\bname\*?=(?:"([^"]*)"|([^;\s]+))/i;
const HEADERS_END = /\r?\n\r?\n/;

/**
 * A multipart/form-data body: split at its boundary (the body's first line), each part's content
 * is `[REDACTED]` when the part's `name` is a secret field name, and scanned as text otherwise;
 * part headers are scanned as text too. A part cut off by the size cap is handled like the others.
 */
const redactMultipart = (text: string, first: number, label: string, found: string[]): string => {
  const lineEnd = text.indexOf('\n', first);
  const delimiter = text.slice(first, text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd);
  const pieces = text.split(delimiter);
  for (let i = 1; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    const split = HEADERS_END.exec(piece);
    if (split === null) {
      pieces[i] = redactSecretsInText(piece, label, found);
      continue;
    }
    const headers = piece.slice(0, split.index);
    let body = piece.slice(split.index + split[0].length);
    // The line break before the next delimiter belongs to the delimiter, not the content.
    const tail = body.endsWith('\r\n') ? 2 : body.endsWith('\n') ? 1 : 0;
    const content = body.slice(0, body.length - tail);
    const m = PART_NAME.exec(headers);
    const name = m === null ? undefined : (m[1] ?? m[2]);
    // Field names only: a part named `key` is an upload's object key (S3's POST form), `code` a file.
    if (name !== undefined && content !== '' && isSecretFieldName(name)) {
      body = REDACTED + body.slice(body.length - tail);
      record(found, `${label}:${listedName(name)}`);
    } else body = redactSecretsInText(content, label, found) + body.slice(body.length - tail);
    pieces[i] = redactSecretsInText(headers, label, found) + split[0] + body;
  }
  pieces[0] = redactSecretsInText(pieces[0] as string, label, found);
  return pieces.join(delimiter);
};

/**
 * Any other text column (user agent, service, …): scanned by shape and randomness. `idPosition`
 * for columns that hold ids (random by design), where only known formats are redacted.
 */
export function redactText(
  text: string | null | undefined,
  label: string,
  found: string[],
  idPosition = false,
): string | null {
  if (text === null || text === undefined) return null;
  return redactSecretsInText(text, label, found, idPosition ? ID_SCAN : undefined);
}
