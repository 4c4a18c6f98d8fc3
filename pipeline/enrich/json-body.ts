import { redactJsonFields } from './json-fields.ts';
import {
  isIdName,
  isSecretFieldName,
  listedName,
  normaliseName,
  PAIR_NAME_KEYS,
  PAIR_VALUE_KEYS,
} from './secret-names.ts';
import { redactSecretsInName, redactSecretsInText } from './secret-text.ts';

/**
 * JSON bodies: secret-named keys are redacted in place first (byte for byte, and it works on
 * truncated JSON too); then, when the text parses, every string is scanned decoded — so escapes
 * (`"\u0070assword"`, `\/`) hide nothing — and name/value pair lists
 * (`[{"name":"password","value":"…"}]`) are recognised. Changed strings are replaced where they
 * are written; when one cannot be found as written, the body is re-serialised.
 */

const MAX_DEPTH = 64;
const MAX_NESTED_JSON = 2;

interface Walk {
  readonly label: string;
  readonly found: string[];
  /** Encoded original string → encoded redacted string. */
  readonly replacements: Map<string, string>;
  reserialise: boolean;
  /** A part lies deeper than `MAX_DEPTH` and was not walked: the text is scanned as text as well. */
  tooDeep: boolean;
}

const record = (found: string[], name: string): void => {
  if (!found.includes(name)) found.push(name);
};

const REDACTED = '[REDACTED]';

const redactString = (s: string, key: string, w: Walk, nesting: number): string => {
  const first = s.charCodeAt(0);
  if ((first === 123 || first === 91) && nesting < MAX_NESTED_JSON) {
    const inner = redactJson(s, w.label, w.found, nesting + 1);
    if (inner.parsed) return inner.text;
    // Not JSON, or deeper than the walk goes: what was redacted in it is scanned as text.
    return redactSecretsInText(inner.text, w.label, w.found, { idPosition: key !== '' && isIdName(key) });
  }
  return redactSecretsInText(s, w.label, w.found, { idPosition: key !== '' && isIdName(key) });
};

const redactPairValue = (node: Record<string, unknown>, w: Walk): void => {
  const keys = Object.keys(node);
  let secretName: string | undefined;
  for (const k of keys) {
    const v = node[k];
    if (typeof v === 'string' && PAIR_NAME_KEYS.has(k.toLowerCase()) && isSecretFieldName(v)) secretName = v;
  }
  if (secretName === undefined) return;
  const listed = listedName(secretName);
  for (const k of keys) {
    if (!PAIR_VALUE_KEYS.has(k.toLowerCase())) continue;
    const v = node[k];
    if (v === undefined || v === null || v === '' || v === REDACTED) continue;
    if (typeof v === 'string') w.replacements.set(JSON.stringify(v), JSON.stringify(REDACTED));
    else w.reserialise = true;
    node[k] = REDACTED;
    record(w.found, `${w.label}:${listed}`);
  }
};

/** Keys (`normaliseName`d) of header lists written as arrays. */
const HEADER_LIST_KEYS = new Set([
  'rawheaders',
  'rawtrailers',
  'headers',
  'trailers',
  'headerlist',
  'headerentries',
]);

/**
 * Headers written as name/value arrays under a header-list key: Node's `rawHeaders` (`["X-Api-Key",
 * "…", "Host", "…"]`) and fetch's entries (`"headers": [["x-api-key", "…"]]`, each a two-string
 * array). A value after a secret name is redacted; other string lists (a schema's `required`,
 * scopes, allowed headers) are not pairs. The tree is written again once (a text replacement of
 * the value would also hit keys and other values equal to it).
 */
const redactPairArray = (node: unknown[], key: string, w: Walk): void => {
  if (node.length < 2 || node.length % 2 !== 0 || node.length > 512) return;
  if (!HEADER_LIST_KEYS.has(normaliseName(key))) return;
  for (let i = 0; i < node.length; i += 2) {
    const name = node[i];
    if (typeof name !== 'string' || name.length > 64 || typeof node[i + 1] !== 'string') return;
  }
  for (let i = 0; i < node.length; i += 2) {
    const name = node[i] as string;
    const value = node[i + 1] as string;
    if (value === '' || value === REDACTED || !isSecretFieldName(name)) continue;
    w.reserialise = true;
    node[i + 1] = REDACTED;
    record(w.found, `${w.label}:${listedName(name)}`);
  }
};

/** A GraphQL argument given a variable: `login(password: $p)`. */
const GRAPHQL_ARGUMENT = /([A-Za-z_][\w]{0,63})\s*:\s*\$([A-Za-z_][\w]{0,63})/g;

/**
 * A GraphQL request (`{"query": "…", "variables": {…}}`) whose query passes a variable to a secret
 * argument (`login(password: $p)`): the variable's value is redacted, whatever its name. A variable
 * named for what it holds (`$password`) is redacted by its own name anyway.
 */
const redactGraphqlVariables = (obj: Record<string, unknown>, w: Walk): void => {
  const query = obj.query;
  const variables = obj.variables;
  if (typeof query !== 'string' || typeof variables !== 'object' || variables === null) return;
  if (Array.isArray(variables) || query.indexOf('$') === -1) return;
  const vars = variables as Record<string, unknown>;
  for (const [, argument, variable] of query.matchAll(GRAPHQL_ARGUMENT)) {
    if (!isSecretFieldName(argument as string) || !Object.hasOwn(vars, variable as string)) continue;
    const v = vars[variable as string];
    if (v === undefined || v === null || v === '' || v === REDACTED) continue;
    if (typeof v === 'string') w.replacements.set(JSON.stringify(v), JSON.stringify(REDACTED));
    else w.reserialise = true;
    vars[variable as string] = REDACTED;
    record(w.found, `${w.label}:${listedName(argument as string)}`);
  }
};

