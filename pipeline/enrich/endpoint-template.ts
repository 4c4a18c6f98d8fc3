import { flat } from './flat-string.ts';
import { HotCache } from './hot-cache.ts';
import { LruCache } from './lru-cache.ts';

/**
 * The per-segment rules: the endpoint template of a path from the characters of each segment
 * alone, so that `/v1/users/42` and `/v1/users/43` are one endpoint, `/v1/users/{id}`. Segments
 * that look generated (numbers, UUIDs, hex object ids, ULIDs, prefixed ids, random tokens, emails,
 * IPs, domains, `host:port`, semantic versions, percent-encoded values, JWTs) become `{id}`, dates
 * become `{date}`; words, versions (`v1`, `v1alpha1`), an API version as first segment
 * (`/2010-04-01/`, `/1.1/`) and short slugs stay. A parameter joined to a literal keeps the
 * literal: `{id}:addRole`, `{id}.json`.
 *
 * These rules are what a project's route learner (`routes/route-learner.ts`) falls back on for a
 * position it has not seen enough of; names and slugs in parameter positions are the learner's
 * job, not theirs, since no character rule can tell `torvalds` from `issues`.
 */

export const ID = '{id}';
export const DATE = '{date}';
const REDACTED_MARK = '[REDACTED';

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}){1,2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
/** An email's parts either side of its first `@` (or `%40`), tested apart: see `isEmail`. */
const EMAIL_LOCAL = /^[^@\s]+$/;
const EMAIL_DOMAIN = /^[^@\s]+\.[a-z]{2,}$/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}$/i;
const HOST_PORT = /^[\w.-]+:\d{2,5}$/;
const SEMVER = /^v?\d+(?:\.\d+){1,3}(?:[-+][\w.-]+)?$/i;
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}$/i;
const JWT_LIKE = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;
const PERCENT_ENCODED = /%[0-9A-Fa-f]{2}/;
/** Google-style custom methods: `{name}:addRole`, `{id}:cancel`. */
const CUSTOM_METHOD = /^(.+):([a-z][A-Za-z]{2,})$/;
const WITH_EXTENSION = /^(.+)\.([A-Za-z][A-Za-z0-9]{0,4})$/;
/** `v1`, `v10`, `v1alpha1`, `v2beta3`: API versions, never ids. */
const VERSION = /^v\d+(?:(?:alpha|beta|rc|preview)\d*)?$/i;
/** A version as the first segment: `/2010-04-01/`, `/1.1/`, `/3/`. */
const LEADING_VERSION = /^(?:\d{4}-\d{2}-\d{2}|\d{1,2}(?:\.\d{1,2})?)$/;
/** Stripe-like prefixed ids: `cus_rKcolpJvbEiffE`, `ch_3MqLiJLkdIwHu7ix`. */
const PREFIXED_ID = /^[a-z]{1,8}_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{8,}$/;
/** A word followed or preceded by a short number (`base64`, `oauth2`, `3dsecure`) is a word. */
const WORD_AND_NUMBER = /^(?:[a-z]+\d{1,3}|\d{1,3}[a-z]+)$/;
const VOWELS = /[aeiouy]/gi;
const SEPARATORS = /[-_]/;

/**
 * `local@domain.tld`, the `@` maybe percent-encoded. Split at the first one rather than by one
 * regex: `[^@]+(?:@|%40)` tried every `%40` of a segment as the split, with a scan to its end
 * from each (160 ms for an 8 KB path of `%40A`).
 */
const isEmail = (segment: string): boolean => {
  let at = segment.indexOf('@');
  let width = 1;
  const encoded = segment.indexOf('%40');
  if (encoded !== -1 && (at === -1 || encoded < at)) {
    at = encoded;
    width = 3;
  }
  return at > 0 && EMAIL_LOCAL.test(segment.slice(0, at)) && EMAIL_DOMAIN.test(segment.slice(at + width));
};

