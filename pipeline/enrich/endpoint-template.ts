import { LruCache } from './lru-cache.ts';

/**
 * Turns a request path into its endpoint template, so that `/v1/users/42` and `/v1/users/43` are
 * counted as one endpoint: `/v1/users/{id}`. Segments that look generated (numbers, UUIDs, hex
 * object ids, ULIDs, random tokens, emails, IPs, JWTs) become `{id}`, dates become `{date}`;
 * words, versions (`v1`) and short slugs stay. The rules are heuristics tuned to keep the number of
 * distinct endpoints low without hiding real routes.
 */

const ID = '{id}';
const DATE = '{date}';
const REDACTED_MARK = '[REDACTED';

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}){1,2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const EMAIL = /^[^@\s]+(?:@|%40)[^@\s]+\.[a-z]{2,}$/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const JWT_LIKE = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;
const WITH_EXTENSION = /^(.+)(\.[A-Za-z][A-Za-z0-9]{0,4})$/;
const VERSION = /^v\d+$/i;
const SEPARATORS = /[-_]/;

/** No route a person designs has a segment this long. */
const MAX_WORD_LENGTH = 64;
/**
 * Only paths without ids are cached: they are a small set that repeats, while paths with ids are
 * mostly unique and would only churn the cache. Long paths are not cached, to bound its memory.
 */
const MAX_CACHED_PATH_LENGTH = 256;
const cache = new LruCache<string, string>(20_000);

const isUuidShaped = (s: string): boolean =>
  s.charCodeAt(8) === 45 && s.charCodeAt(13) === 45 && s.charCodeAt(18) === 45 && s.charCodeAt(23) === 45;

/** Letters and digits alternate often in generated ids (`dQw4w9WgXcQ`), rarely in words (`oauth2`). */
const looksRandom = (length: number, transitions: number, mixedCase: boolean): boolean =>
  length >= 8 && (transitions >= 3 || (mixedCase && transitions >= 2));

const isWordyPart = (part: string): boolean =>
  /^[A-Za-z]*$/.test(part) || (/^\d+$/.test(part) && part.length <= 4) || VERSION.test(part);

const classifySeparated = (segment: string): string => {
  const parts = segment.split(SEPARATORS);
  let wordy = true;
  for (const part of parts) {
    // A long number or a random-looking part makes the whole segment an id: `usr_123456`, `cus_NffrFeUf2Hib`.
    if (part.length >= 5 && classifySegment(part) === ID) return ID;
    if (wordy && !isWordyPart(part)) wordy = false;
  }
  return segment.length >= 16 && !wordy ? ID : segment;
};

const classifyOther = (segment: string, digits: number, letters: number): string => {
  if (digits >= 8 && DATE_LIKE.test(segment)) return DATE;
  if (letters === 0 && digits >= 4) return ID;
  // What redaction left of a secret (`[REDACTED:jwt]`, `card:[REDACTED:card]`) stands where an id or token was.
  if (segment.includes(REDACTED_MARK)) return ID;
  if ((segment.includes('@') || segment.includes('%40')) && EMAIL.test(segment)) return ID;
  if (digits >= 4 && IPV4.test(segment)) return ID;
  if (segment.startsWith('eyJ') && JWT_LIKE.test(segment)) return ID;
  if (segment.length > MAX_WORD_LENGTH) return ID;
  const withExtension = WITH_EXTENSION.exec(segment);
  if (withExtension !== null) {
    const stem = withExtension[1] ?? '';
    if (classifySegment(stem) === ID) return ID + (withExtension[2] ?? '');
  }
  return segment;
};

function classifySegment(segment: string): string {
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
  if (digits === 0) return segment;
  if (letters === 0) return digits >= 4 ? ID : segment;
  if (separators > 0) return classifySeparated(segment);
  if (n >= 8 && digits + hexLetters === n) return ID;
  // Long mixed runs of base64url characters: ULIDs, nanoids, API keys.
  if (n >= 16) return ID;
  return looksRandom(n, transitions, lower > 0 && upper > 0) ? ID : segment;
}

const stripOrigin = (path: string): string => {
  if (!path.startsWith('http://') && !path.startsWith('https://')) return path;
  const slash = path.indexOf('/', path.indexOf('//') + 2);
  return slash === -1 ? '/' : path.slice(slash);
};

/**
 * The endpoint template of a path (a query string or fragment, if any, is ignored).
 * Matrix parameters are dropped; empty and duplicate segments are dropped, so `//users/42/` gives `/users/{id}`; no segments give `/`.
 */
export function endpointTemplate(path: string): string {
  let end = path.indexOf('?');
  const hash = path.indexOf('#');
  if (hash !== -1 && (end === -1 || hash < end)) end = hash;
  const bare = stripOrigin(end === -1 ? path : path.slice(0, end));

  const cacheable = bare.length <= MAX_CACHED_PATH_LENGTH;
  if (cacheable) {
    const hit = cache.get(bare);
    if (hit !== undefined) return hit;
  }

  let template = '';
  let start = 0;
  while (start <= bare.length) {
    let stop = bare.indexOf('/', start);
    if (stop === -1) stop = bare.length;
    // Matrix parameters (`;jsessionid=…`) are not part of the route.
    const semicolon = bare.indexOf(';', start);
    const end = semicolon !== -1 && semicolon < stop ? semicolon : stop;
    if (end > start) template += `/${classifySegment(bare.slice(start, end))}`;
    start = stop + 1;
  }
  if (template === '') template = '/';

  if (cacheable && !template.includes('{')) cache.set(bare, template);
  return template;
}
