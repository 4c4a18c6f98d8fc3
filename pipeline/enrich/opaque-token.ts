/**
 * Opaque tokens: secrets with no known format (session ids, reset and invite tokens, API keys of
 * services nobody listed). Found by what makes them secrets: they are long and random.
 *
 * - A run of 20+ base64url characters (`[A-Za-z0-9_-]`) is a token when it mixes upper case, lower
 *   case and digits (or upper and lower case evenly) with few separators, and its Shannon entropy
 *   is close to that of random text of its length. Words, camelCase names, slugs and version
 *   strings fail the mix or the entropy; random base62 text passes both more than 99% of the time.
 * - A run holding 32+ hex digits in a row is a token unless the caller knows it sits where ids
 *   and hashes go (a `sha256` path segment, an `etag` header, a `commit_id` key): hashes are 32,
 *   40 or 64 hex digits too, and only their position tells them apart.
 *
 * Prefixed object ids in the Stripe style (`cus_NffrFeUf2Hib`, `pi_3HYw…`) and ULIDs are ids by
 * convention and are kept; secret prefixes (`sk_`, `key_live_`) have their own rules or fail this one.
 */

export const MIN_TOKEN_LENGTH = 20;
const MIN_HEX_RUN = 32;

const counts = new Uint16Array(128);

/** Shannon entropy, bits per character, of `text[start, end)` (ASCII only: callers pass runs of `[\w-]`). */
export const shannonEntropy = (text: string, start: number, end: number): number => {
  counts.fill(0);
  for (let i = start; i < end; i++) counts[text.charCodeAt(i) & 127]!++;
  const n = end - start;
  let h = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) & 127;
    const k = counts[c]!;
    if (k === 0) continue;
    const p = k / n;
    h -= p * Math.log2(p);
    counts[c] = 0;
  }
  return h;
};

/**
 * The entropy a run must reach: 80% of log2(length), capped. Random base62 text of 20 characters
 * averages ~4.0 bits (threshold 3.46), of 40 ~4.7 (threshold 4.26); English identifiers of those
 * lengths average ~3.5-3.9 and are also stopped by the character-mix rule.
 */
const threshold = (n: number): number => Math.min(4.3, Math.max(3.3, Math.log2(n) * 0.8));

const VOWELS = new Set([97, 101, 105, 111, 117]);
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** `[0-9A-Fa-f]`, as a character code. */
export const isHex = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** Prefixes of Stripe-style ids that are secrets, not ids. */
const SECRET_PREFIXES = new Set([
  'sk',
  'rk',
  'key',
  'pat',
  'api',
  'tok',
  'sec',
  'auth',
  'sess',
  'token',
  'secret',
  // Environment words front keys, not object ids (`live_…`, `test_…`); Stripe's ids never start so.
  'live',
  'test',
]);

const isPrefixedId = (text: string, start: number, end: number): boolean => {
  let i = start;
  while (i < end && isLower(text.charCodeAt(i))) i++;
  const prefix = i - start;
  if (prefix < 2 || prefix > 8 || text.charCodeAt(i) !== 95) return false;
  for (let j = i + 1; j < end; j++) {
    const c = text.charCodeAt(j);
    if (c === 95 || c === 45) return false;
  }
  return end - i - 1 <= 32 && !SECRET_PREFIXES.has(text.slice(start, i));
};

/** Crockford base32, 26 characters, first one 0-7: a ULID, time-ordered, not secret. */
const isUlid = (text: string, start: number, end: number): boolean => {
  if (end - start !== 26) return false;
  const first = text.charCodeAt(start);
  if (first < 48 || first > 55) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!(isDigit(c) || isUpper(c)) || c === 73 || c === 76 || c === 79 || c === 85) return false;
  }
  return true;
};

/**
 * Prefixes of keys whose body is lower-case hex: the secret prefixes, less those naming an
 * environment (`live_…` fronts keys, `live_stream_<hex>` an id), and vendors' (Sentry, Buildkite,
 * Sourcegraph, Checkly, Postman's `PMAK-<24 hex>-<34 hex>`, RubyGems).
 */
const HEX_KEY_PREFIXES = new Set([
  ...[...SECRET_PREFIXES].filter((p) => p !== 'live' && p !== 'test'),
  'sntryu',
  'sntrys',
  'bkua',
  'sgp',
  'cu',
  'pmak',
  'rubygems',
]);
/** Mailchimp's data-centre suffix: `<32 hex>-us12`. */
const DATA_CENTRE = /^us\d{1,2}$/;