/** Extensions a route ends with: `{code}.json`, `report.pdf`. A domain's `.com` is not one. */
const FILE_EXTENSIONS: ReadonlySet<string> = new Set(
  'json xml csv tsv txt html htm pdf png jpg jpeg gif svg webp ico js mjs css yaml yml zip gz tgz tar md atom rss mp3 mp4 wav ics vcf map php asp aspx jsp xlsx docx ndjson jsonl bin log'.split(
    ' ',
  ),
);

/** Formats a route names by a suffix (`/Messages.json`, `/{id}.xml`), as opposed to a file's own extension. */
const ROUTE_FORMATS: ReadonlySet<string> = new Set(
  'json xml csv tsv yaml yml html htm pdf atom rss ndjson jsonl ics vcf txt zip xlsx'.split(' '),
);

/**
 * The literal a parameter value carries joined to it in its segment: a format (`.json` of
 * `AC123.json`) or a custom method (`:addRole`); `''` when none.
 */
export function routeSuffix(segment: string): string {
  const colon = segment.lastIndexOf(':');
  if (colon > 0) {
    const m = CUSTOM_METHOD.exec(segment);
    if (m !== null) return `:${m[2]}`;
  }
  const dot = segment.lastIndexOf('.');
  if (dot > 0 && ROUTE_FORMATS.has(segment.slice(dot + 1).toLowerCase())) return segment.slice(dot);
  return '';
}

/** No route a person designs has a segment this long. */
const MAX_WORD_LENGTH = 64;
/**
 * Only paths without ids are cached: they are a small set that repeats, while paths with ids are
 * mostly unique and would only churn the cache. Long paths are not cached, to bound its memory.
 */
const MAX_CACHED_PATH_LENGTH = 256;
const cache = new LruCache<string, string>(20_000);
/** In front of `cache`, for the paths hit most: see `hot-cache.ts`. */
const hot = new HotCache<string>(2_048);
/** Templates of paths with ids, each held once: see `endpointTemplate`. */
const templates = new HotCache<string>(1_024);

const isUuidShaped = (s: string): boolean =>
  s.charCodeAt(8) === 45 && s.charCodeAt(13) === 45 && s.charCodeAt(18) === 45 && s.charCodeAt(23) === 45;

/** Letters and digits alternate often in generated ids (`dQw4w9WgXcQ`, `aB3xY9`), rarely in words (`oauth2`). */
const looksRandom = (length: number, transitions: number, mixedCase: boolean): boolean =>
  (length >= 8 && (transitions >= 3 || (mixedCase && transitions >= 2))) || (length >= 5 && transitions >= 3);

/** Letters only, mixed case, few vowels: `rKcolpJvbEiffE` (camelCase words have vowels: `getUserById`). */
const looksRandomLetters = (segment: string, upper: number, lower: number): boolean => {
  const n = upper + lower;
  if (n < 10 || upper < 2 || lower < 2) return false;
  const vowels = segment.match(VOWELS)?.length ?? 0;
  return vowels / n < 0.3 && upper / n >= 0.2;
};

const isWordyPart = (part: string): boolean =>
  /^[A-Za-z]*$/.test(part) ||
  (/^\d+$/.test(part) && part.length <= 4) ||
  VERSION.test(part) ||
  WORD_AND_NUMBER.test(part);

/** A part like `BH7919` or `x9k2`: letters and at least two digits, not a word with a number. */
const isCodePart = (part: string): boolean =>
  part.length >= 4 &&
  /^[A-Za-z0-9]+$/.test(part) &&
  /[A-Za-z]/.test(part) &&
  (part.match(/\d/g)?.length ?? 0) >= 2 &&
  !WORD_AND_NUMBER.test(part) &&
  !VERSION.test(part);

const classifySeparated = (segment: string): string => {
  if (PREFIXED_ID.test(segment)) return ID;
  const parts = segment.split(SEPARATORS);
  let wordy = true;
  for (const part of parts) {
    // A long number or a random-looking part makes the whole segment an id: `usr_123456`, `cus_NffrFeUf2Hib`, `sku-BH7919`.
    if (part.length >= 5 && classifyPlain(part) === ID) return ID;
    if (isCodePart(part) && part !== parts[0]) return ID;
    if (wordy && !isWordyPart(part)) wordy = false;
  }
  return segment.length >= 16 && !wordy ? ID : segment;
};

