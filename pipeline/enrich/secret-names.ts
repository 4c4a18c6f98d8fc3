import { LruCache } from './lru-cache.ts';

/**
 * Which names (of headers, query and matrix parameters, form fields, JSON keys, XML elements,
 * GraphQL arguments) hold secrets, and which name an id or a hash.
 *
 * One rule set for every place a name appears, applied to the normalised name: lower case, `\u`
 * escapes and percent-encoding decoded, separators (`-`, `_`, `.`, spaces, brackets) removed, so
 * `X-Auth-Key`, `auth_key`, `authKey`, `user[auth_key]` and `"\u0061uth_key"` are one name.
 * The rules are word parts (`passw`, `secret`, `token`, `auth`, a name ending in `key`), not a list
 * of known names: storing a live credential costs more than losing a harmless value.
 */

/** Words that make a trailing `pass`, `pw` or `pin` a credential: whose it is, or which one. */
const CREDENTIAL_OWNERS = [
  'user|usr|new|old|current|cur|confirm|repeat|retype|admin|root|account|acct|login|app|api',
  'db|sql|mysql|pg|postgres|redis|mongo|smtp|mail|email|ftp|sftp|ssh|wifi|wpa|vnc|proxy|bind|ldap',
  'keystore|truststore|store|key|master|private|priv|sys|svc|service|card|atm|sim|debit|phone|device',
  'wallet|my|temp|tmp|one|default|initial|x',
].join('|');

/**
 * Secret wherever they appear in a name. `auth` but not `author`/`authority`; `token` but not the
 * counts of language-model APIs (`max_tokens`, `token_count`) or `tokenizer`; `pass`, `pw` and
 * `pin` at the end of a name only after a word that makes them a credential (`db_pass`,
 * `confirm_pw`, `user_pin`; not `bypass`, `boarding_pass`, `map_pin`), or numbered (`pass2`);
 * one-time, second-factor and recovery codes, security answers; a wallet's recovery words; the word for password in the languages most often met in field
 * names.
 */
const SECRET_PART = new RegExp(
  [
    'passw|passphrase|passcode|pswd|pwd',
    `(?:${CREDENTIAL_OWNERS})(?:pass|pw|pin)\\d?$|^(?:pass|pw|pin)\\d$|^pin(?:number|num|no)$`,
    'secret|token(?!s|count|type|limit|usage|len|iz)|tokenstr',
    'credential|signature|cookie|jwt|bearer|privatekey|apikey|auth(?!or(?!iz))',
    'sess(?:ion)?(?:id|key|token)?$|otp$|^otp|totp|hotp|mfa',
    '(?:security|verification|verify|recovery|backup|reset|confirmation|sms|login|onetime|access|activation|unlock)code$',
    // Second factors and the answers that reset an account.
    'twofactor(?:code|token|otp)?$|^x?2fa(?:code|token)?$|security(?:question)?answer|memorable(?:word|info)',
    '^x?hmac$|hmac(?:key|secret)|hmac(?:sha\\d*|md5)$|^xsign$|^xsid$',
    'cvv|cvc|cardnumber|ccnumber|creditcard|ssn$|pincode',
    // A wallet's recovery words (BIP 39): the private key itself.
    'mnemonic|seedphrase|seedwords|recoveryphrase',
    'senha|contrase[nñ]a|motdepasse|kennwort|wachtwoord|haslo|hasło|losenord|salasana|passord|adgangskode|пароль|密码',
  ].join('|'),
);

/** Secret only as the whole name: short words that are parts of many harmless names. */
const SECRET_EXACT = new Set([
  'pw',
  'pwd',
  'pass',
  'pin',
  'sid',
  'sig',
  'card',
  'pan',
  // Anti-forgery tokens under their bare names (`X-CSRF`, `xsrf`), and vendors' key headers.
  'csrf',
  'xcsrf',
  'xsrf',
  'xxsrf',
  'xhoneycombteam',
  'xfirebaseappcheck',
]);

/** Names ending in `key` are secrets (`x-functions-key`, `dd-application-key`) except these. */
const HARMLESS_KEYS = new Set([
  'idempotencykey',
  'cachekey',
  'sortkey',
  'partitionkey',
  'primarykey',
  'foreignkey',
  'publickey',
  'hashkey',
  'rangekey',
  'routingkey',
  'objectkey',
  'messagekey',
  'groupkey',
  'dedupkey',
  'deduplicationkey',
  'translationkey',
  'i18nkey',
  'hotkey',
  'monkey',
  'turkey',
  'hockey',
  'jockey',
  'donkey',
  'whiskey',
  'keykey',
  // The name half of a name/value pair (`{"ParameterKey": "DbPassword", "ParameterValue": …}`).
  'parameterkey',
  'attributekey',
  'tagkey',
  'labelkey',
  'fieldkey',
  'propertykey',
]);