/**
 * JSON-RPC methods whose positional `params` carry a credential: logins, and the wallet methods of
 * Ethereum nodes (`personal_unlockAccount(address, passphrase, duration)`, `personal_importRawKey(key,
 * passphrase)`, `personal_sendTransaction(tx, passphrase)`). Params have no names to go by.
 */
const CREDENTIAL_METHOD =
  /login|log_in|signin|sign_in|authenticat|unlock|importrawkey|newaccount|sendtransaction|signtransaction|personal_sign|passw|passphrase|secret/i;
/** An account's public address, which stays (`0x` and 40 hex digits). */
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** A JSON-RPC call (`{"method": "…", "params": [...]}`) of a credential method: its string params are redacted. */
const redactRpcParams = (obj: Record<string, unknown>, w: Walk): void => {
  const method = obj.method;
  const params = obj.params;
  if (typeof method !== 'string' || !Array.isArray(params) || method.length > 128) return;
  if (!CREDENTIAL_METHOD.test(method)) return;
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    if (typeof v !== 'string' || v === '' || v === REDACTED || ADDRESS.test(v)) continue;
    params[i] = REDACTED;
    w.reserialise = true;
    record(w.found, `${w.label}:rpcparams`);
  }
};

/**
 * A key that is itself a credential (`{"sk_live_…": 1}`, a token used as a map key) is renamed to
 * its redacted form, its value kept under it; returns the name the key has now. Keys repeat, so
 * most are one look-up.
 */
const redactKey = (obj: Record<string, unknown>, k: string, w: Walk): string => {
  const redacted = redactSecretsInName(k, w.label, w.found);
  if (redacted === k) return k;
  let name = redacted;
  for (let n = 2; Object.hasOwn(obj, name); n++) name = `${redacted}#${n}`;
  obj[name] = obj[k];
  delete obj[k];
  w.reserialise = true;
  return name;
};

/** Walks `node` in place, redacting what is found; `key` is the name the node sits under. */
const walk = (node: unknown, key: string, w: Walk, depth: number, nesting: number): unknown => {
  const idPosition = key !== '' && isIdName(key);
  if (typeof node === 'string') {
    const out = redactString(node, key, w, nesting);
    if (out !== node) w.replacements.set(JSON.stringify(node), JSON.stringify(out));
    return out;
  }
  if (typeof node === 'number') {
    // Cards sent as JSON numbers: scanned as text; a match means the number becomes a string.
    if (!Number.isInteger(node) || node < 1e12) return node;
    const text = String(node);
    const out = redactSecretsInText(text, w.label, w.found, { idPosition });
    if (out === text) return node;
    w.reserialise = true;
    return out;
  }
  if (typeof node !== 'object' || node === null) return node;
  if (depth >= MAX_DEPTH) {
    w.tooDeep = true;
    return node;
  }
  if (Array.isArray(node)) {
    redactPairArray(node, key, w);
    for (let i = 0; i < node.length; i++) {
      if (node[i] !== REDACTED) node[i] = walk(node[i], key, w, depth + 1, nesting);
    }
    return node;
  }
  const obj = node as Record<string, unknown>;
  redactPairValue(obj, w);
  redactGraphqlVariables(obj, w);
  redactRpcParams(obj, w);
  for (const original of Object.keys(obj)) {
    const k = redactKey(obj, original, w);
    const v = obj[k];
    if (v === REDACTED) continue;
    if (isSecretFieldName(k) && v !== null && v !== '') {
      // Missed by the in-place pass only when the key was written in a way it does not read.
      obj[k] = REDACTED;
      w.reserialise = true;
      record(w.found, `${w.label}:${listedName(k)}`);
      continue;
    }
    obj[k] = walk(v, k, w, depth + 1, nesting);
  }
  return obj;
};

/**
 * `text` (JSON, possibly truncated) redacted. `parsed` is false when it is not valid JSON: then only
 * secret-named keys were redacted and the caller must scan the result as free text.
 */
export function redactJson(
  text: string,
  label: string,
  found: string[],
  nesting = 0,
): { text: string; parsed: boolean } {
  const inPlace = redactJsonFields(text, isSecretFieldName, label, found);
  let root: unknown;
  try {
    root = JSON.parse(inPlace);
  } catch {
    return { text: inPlace, parsed: false };
  }
  const w: Walk = { label, found, replacements: new Map(), reserialise: false, tooDeep: false };
  root = walk(root, '', w, 0, nesting);
  const out = written(inPlace, root, w);
  // Parts past MAX_DEPTH were not walked (nor can a tree that deep always be written again): the
  // caller scans the text as text too, as for JSON that does not parse.
  return { text: out, parsed: !w.tooDeep };
}

/** The walked tree as text: the original with its changed strings replaced, or written again. */
const written = (inPlace: string, root: unknown, w: Walk): string => {
  if (!w.reserialise && w.replacements.size === 0) return inPlace;
  if (!w.reserialise) {
    let out = inPlace;
    for (const [from, to] of w.replacements) {
      if (out.indexOf(from) === -1) {
        w.reserialise = true;
        break;
      }
      out = out.split(from).join(to);
    }
    if (!w.reserialise) return out;
  }
  try {
    return JSON.stringify(root);
  } catch {
    // Too deep for the call stack (thousands of levels): the text as it was, scanned as text.
    w.tooDeep = true;
    return inPlace;
  }
};