/** Segments with characters other than letters, digits, `-` and `_`. */
const classifyOther = (segment: string, digits: number, letters: number): string => {
  if (digits >= 8 && DATE_LIKE.test(segment)) return DATE;
  // What redaction left of a secret (`[REDACTED:jwt]`, `card:[REDACTED:card]`) stands where an id or token was.
  if (segment.includes(REDACTED_MARK)) return ID;
  if (isEmail(segment)) return ID;
  // Percent-encoded text (names, emoji, spaces) is data; route literals are plain.
  if (segment.includes('%') && PERCENT_ENCODED.test(segment)) return ID;
  if (segment.startsWith('eyJ') && JWT_LIKE.test(segment)) return ID;
  if (segment.length > MAX_WORD_LENGTH) return ID;
  const method = CUSTOM_METHOD.exec(segment);
  if (method !== null) return `${classifySegment(method[1] ?? '')}:${method[2]}`;
  const withExtension = WITH_EXTENSION.exec(segment);
  if (withExtension !== null && FILE_EXTENSIONS.has((withExtension[2] ?? '').toLowerCase())) {
    return `${classifySegment(withExtension[1] ?? '')}.${withExtension[2]}`;
  }
  if (letters === 0 && digits >= 4) return ID;
  if (digits >= 4 && IPV4.test(segment)) return ID;
  if (SEMVER.test(segment)) return ID;
  if (segment.includes(':') && (HOST_PORT.test(segment) || IPV6.test(segment))) return ID;
  if (segment.includes('.') && DOMAIN.test(segment)) return ID;
  // Anything else with dots, colons, `~`, `+`, `=`, `,` or spaces (`4111 1111`, `a,b`) is a value.
  if (/[^A-Za-z0-9._~-]/.test(segment) || /[^.]\.\w/.test(segment)) return ID;
  return segment;
};

/** Letters, digits, `-` and `_` only. */
function classifyPlain(segment: string): string {
  const n = segment.length;
  let digits = 0;
  let hexLetters = 0;
  let lower = 0;
  let upper = 0;
  let separators = 0;
  let other = 0;
  let transitions = 0;
  // 0: none or separator, 1: letter, 2: digit
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const c = segment.charCodeAt(i);
    let kind = 0;
    if (c >= 48 && c <= 57) {
      digits++;
      kind = 2;
    } else if (c >= 97 && c <= 122) {
      lower++;
      if (c <= 102) hexLetters++;
      kind = 1;
    } else if (c >= 65 && c <= 90) {
      upper++;
      if (c <= 70) hexLetters++;
      kind = 1;
    } else if (c === 45 || c === 95) {
      separators++;
    } else {
      other++;
    }
    if (kind !== 0 && previous !== 0 && kind !== previous) transitions++;
    previous = kind;
  }

  if (digits === n) return ID;
  if (other > 0) return classifyOther(segment, digits, lower + upper);
  if (digits >= 8 && separators === 2 && DATE_LIKE.test(segment)) return DATE;
  if (n === 36 && digits + hexLetters === 32 && isUuidShaped(segment)) return ID;
  if (n > MAX_WORD_LENGTH) return ID;
  const letters = lower + upper;
  if (digits === 0) {
    if (separators === 0) return looksRandomLetters(segment, upper, lower) ? ID : segment;
    return PREFIXED_ID.test(segment) ? ID : segment;
  }
  if (letters === 0) return digits >= 4 ? ID : segment;
  if (VERSION.test(segment)) return segment;
  if (separators > 0) return classifySeparated(segment);
  if (n >= 8 && digits + hexLetters === n) return ID;
  // Long mixed runs of base64url characters: ULIDs, nanoids, API keys.
  if (n >= 16) return ID;
  if (looksRandom(n, transitions, lower > 0 && upper > 0)) return ID;
  // Short codes with letters and digits: `BH7919`, `x9k2p`; not `base64`, `oauth2`.
  return upper > 0 && digits >= 2 && n >= 5 && !WORD_AND_NUMBER.test(segment.toLowerCase()) ? ID : segment;
}