/**
 * Is one `_`/`-` part of the run `MIN_HEX_RUN`+ hex characters (letters and digits both) whose
 * other parts say key: a secret or vendor prefix (`sk_<48 hex>`, `sntryu_…`) or Mailchimp's
 * data-centre suffix (`<32 hex>-us12`)? Any other word before it names an object and the whole
 * is an id (`user_<hex>`, `sha256-<hex>`, `node18-<hex>`).
 */
const hasHexPart = (text: string, start: number, end: number): boolean => {
  const parts: [number, number][] = [];
  let partStart = start;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 45;
    if (c !== 95 && c !== 45) continue;
    parts.push([partStart, i]);
    partStart = i + 1;
  }
  if (parts.length < 2 || parts.length > 4) return false;
  const hexAt = parts.findIndex(([s, e]) => {
    if (e - s < MIN_HEX_RUN) return false;
    let letters = 0;
    let digits = 0;
    for (let j = s; j < e; j++) {
      const d = text.charCodeAt(j);
      if (isDigit(d)) digits++;
      else if (isHex(d)) letters++;
      else return false;
    }
    return letters > 0 && digits > 0;
  });
  if (hexAt === -1) return false;
  const part = (k: number): string => {
    const [s, e] = parts[k] as [number, number];
    return text.slice(s, e);
  };
  for (let k = 0; k < parts.length; k++) {
    if (k === hexAt) continue;
    const word = part(k).toLowerCase();
    if (HEX_KEY_PREFIXES.has(word)) return true;
    if (k === hexAt + 1 && DATA_CENTRE.test(word)) return true;
  }
  return false;
};

/**
 * Whether a run with many `_`/`-` (over a tenth of it) is still random base64url rather than words
 * joined by them. Random base64url is `_` or `-` one character in 32, so a short key holds three
 * or four of them often enough (`sq0atp-G7lg7kx6w_b3Kqo-BRdvu9`, one in seven Square tokens):
 * its pieces mix cases and digits, where a slug's pieces (`Release-Notes-2024-V2`) are each a
 * word, a capitalised word, an acronym or a number. At most a quarter of it may be separators,
 * and at least half of its other characters must be in mixed pieces.
 */
const randomPieces = (text: string, start: number, end: number, separators: number): boolean => {
  const n = end - start;
  if (separators * 4 > n) return false;
  let mixed = 0;
  let pieceStart = start;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 45;
    if (c !== 95 && c !== 45) continue;
    if (!isPlainPiece(text, pieceStart, i)) mixed += i - pieceStart;
    pieceStart = i + 1;
  }
  return mixed * 2 >= n - separators;
};

/** A word (`notes`, `Notes`), an acronym (`API`) or a number: not random. */
const isPlainPiece = (text: string, start: number, end: number): boolean => {
  if (end - start <= 1) return true;
  let lower = 0;
  let upper = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (isLower(c)) lower++;
    else if (isUpper(c)) upper++;
    else digits++;
  }
  const n = end - start;
  if (lower === n || upper === n || digits === n) return true;
  return upper === 1 && lower === n - 1 && isUpper(text.charCodeAt(start));
};

/**
 * Whether a short unpadded base64 run with `/` (`Xk9m/Q2vLr7T+pZ8wNcB4yHs3D1a`) is random rather
 * than a path (see `base64TokenIn` in secret-text.ts): its pieces between `/` and `+` (of 3+
 * characters) mostly mix digits and cases inside them at least twice, none of 6+ characters does
 * not (a path's pieces are words, numbers and names: `Users/42`, `UserProfileCard`, `README2`),
 * and vowels are few (a fifth of random letters, a third of words').
 */
export const randomSlashPieces = (text: string, start: number, end: number): boolean => {
  let letters = 0;
  let vowels = 0;
  let pieceStart = start;
  let pieces = 0;
  let plain = 0;
  let mixed = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 47;
    if (c === 47 || c === 43) {
      const length = i - pieceStart;
      if (length >= 3) {
        pieces++;
        if (kindChanges(text, pieceStart, i) >= 2) mixed += length;
        // A word of 6+ letters (`components`, `Controllers`) is a path's, rarely a chance run.
        else if (length >= 6) return false;
        else plain += length;
      }
      pieceStart = i + 1;
      continue;
    }
    if (isLower(c) || isUpper(c)) {
      letters++;
      if (VOWELS.has(c | 32)) vowels++;
    }
  }
  return pieces >= 2 && mixed >= 3 * plain && vowels * 100 < letters * 26;
};

