import { LruCache } from './lru-cache.ts';

/**
 * Which names (of headers, query parameters, JSON keys) hold secrets. Over-redacting a harmless
 * value costs little; storing a live credential in a data lake costs a lot, so the rules lean to
 * redacting, except for names common in API payloads that are almost never secret (`code`,
 * `key`, `max_tokens`, `total_tokens`).
 */

const SECRET_HEADER =
  /authorization|cookie|token|secret|passw(?:or)?d|api[-_]?key|session|signature|credential|private[-_]?key/i;

/** Compared after lower-casing and removing `-`, `_` and `.`: `x-api-key` → `xapikey`. */
const SECRET_FIELD_EXACT = new Set([
  'pwd',
  'pass',
  'auth',
  'cookie',
  'session',
  'sessionid',
  'sid',
  'sig',
  'jwt',
  'otp',
  'cvv',
  'cvv2',
  'cvc',
  'card',
  'cardnumber',
  'ccnumber',
  'ssn',
  'pin',
]);
const SECRET_FIELD_PART =
  /secret|passw(?:or)?d|credential|privatekey|apikey|signature|authorization|cookie|token$/;
const NOT_A_NAME_CHAR = /[-_.[\]]/g;

/** Parameters that are secrets in URLs only: OAuth's `code`, Google-style `key`. */
const SECRET_QUERY_EXACT = new Set(['code', 'key', 'accesskey']);

const squash = (name: string): string => name.toLowerCase().replace(NOT_A_NAME_CHAR, '');

export const isSecretHeaderName = (lowerName: string): boolean => SECRET_HEADER.test(lowerName);

/** JSON keys repeat within a body and across bodies; deciding once per key keeps big bodies cheap. */
const fieldVerdicts = new LruCache<string, boolean>(8_192);

export const isSecretFieldName = (name: string): boolean => {
  let verdict = fieldVerdicts.get(name);
  if (verdict === undefined) {
    const n = squash(name);
    verdict = SECRET_FIELD_EXACT.has(n) || SECRET_FIELD_PART.test(n);
    if (name.length <= 64) fieldVerdicts.set(name, verdict);
  }
  return verdict;
};

const queryVerdicts = new LruCache<string, boolean>(4_096);

export const isSecretQueryName = (name: string): boolean => {
  let verdict = queryVerdicts.get(name);
  if (verdict === undefined) {
    const n = squash(name);
    verdict = SECRET_FIELD_EXACT.has(n) || SECRET_QUERY_EXACT.has(n) || SECRET_FIELD_PART.test(n);
    if (name.length <= 64) queryVerdicts.set(name, verdict);
  }
  return verdict;
};