/** The template of one segment by its characters: `{id}`, `{date}`, `{id}.json`, `{id}:addRole`, or itself. */
export function classifySegment(segment: string): string {
  return classifyPlain(segment);
}

/**
 * Ids by their characters that are also literals in some APIs: dotted names (`example.com`, an API
 * group `rbac.authorization.k8s.io`) and dates (a dated version `/2024-01-01/`). A route learner
 * lets their frequency decide.
 */
export function isWeakId(segment: string): boolean {
  if (segment.includes('.')) return DOMAIN.test(segment);
  return segment.length >= 7 && segment.length <= 10 && /^\d{4}-\d{2}(?:-\d{2})?$/.test(segment);
}

/**
 * A weak id whose frequency alone does not make it a literal: a date (`/reports/2024-01-02`, one
 * a day) or an id in a route's format (`/orders/6226017239.json`, polled), where a dated version
 * (`/2024-04/`) or a dotted name (`chat.postMessage`, an API group) is one of a few. A route
 * learner keeps these literal only while they are a real share of their position's traffic.
 */
export function isWeakValue(segment: string): boolean {
  if (!segment.includes('.')) return isWeakId(segment);
  const suffix = routeSuffix(segment);
  if (!suffix.startsWith('.')) return false;
  const stem = segment.slice(0, -suffix.length);
  return classifyPlain(stem) !== stem;
}

/** The template of the segment at `index` of a path: a version in first place stays literal. */
export function classifySegmentAt(segment: string, index: number): string {
  if (index === 0 && LEADING_VERSION.test(segment)) return segment;
  return classifyPlain(segment);
}

const stripOrigin = (path: string): string => {
  if (!path.startsWith('http://') && !path.startsWith('https://')) return path;
  const slash = path.indexOf('/', path.indexOf('//') + 2);
  return slash === -1 ? '/' : path.slice(slash);
};

/** The path without query string, fragment and origin. */
export function barePath(path: string): string {
  let end = path.indexOf('?');
  const hash = path.indexOf('#');
  if (hash !== -1 && (end === -1 || hash < end)) end = hash;
  return stripOrigin(end === -1 ? path : path.slice(0, end));
}

/**
 * The segments of a bare path. Matrix parameters (`;jsessionid=…`) are not part of the route;
 * empty segments are dropped, so `//users/42/` has the segments `users`, `42`.
 */
export function pathSegments(bare: string): string[] {
  const segments: string[] = [];
  let start = 0;
  while (start <= bare.length) {
    let stop = bare.indexOf('/', start);
    if (stop === -1) stop = bare.length;
    const semicolon = bare.indexOf(';', start);
    const end = semicolon !== -1 && semicolon < stop ? semicolon : stop;
    if (end > start) segments.push(bare.slice(start, end));
    start = stop + 1;
  }
  return segments;
}

/**
 * The endpoint template of a path by the per-segment rules (a query string or fragment, if any, is
 * ignored). Empty and duplicate slashes are dropped, so `//users/42/` gives `/users/{id}`; no
 * segments give `/`.
 */
export function endpointTemplate(path: string): string {
  const bare = barePath(path);
  const cacheable = bare.length <= MAX_CACHED_PATH_LENGTH;
  if (cacheable) {
    const hotHit = hot.get(bare);
    if (hotHit !== undefined) return hotHit;
    const hit = cache.get(bare);
    if (hit !== undefined) {
      hot.set(bare, hit);
      return hit;
    }
  }
  const segments = pathSegments(bare);
  let template = '';
  for (let i = 0; i < segments.length; i++) template += `/${classifySegmentAt(segments[i] as string, i)}`;
  if (template === '') template = '/';
  if (!cacheable) return flat(template);
  if (!template.includes('{')) {
    cache.set(bare, template);
    return template;
  }
  // Paths with ids are not cached, but their templates are few: every row of `/users/{id}` gets
  // the same string, not a chain of concatenations of its own that the batch would hold.
  const known = templates.get(template);
  if (known !== undefined) return known;
  templates.set(template, template);
  return template;
}