/** Changes between digit, upper and lower case inside `text[start, end)`, less one per capitalised word start. */
const kindChanges = (text: string, start: number, end: number): number => {
  let changes = 0;
  let previous = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const kind = isDigit(c) ? 1 : isUpper(c) ? 2 : isLower(c) ? 3 : 0;
    // Upper → lower is how a capitalised word starts, not a sign of randomness.
    if (kind !== 0 && previous !== 0 && kind !== previous && !(previous === 2 && kind === 3)) changes++;
    previous = kind;
  }
  return changes;
};

export type OpaqueKind = 'token' | 'hex' | null;

/**
 * What `text[start, end)`, a maximal run of `[A-Za-z0-9_-]`, is: a random `token`, a long `hex`
 * string (a secret unless its position says hash), or null.
 */
export function opaqueKind(text: string, start: number, end: number): OpaqueKind {
  const n = end - start;
  if (n < MIN_TOKEN_LENGTH) return null;
  let lower = 0;
  let upper = 0;
  let digits = 0;
  let separators = 0;
  let hexRun = 0;
  let hexRunLetters = 0;
  let longestHexRun = 0;
  let nonHexLetters = 0;
  let transitions = 0;
  let lowerRun = 0;
  let wordChars = 0;
  let previous = 0;
  let capitalised = 0;
  let vowels = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    let kind = 0;
    if (isLower(c)) {
      lower++;
      kind = 1;
    } else if (isUpper(c)) {
      upper++;
      kind = 2;
    } else if (isDigit(c)) {
      digits++;
      kind = 3;
    } else separators++;
    if (kind === 1) lowerRun++;
    else {
      if (lowerRun >= 4) wordChars += lowerRun + 1;
      lowerRun = 0;
    }
    if (kind !== 0 && previous !== 0 && (kind === 3) !== (previous === 3)) transitions++;
    if (kind === 1 && previous === 2) capitalised++;
    if (kind !== 0 && kind !== 3 && VOWELS.has(c | 32)) vowels++;
    previous = kind;
    if (isHex(c)) {
      hexRun++;
      if (kind !== 3) hexRunLetters++;
      if (hexRun > longestHexRun && hexRunLetters > 0) longestHexRun = hexRun;
    } else {
      hexRun = 0;
      hexRunLetters = 0;
      if (kind !== 0) nonHexLetters++;
    }
  }
  if (lowerRun >= 4) wordChars += lowerRun;
  // `0x` and 64 hex digits: a 256-bit key as Ethereum and most crypto tools print one (a
  // transaction hash has that form too, as a SHA-256 has without `0x`; both are judged as hex).
  // A 40-digit address is an account's public name and stays.
  if (
    n === 66 &&
    longestHexRun === 64 &&
    text.charCodeAt(start) === 48 &&
    (text.charCodeAt(start + 1) | 32) === 120
  )
    return 'hex';
  if (nonHexLetters === 0) {
    // Hex with dashes (UUIDs, trace ids) has short runs; decimal numbers are not tokens.
    return longestHexRun >= MIN_HEX_RUN ? 'hex' : null;
  }
  // A long hex part joined by `_` or `-` to a prefix or suffix is a key too (`<32 hex>-us12` of
  // Mailchimp, `sk_<48 hex>`, `0x<64 hex>`, Django's reset token `c2pvr8-<32 hex>`): its randomness
  // is the hex, and lower-case hex has too little of it (~4 bits a character) for the token test.
  // Hex glued to letters (Twilio's `SM<32 hex>` ids) is judged as before.
  if (longestHexRun >= MIN_HEX_RUN && hasHexPart(text, start, end)) return 'hex';
  if (separators * 10 > n && !(upper >= 2 && lower >= 2 && randomPieces(text, start, end, separators)))
    return null;
  const letters = lower + upper;
  if (upper === 0) {
    // Lower-case base36 keys (`9q7x2m…`) switch between letters and digits all along; words with a number do not.
    if (n < 24 || digits * 8 < n || transitions * 4 < n) return null;
  } else {
    const mixed = (upper >= 2 && lower >= 2 && digits >= 1) || (upper * 5 >= letters && lower * 5 >= letters);
    // Words (`Service`, `Runtime`) are a third vowels, put most lower-case letters in runs of 4+ or
    // follow nearly every capital with a lower-case letter; random text is a fifth vowels and does neither.
    const wordy = wordChars * 2 >= n || (capitalised >= 3 && capitalised * 10 >= upper * 8);
    if (!mixed || (wordy && vowels * 100 >= letters * 28)) return null;
  }
  if (isPrefixedId(text, start, end) || isUlid(text, start, end)) return null;
  return shannonEntropy(text, start, end) >= threshold(n) ? 'token' : null;
}