/** Names whose values are ids, hashes or trace ids: a long hex or random value there is expected. */
const ID_NAME =
  /(?:id|ids|uuid|guid|ulid|sha\d*|md5|hash|digest|checksum|etag|ifnonematch|ifmatch|commits?|blobs?|trees?|objects?|revs?|revision|ref|fingerprint|traceparent|tracestate|trace|span|integrity|cid|ipfs|build)$|trace|hash|digest|checksum|etag|sha\d/;

const ESCAPE = /\\u([0-9a-fA-F]{4})/g;
const SEPARATORS = /[-_.\s[\]]/g;

/** `X-Auth-Key` → `xauthkey`, `p%61ss_word` → `password`, `\u0070wd` → `pwd`. */
export const normaliseName = (raw: string): string => {
  let name = raw;
  if (name.indexOf('%') !== -1) {
    try {
      name = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // A lone `%` is not an escape; the name is matched as written.
    }
  }
  if (name.indexOf('\\u') !== -1)
    name = name.replace(ESCAPE, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return name.toLowerCase().replace(SEPARATORS, '');
};

const secretNormalised = (n: string): boolean => {
  if (n === '') return false;
  if (SECRET_EXACT.has(n) || SECRET_PART.test(n)) return true;
  return n.endsWith('key') && n.length > 3 && !HARMLESS_KEYS.has(n);
};

/** Names repeat within a body and across requests; deciding once per name keeps big bodies cheap. */
const verdicts = new LruCache<string, boolean>(16_384);
const idVerdicts = new LruCache<string, boolean>(4_096);

/** True when a value under this name is a secret (for JSON keys, form fields, XML, GraphQL). */
export const isSecretFieldName = (name: string): boolean => {
  let verdict = verdicts.get(name);
  if (verdict === undefined) {
    verdict = secretNormalised(normaliseName(name));
    if (name.length <= 64) verdicts.set(name, verdict);
  }
  return verdict;
};

/** Parameters that are secrets in URLs and headers only: OAuth's `code`, Google-style `key`, a one-time token (`ott`), a personal access token (`pat`). */
const URL_ONLY = new Set(['code', 'key', 'accesskey', 'ott', 'pat']);

export const isSecretQueryName = (name: string): boolean =>
  isSecretFieldName(name) || URL_ONLY.has(normaliseName(name));

export const isSecretHeaderName = (lowerName: string): boolean =>
  lowerName === 'authorization' || lowerName === 'proxy-authorization' || isSecretQueryName(lowerName);

/** True when values under this name are ids or hashes, where a long hex or random string is expected. */
export const isIdName = (name: string): boolean => {
  let verdict = idVerdicts.get(name);
  if (verdict === undefined) {
    const n = normaliseName(name);
    verdict = n !== '' && !secretNormalised(n) && ID_NAME.test(n);
    if (name.length <= 64) idVerdicts.set(name, verdict);
  }
  return verdict;
};

/** A name as written, when it is one: word characters, `.`, `-` and brackets (`user[password]`). */
const PLAIN_NAME = /^[\w.[\]-]{1,64}$/;

/**
 * How a secret's name is listed in the `redacted` column: the name, lower case, when it is a plain
 * name, else `field`. The list is stored as is, so a "name" that is really text (a JSON key holding
 * `password: hunter2`, a pair's name field) must not be echoed into it.
 */
export const listedName = (name: string): string =>
  PLAIN_NAME.test(name) ? name.toLowerCase().replace(/,/g, '_') : 'field';

/**
 * Keys of a name/value pair, in any case (`Name`/`Value` in AWS APIs, `ParameterKey`/
 * `ParameterValue`): in `[{"name":"password","value":"…"}]` the value is the password's.
 */
export const PAIR_NAME_KEYS: ReadonlySet<string> = new Set([
  'name',
  'key',
  'field',
  'param',
  'parameter',
  'parameterkey',
  'parametername',
  'header',
  'attribute',
  'attributename',
  'property',
  'label',
]);
export const PAIR_VALUE_KEYS: ReadonlySet<string> = new Set([
  'value',
  'val',
  'values',
  'data',
  'content',
  'parametervalue',
  'attributevalue',
]);
