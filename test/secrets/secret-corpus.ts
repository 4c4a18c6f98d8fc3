import { Prng } from '../../fluent-bit/demo/prng.ts';
import { multipartBody } from '../support/multipart.ts';

/**
 * Two corpora of schema-v1 request logs for the redaction tests, generated from a seed so that a
 * failure can be replayed:
 *
 * - secret cases: one secret, in a realistic format, placed in one location a client controls
 *   (user agent, a header by name or by value, a query or matrix parameter, a path segment, a
 *   request or response body of each content type). `secret` is the part that must not survive.
 * - ordinary cases: traffic without secrets (ids, hashes, dates, versions, browser and SDK user
 *   agents, well-known API paths), to count what redaction destroys needlessly.
 */

export interface SecretCase {
  readonly name: string;
  readonly log: Record<string, unknown>;
  /** The random part of the secret; neither it nor any 8 characters of it may be stored. */
  readonly secret: string;
}

export interface OrdinaryCase {
  readonly name: string;
  readonly log: Record<string, unknown>;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const BASE62 = UPPER + LOWER + DIGITS;
const BASE64 = `${BASE62}+/`;
const HEX = '0123456789abcdef';

class Gen {
  private readonly rng: Prng;
  constructor(seed: number) {
    this.rng = new Prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.rng.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  b64url(bytes: number): string {
    return Buffer.from(Array.from({ length: bytes }, () => this.int(256)))
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  }
}

const base64url = (text: string): string => Buffer.from(text).toString('base64url');

const luhnCheckDigit = (partial: string): string => {
  let sum = 0;
  let double = true;
  for (let i = partial.length - 1; i >= 0; i--) {
    let d = partial.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return String((10 - (sum % 10)) % 10);
};

interface Secret {
  readonly kind: string;
  /** As written where it is placed. */
  readonly text: string;
  /** What must not be stored. */
  readonly part: string;
}

const secretMakers: Record<string, (g: Gen) => Secret> = {
  jwt: (g) => {
    const header = base64url(JSON.stringify({ alg: g.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }));
    const payload = base64url(
      JSON.stringify({ sub: g.chars(DIGITS, 7), iat: 1736930000 + g.int(9999), scope: 'read write' }),
    );
    const text = `${header}.${payload}.${g.b64url(32)}`;
    return { kind: 'jwt', text, part: text.slice(text.indexOf('.') + 1) };
  },
  awsKeyId: (g) => {
    const text = `${g.pick(['AKIA', 'ASIA'])}${g.chars(`${UPPER}234567`, 16)}`;
    return { kind: 'aws_key_id', text, part: text };
  },
  awsSecret: (g) => {
    let text = g.chars(BASE64, 40);
    // Real keys hold `+` or `/` about three times in four; make sure this one does.
    text = `${text.slice(0, 12)}/${text.slice(13)}`;
    return { kind: 'aws_secret', text, part: text };
  },
  github: (g) => {
    const text = `${g.pick(['ghp', 'gho', 'ghu', 'ghs', 'ghr'])}_${g.chars(BASE62, 36)}`;
    return { kind: 'github', text, part: text.slice(4) };
  },
  githubPat: (g) => {
    const text = `github_pat_11${g.chars(UPPER + DIGITS, 20)}_${g.chars(BASE62, 59)}`;
    return { kind: 'github_pat', text, part: text.slice(11) };
  },
  stripe: (g) => {
    const text = `${g.pick(['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'])}${g.chars(BASE62, 24)}`;
    return { kind: 'stripe', text, part: text.slice(8) };
  },
  google: (g) => {
    const text = `AIza${g.chars(`${BASE62}-_`, 35)}`;
    return { kind: 'google', text, part: text.slice(4) };
  },
  slackToken: (g) => {
    const text = `xox${g.pick(['b', 'p', 'a'])}-${g.chars(DIGITS, 11)}-${g.chars(DIGITS, 12)}-${g.chars(BASE62, 24)}`;
    return { kind: 'slack', text, part: text.slice(5) };
  },
  pem: (g) => {
    const body = Array.from({ length: 4 }, () => g.chars(BASE64, 64)).join('\n');
    const text = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`;
    return { kind: 'pem', text, part: body };
  },
  opaqueBase62: (g) => {
    const text = g.chars(BASE62, 32);
    return { kind: 'opaque', text, part: text };
  },
  opaqueHex: (g) => {
    const text = g.chars(HEX, g.pick([32, 40, 64]));
    return { kind: 'hex', text, part: text };
  },
  card: (g) => {
    const start = g.pick(['4', '51', '55', '2221', '6011', '37', '34']);
    const length = start === '37' || start === '34' ? 15 : 16;
    const partial = start + g.chars(DIGITS, length - 1 - start.length);
    const digits = partial + luhnCheckDigit(partial);
    const sep = g.pick(['', ' ', '-', '.']);
    const groups = length === 15 ? [4, 6, 5] : [4, 4, 4, 4];
    let at = 0;
    const text = groups
      .map((n) => {
        const group = digits.slice(at, at + n);
        at += n;
        return group;
      })
      .join(sep);
    // The 8-character check applies to the digits as written with their separators.
    return { kind: 'card', text, part: text };
  },
  email: (g) => {
    const local = `${g.chars(LOWER, 6)}.${g.chars(LOWER + DIGITS, 5)}`;
    const text = `${local}@${g.pick(['gmail.com', 'corp-mail.io', 'example.org'])}`;
    return { kind: 'email', text, part: local };
  },
  // Vendor tokens whose body is hex or upper case, which the randomness test alone cannot tell
  // from an id: each needs its format known.
  shopify: (g) => {
    const text = `shp${g.pick(['at', 'ss', 'ca', 'pa'])}_${g.chars(HEX, 32)}`;
    return { kind: 'shopify', text, part: text.slice(6) };
  },
  twilioKey: (g) => {
    const text = `SK${g.chars(HEX, 32)}`;
    return { kind: 'twilio_key', text, part: text.slice(2) };
  },
  mailgunKey: (g) => {
    const text = `key-${g.chars(HEX, 32)}`;
    return { kind: 'mailgun', text, part: text.slice(4) };
  },
  databricks: (g) => {
    const text = `dapi${g.chars(HEX, 32)}`;
    return { kind: 'databricks', text, part: text.slice(4) };
  },
  digitalOcean: (g) => {
    const text = `do${g.pick(['p', 'o', 'r'])}_v1_${g.chars(HEX, 64)}`;
    return { kind: 'digitalocean', text, part: text.slice(7) };
  },
  supabase: (g) => {
    const text = `sbp_${g.chars(HEX, 40)}`;
    return { kind: 'supabase', text, part: text.slice(4) };
  },
  pulumi: (g) => {
    const text = `pul-${g.chars(HEX, 40)}`;
    return { kind: 'pulumi', text, part: text.slice(4) };
  },
  gitlabOther: (g) => {
    const text = `${g.pick(['glrt', 'gldt', 'glptt', 'glsoat'])}-${g.chars(`${BASE62}_-`, 20)}`;
    return { kind: 'gitlab', text, part: text.slice(text.indexOf('-') + 1) };
  },
  slackApp: (g) => {
    const text = `xapp-1-A${g.chars(UPPER + DIGITS, 10)}-${g.chars(DIGITS, 13)}-${g.chars(HEX, 64)}`;
    return { kind: 'slack_app', text, part: text.slice(text.lastIndexOf('-') + 1) };
  },
  docker: (g) => {
    const text = `dckr_pat_${g.chars(`${BASE62}_-`, 27)}`;
    return { kind: 'docker', text, part: text.slice(9) };
  },
  newRelic: (g) => {
    const text = `${g.pick(['NRAK', 'NRII', 'NRJS'])}-${g.chars(UPPER + DIGITS, 27)}`;
    return { kind: 'newrelic', text, part: text.slice(5) };
  },
  // Keys whose randomness is lower-case hex joined to a prefix or suffix (the token test alone
  // finds too little entropy in hex): Mailchimp's data-centre suffix, vendor and secret prefixes.
  mailchimp: (g) => {
    const text = `${g.chars(HEX, 32)}-us${1 + g.int(20)}`;
    return { kind: 'mailchimp', text, part: text.slice(0, 32) };
  },
  hexPrefixed: (g) => {
    const prefix = g.pick(['sk', 'sntryu', 'bkua', 'sgp']);
    const text = `${prefix}_${g.chars(HEX, prefix === 'sntryu' ? 64 : 48)}`;
    return { kind: 'hex_prefixed', text, part: text.slice(prefix.length + 1) };
  },
  liveKey: (g) => {
    const text = `${g.pick(['live', 'test'])}_${g.chars(BASE62, 32)}`;
    return { kind: 'live_key', text, part: text.slice(5) };
  },
  huggingFace: (g) => {
    const text = `hf_${g.chars(UPPER + LOWER, 34)}`;
    return { kind: 'hugging_face', text, part: text.slice(3) };
  },
  password: (g) => {
    const text = `${g.chars(LOWER, 4)}${g.pick(['!', '#', '%', '*'])}${g.chars(BASE62, 8)}${g.chars(DIGITS, 2)}`;
    return { kind: 'password', text, part: text };
  },
};

const SHAPED = [
  'jwt',
  'awsKeyId',
  'awsSecret',
  'github',
  'githubPat',
  'stripe',
  'google',
  'slackToken',
  'pem',
  'opaqueBase62',
  'opaqueHex',
  'card',
  'email',
  'shopify',
  'twilioKey',
  'mailgunKey',
  'databricks',
  'digitalOcean',
  'supabase',
  'pulumi',
  'gitlabOther',
  'slackApp',
  'docker',
  'newRelic',
  'mailchimp',
  'hexPrefixed',
  'liveKey',
  'huggingFace',
] as const;

/** Shapes that fit in a URL path segment or a header value (one line). */
const ONE_LINE = SHAPED.filter((k) => k !== 'pem');

let counter = 0;

const baseLog = (g: Gen, overrides: Record<string, unknown>): Record<string, unknown> => {
  counter++;
  return {
    timestamp: `2025-01-15T10:${String(counter % 60).padStart(2, '0')}:00.000Z`,
    request_id: `req-${String(counter).padStart(6, '0')}`,
    project_id: 'proj_corpus',
    method: 'GET',
    path: '/v1/things',
    status: 200,
    latency_ms: 10 + g.int(200),
    ip: `203.0.113.${g.int(250) + 1}`,
    user_agent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    headers: { host: 'api.example.com', accept: 'application/json' },
    ...overrides,
  };
};

const SECRET_HEADERS = [
  'X-Auth-Key',
  'Ocp-Apim-Subscription-Key',
  'x-functions-key',
  'DD-APPLICATION-KEY',
  'DD-API-KEY',
  'X-Api-Key',
  'X-Access-Token',
  'X-Session-Token',
  'X-Amz-Security-Token',
  'X-Client-Secret',
  'X-CSRF-Token',
  'Cookie',
  'X-Goog-Api-Key',
  'apikey',
  'X-Shopify-Access-Token',
];
const SECRET_QUERY = [
  'pw',
  'pwd',
  'auth_key',
  'tokenId',
  'jsessionid',
  'password',
  'api_key',
  'access_token',
  'client_secret',
  'sig',
  'p%61ssword',
  'user%5Btoken%5D',
  'sessionToken',
  'apiKey',
  'otp',
];
const SECRET_FIELDS = [
  'password',
  'new_password',
  'passwd',
  'pwd',
  'client_secret',
  'apiKey',
  'auth_key',
  'refreshToken',
  'private_key',
  'secretAccessKey',
  'pin_code',
  'x-api-key',
  'sessionId',
  'credentials',
  'otp',
  'db_pass',
  'newPwd',
  'confirm_pw',
  'pass2',
  'user_pin',
  'security_code',
  'verification_code',
  'totp_seed',
  'tokenString',
  'senha',
  'kennwort',
  'mot_de_passe',
  'contrasena',
];

export function secretCorpus(seed = 20250115): SecretCase[] {
  const g = new Gen(seed);
  const cases: SecretCase[] = [];
  const add = (name: string, s: Secret, log: Record<string, unknown>): void => {
    cases.push({ name: `${name} [${s.kind}]`, log, secret: s.part });
  };
  const make = (kind: string): Secret => (secretMakers[kind] as (g: Gen) => Secret)(g);
  const pickShaped = (one: boolean): Secret => make(g.pick(one ? ONE_LINE : SHAPED));

  // The user agent column, written as clients and attackers do.
  for (const kind of ONE_LINE) {
    const s = make(kind);
    add('user agent, product comment', s, baseLog(g, { user_agent: `AcmeSync/4.2.1 (+${s.text})` }));
    const t = make(kind);
    add(
      'user agent header only',
      t,
      baseLog(g, { user_agent: undefined, headers: { 'user-agent': `curl/8.5.0 ${t.text}` } }),
    );
  }
  for (let i = 0; i < 4; i++) {
    const s = make('opaqueBase62');
    add('user agent, bearer', s, baseLog(g, { user_agent: `Bearer ${s.text}` }));
  }

  // Headers named after secrets, with values of any kind.
  for (const header of SECRET_HEADERS) {
    const s = g.int(2) === 0 ? make('password') : make(g.pick(['opaqueHex', 'opaqueBase62']));
    add(`header ${header}`, s, baseLog(g, { headers: { host: 'api.example.com', [header]: s.text } }));
  }
  // Shaped secrets under harmless header names.
  for (const kind of ONE_LINE) {
    const s = make(kind);
    add(
      'header x-debug-info',
      s,
      baseLog(g, { headers: { host: 'api.example.com', 'x-debug-info': `value=${s.text}` } }),
    );
  }
  for (let i = 0; i < 3; i++) {
    const s = `${make('opaqueBase62').text}$${g.chars(BASE62, 12)}`;
    add(
      'authorization bearer with $',
      { kind: 'bearer', text: s, part: s },
      baseLog(g, { headers: { authorization: `Bearer ${s}` } }),
    );
  }
  {
    const s = make('password');
    const basic = Buffer.from(`admin:${s.text}`).toString('base64');
    add(
      'x-forwarded-authorization basic',
      { kind: 'basic', text: basic, part: basic },
      baseLog(g, { headers: { 'x-original-auth': `Basic ${basic}` } }),
    );
  }

  // Query parameters named after secrets, and shaped secrets in other parameters.
  for (const param of SECRET_QUERY) {
    const s = make(g.pick(['password', 'opaqueBase62', 'opaqueHex']));
    add(
      `query ${param}`,
      s,
      baseLog(g, { path: `/v1/login?user=jane&${param}=${encodeURIComponent(s.text)}&page=2` }),
    );
  }
  for (const param of SECRET_QUERY.slice(0, 5)) {
    const s = make('password');
    add(`query field ${param}`, s, baseLog(g, { query: { [decodeURIComponent(param)]: s.text, page: '1' } }));
  }
  for (const kind of ONE_LINE) {
    const s = make(kind);
    add('query next', s, baseLog(g, { path: `/v1/redirect?next=${encodeURIComponent(s.text)}&lang=en` }));
  }
  for (const param of ['jsessionid', 'token', 'sid', 'session']) {
    const s = make('opaqueBase62');
    add(`matrix ;${param}=`, s, baseLog(g, { path: `/shop/cart;${param}=${s.text}/checkout` }));
    const t = make('opaqueHex');
    add(`matrix ;${param}= at end`, t, baseLog(g, { path: `/app/home;${param}=${t.text.toUpperCase()}` }));
  }

  // Path segments.
  for (const kind of ONE_LINE) {
    const s = make(kind);
    const segment = encodeURIComponent(s.text);
    add(
      'path segment',
      s,
      baseLog(g, {
        path: `/v1/${g.pick(['keys', 'reset', 'invite', 'verify', 'share', 'users'])}/${segment}/details`,
      }),
    );
  }
  for (let i = 0; i < 4; i++) {
    const text = g.chars(BASE62, 24);
    const full: Secret = { kind: 'slack_webhook', text, part: text };
    add(
      'slack webhook path',
      full,
      baseLog(g, {
        method: 'POST',
        path: `/services/T${g.chars(UPPER + DIGITS, 8)}/B${g.chars(UPPER + DIGITS, 10)}/${text}`,
      }),
    );
  }
  for (const kind of ['stripe', 'githubPat', 'google', 'opaqueHex'] as const) {
    const s = make(kind);
    add('path last segment', s, baseLog(g, { path: `/api/validate/${s.text}` }));
  }

  // Request bodies by content type.
  for (const field of SECRET_FIELDS) {
    const s = make('password');
    const json = JSON.stringify({ user: 'jane', [field]: s.text, remember: true });
    add(
      `json ${field}`,
      s,
      baseLog(g, { method: 'POST', request_body: json, headers: { 'content-type': 'application/json' } }),
    );
  }
  for (const field of ['password', 'api_key', 'token', 'secret']) {
    const s = make('password');
    const escaped = field.replace(/[a-z]/, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    add(
      `json \\u-escaped ${field}`,
      s,
      baseLog(g, { method: 'POST', request_body: `{"user":"jane","${escaped}":"${s.text}"}` }),
    );
  }
  for (const nameKey of ['name', 'key', 'field']) {
    const s = make('password');
    const body = JSON.stringify([
      { [nameKey]: 'username', value: 'jane' },
      { [nameKey]: g.pick(['password', 'api_key', 'client_secret']), value: s.text },
    ]);
    add(`json name/value pairs by ${nameKey}`, s, baseLog(g, { method: 'POST', request_body: body }));
  }
  for (const [nameKey, valueKey] of [
    ['Name', 'Value'],
    ['Key', 'Value'],
    ['ParameterKey', 'ParameterValue'],
  ] as const) {
    const s = make('password');
    const body = JSON.stringify({
      Parameters: [
        { [nameKey]: 'Environment', [valueKey]: 'prod' },
        { [nameKey]: g.pick(['/prod/db/password', 'DbPassword', 'API_SECRET']), [valueKey]: s.text },
      ],
    });
    add(`json name/value pairs by ${nameKey}`, s, baseLog(g, { method: 'POST', request_body: body }));
  }
  // Name/value pairs in text that does not parse as JSON: a body cut short, one nested past the
  // JSON walk's depth, a form, XML.
  {
    const s = make('password');
    const pairs = JSON.stringify([
      { name: 'username', value: 'jane' },
      { Name: g.pick(['password', 'api_key', '/prod/db/password']), Value: s.text },
      { name: 'note', value: 'x'.repeat(40) },
    ]);
    add(
      'json name/value pairs in a body cut short',
      s,
      baseLog(g, { method: 'POST', request_body: pairs.slice(0, -20) }),
    );
  }
  {
    const s = make('password');
    const deep = `${'['.repeat(70)}{"value":"${s.text}","name":"client_secret"}${']'.repeat(70)}`;
    add('json name/value pair nested past the walk', s, baseLog(g, { method: 'POST', request_body: deep }));
  }
  {
    const s = make('password');
    add(
      'form name/value pair',
      s,
      baseLog(g, {
        method: 'POST',
        request_body: `field=user&value=jane&field=password&value=${s.text}`,
      }),
    );
  }
  {
    const s = make('password');
    add(
      'xml name/value pair',
      s,
      baseLog(g, {
        method: 'POST',
        request_body: `<params><param><name>password</name><value>${s.text}</value></param></params>`,
      }),
    );
  }
  {
    const s = make('password');
    add(
      'password in prose, in a JSON message',
      s,
      baseLog(g, {
        method: 'POST',
        request_body: JSON.stringify({ message: `my new password is ${s.text}` }),
      }),
    );
  }
  {
    // A key in prose: 18 characters, too short for a randomness rule, no name=value.
    const key = `${g.chars(UPPER, 2)}${g.chars(DIGITS, 2)}${g.chars(LOWER + DIGITS, 14)}`;
    add(
      'api key in prose',
      { kind: 'prose_key', text: key, part: key },
      baseLog(g, { method: 'POST', request_body: JSON.stringify({ note: `my api key is ${key}, thanks` }) }),
    );
  }
  // multipart/form-data: a secret field, then a shaped secret in an ordinary field.
  for (const field of ['password', 'api_key', 'client_secret', 'token']) {
    const s = make('password');
    const boundary = `----WebKitFormBoundary${g.chars(BASE62, 16)}`;
    const t = make(g.pick(ONE_LINE));
    const body = multipartBody(boundary, [
      ['username', 'jane'],
      [field, s.text],
      ['note', `see ${t.text}`],
    ]);
    const typed = g.int(2) === 0;
    const log = () =>
      baseLog(g, {
        method: 'POST',
        request_body: body,
        headers: typed ? { 'content-type': `multipart/form-data; boundary=${boundary}` } : {},
      });
    add(`multipart field ${field}${typed ? '' : ', no content type'}`, s, log());
    add(`multipart free text${typed ? '' : ', no content type'}`, t, log());
  }
  for (const kind of SHAPED) {
    const s = make(kind);
    add(
      'json free text',
      s,
      baseLog(g, { method: 'POST', request_body: JSON.stringify({ note: `see ${s.text} here`, n: 1 }) }),
    );
  }
  for (let i = 0; i < 4; i++) {
    const s = make('password');
    const body = `username=jane+doe&password=${encodeURIComponent(s.text)}${g.pick(['\n', '\r\n', '&remember=on\n', ''])}`;
    add(
      'form, trailing newline',
      s,
      baseLog(g, {
        method: 'POST',
        request_body: body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    );
    const t = make('password');
    add(
      'form, space in another value',
      t,
      baseLog(g, {
        method: 'POST',
        request_body: `comment=hello world&pwd=${encodeURIComponent(t.text)}&x=1`,
      }),
    );
  }
  for (const field of ['password', 'apiKey', 'secret', 'auth_token']) {
    const s = make('password');
    add(
      `xml <${field}>`,
      s,
      baseLog(g, {
        method: 'POST',
        request_body: `<?xml version="1.0"?><login><user>jane</user><${field}>${s.text}</${field}></login>`,
        headers: { 'content-type': 'application/xml' },
      }),
    );
    const t = make('password');
    add(
      `xml attribute ${field}`,
      t,
      baseLog(g, { method: 'POST', request_body: `<login user="jane" ${field}="${t.text}"/>` }),
    );
  }
  for (const arg of ['password', 'token', 'apiKey']) {
    const s = make('password');
    const query = `mutation { login(email: "x", ${arg}: "${s.text}") { id } }`;
    add(
      `graphql inline ${arg}`,
      s,
      baseLog(g, {
        method: 'POST',
        path: '/graphql',
        request_body: query,
        headers: { 'content-type': 'application/graphql' },
      }),
    );
    const t = make('password');
    add(
      `graphql json inline ${arg}`,
      t,
      baseLog(g, {
        method: 'POST',
        path: '/graphql',
        request_body: JSON.stringify({ query: `mutation { login(${arg}: "${t.text}") { id } }` }),
      }),
    );
    const u = make('password');
    add(
      `graphql variables ${arg}`,
      u,
      baseLog(g, {
        method: 'POST',
        path: '/graphql',
        request_body: JSON.stringify({
          query: `mutation($p: String!) { login(${arg}: $p) { id } }`,
          variables: { [arg]: u.text },
        }),
      }),
    );
  }
  for (const kind of SHAPED) {
    const s = make(kind);
    add(
      'plain text body',
      s,
      baseLog(g, { method: 'POST', request_body: `log line: user reported ${s.text} as theirs` }),
    );
  }
  for (let i = 0; i < 3; i++) {
    const s = make('awsSecret');
    add(
      'aws secret alone in text',
      s,
      baseLog(g, { method: 'POST', request_body: `here you go ${s.text} thanks` }),
    );
  }
  for (let i = 0; i < 6; i++) {
    const s = pickShaped(false);
    add('response body', s, baseLog(g, { response_body: JSON.stringify({ data: { value: s.text } }) }));
  }
  // Capability links (password reset, invitation, verification, unsubscribe, magic link, a key):
  // the segment after the word is the credential, however short or regular it is.
  for (const word of ['reset-password', 'invite', 'verify-email', 'unsubscribe', 'magic-link', 'confirm']) {
    const uuid = `${g.chars(HEX, 8)}-${g.chars(HEX, 4)}-4${g.chars(HEX, 3)}-a${g.chars(HEX, 3)}-${g.chars(HEX, 12)}`;
    const short = g.chars(BASE62, 12);
    for (const token of [uuid, short]) {
      add(
        `path after /${word}/`,
        { kind: 'capability', text: token, part: token },
        baseLog(g, { path: `/auth/${word}/${token}` }),
      );
    }
  }
  for (const name of ['invite', 'reset', 'confirm']) {
    const uuid = `${g.chars(HEX, 8)}-${g.chars(HEX, 4)}-4${g.chars(HEX, 3)}-a${g.chars(HEX, 3)}-${g.chars(HEX, 12)}`;
    add(
      `query ${name}=`,
      { kind: 'capability', text: uuid, part: uuid },
      baseLog(g, { path: `/auth/accept?${name}=${uuid}&lang=en` }),
    );
  }
  {
    const token = `${g.chars(LOWER + DIGITS, 6)}-${g.chars(HEX, 32)}`;
    add(
      "Django's password-reset link",
      { kind: 'capability', text: token, part: token.slice(7) },
      baseLog(g, { path: `/accounts/reset/MQ/${token}/` }),
    );
  }
  // A credential's value as the segment after its name: a password with a digit or a symbol, a
  // token of any shape (npm's `/-/npm/v1/tokens/token/<token>`).
  for (const name of ['password', 'set-password', 'pwd', 'token', 'client_secret', 'api-key']) {
    const value =
      name.includes('token') || name.includes('key')
        ? g.chars(LOWER + DIGITS, 10)
        : `${g.chars(LOWER, 5)}${g.chars(DIGITS, 2)}${g.pick(['', '!', '#'])}`;
    add(
      `path after /${name}/`,
      { kind: 'named_segment', text: value, part: value },
      baseLog(g, { path: `/v1/users/${g.int(9999)}/${name}/${value}` }),
    );
  }
  // A session token (AWS STS's are base64 of a few hundred bytes, as often unpadded as not): its
  // `+` and `/` cut it into pieces that are each too short to judge.
  for (let i = 0; i < 3; i++) {
    const token = Buffer.from(Array.from({ length: 150 + g.int(150) }, () => g.int(256)))
      .toString('base64')
      .replace(/=+$/, '');
    const s = { kind: 'session_token', text: token, part: token };
    add(
      'unpadded session token in text',
      s,
      baseLog(g, { method: 'POST', request_body: `session ${token} ok` }),
    );
    add('unpadded session token in JSON', s, baseLog(g, { response_body: JSON.stringify({ value: token }) }));
  }
  // Connection URLs: an empty user name (Redis), an unencoded `@` in the password.
  {
    const pw = g.chars(BASE62, 16);
    add(
      'redis URL without a user name',
      { kind: 'url_password', text: pw, part: pw },
      baseLog(g, { method: 'POST', request_body: JSON.stringify({ broker: `redis://:${pw}@cache:6379/0` }) }),
    );
    const pw2 = `${g.chars(LOWER, 3)}@${g.chars(BASE62, 14)}`;
    add(
      'postgres URL with @ in the password',
      { kind: 'url_password', text: pw2, part: pw2.slice(4) },
      baseLog(g, { method: 'POST', request_body: `DATABASE_URL=postgresql://app:${pw2}@db:5432/app` }),
    );
  }
  // A webhook's HMAC header, whatever its hash is named.
  {
    const s = make('opaqueBase62');
    add(
      'header x-shopify-hmac-sha256',
      s,
      baseLog(g, {
        method: 'POST',
        headers: { host: 'api.example.com', 'X-Shopify-Hmac-Sha256': `${s.text}=` },
      }),
    );
  }
  // Headers as name/value arrays in a body: Node's rawHeaders, fetch's entries.
  {
    const s = make('password');
    add(
      'rawHeaders array in a body',
      s,
      baseLog(g, {
        method: 'POST',
        request_body: JSON.stringify({ rawHeaders: ['Host', 'api.example.com', 'X-Api-Key', s.text] }),
      }),
    );
    const t = make('password');
    add(
      'fetch header entries in a body',
      t,
      baseLog(g, {
        method: 'POST',
        request_body: JSON.stringify({
          init: {
            headers: [
              ['accept', 'application/json'],
              ['authorization', t.text],
            ],
          },
        }),
      }),
    );
  }
  // A password hash, and passwords on command lines.
  {
    const hash = `$2b$12$${g.chars(`${BASE62}./`, 53)}`;
    add(
      'bcrypt hash in a response',
      { kind: 'password_hash', text: hash, part: hash.slice(7) },
      baseLog(g, { response_body: JSON.stringify({ user: { id: 1, hash } }) }),
    );
    const pw = make('password');
    add(
      'command line --password=',
      pw,
      baseLog(g, { method: 'POST', request_body: `mysql -h db -u root --password=${pw.text} app` }),
    );
    const pw2 = make('password');
    add(
      'curl -u user:password',
      pw2,
      baseLog(g, { method: 'POST', request_body: `curl -u bob:${pw2.text} https://api.example.com/v1` }),
    );
  }
  for (let i = 0; i < 4; i++) {
    const s = make('card');
    add(
      'card with separators in text',
      s,
      baseLog(g, { method: 'POST', request_body: `pay with ${s.text} please` }),
    );
  }
  // Keys of lower-case hex behind a prefix no rule knew, and a 256-bit key as wallets print it.
  {
    const postman = `PMAK-${g.chars(HEX, 24)}-${g.chars(HEX, 34)}`;
    add(
      'Postman API key in text',
      { kind: 'postman', text: postman, part: postman.slice(5) },
      baseLog(g, { method: 'POST', request_body: JSON.stringify({ note: `sync with ${postman} nightly` }) }),
    );
    const gem = `rubygems_${g.chars(HEX, 48)}`;
    add(
      'RubyGems API key in text',
      { kind: 'rubygems', text: gem, part: gem.slice(9) },
      baseLog(g, { method: 'POST', request_body: `gem push --key ${gem} pkg.gem` }),
    );
    const key = `0x${g.chars(HEX, 64)}`;
    add(
      'private key in prose, 0x and hex',
      { kind: 'hex_key', text: key, part: key.slice(2) },
      baseLog(g, {
        method: 'POST',
        request_body: JSON.stringify({ message: `imported the wallet with private key ${key}` }),
      }),
    );
  }
  // A wallet's recovery words written out, and a password named without a verb.
  {
    const words = Array.from({ length: g.pick([12, 24]) }, () => g.pick(RECOVERY_WORDS)).join(' ');
    add(
      'recovery phrase in prose',
      { kind: 'recovery_phrase', text: words, part: words },
      baseLog(g, {
        method: 'POST',
        request_body: JSON.stringify({ message: `my seed phrase is ${words}, please help` }),
      }),
    );
    const pw = make('password');
    add(
      'password named without a verb',
      pw,
      baseLog(g, { method: 'POST', request_body: `login failed for jane with password ${pw.text}` }),
    );
  }
  // A GraphQL variable given to a secret argument under a name that says nothing; second factors.
  {
    const s = make('password');
    const variable = g.pick(['p', 'v1', 'input2', 'x']);
    add(
      'GraphQL variable passed to a secret argument',
      s,
      baseLog(g, {
        method: 'POST',
        path: '/graphql',
        request_body: JSON.stringify({
          operationName: 'SignIn',
          query: `mutation SignIn($u: String!, $${variable}: String!) { signIn(username: $u, password: $${variable}) { token } }`,
          variables: { u: 'jane', [variable]: s.text },
        }),
      }),
    );
    for (const field of ['two_factor_code', 'securityAnswer', 'sms_code']) {
      const t = make('password');
      add(
        `JSON field ${field}`,
        t,
        baseLog(g, { method: 'POST', request_body: JSON.stringify({ user: 'jane', [field]: t.text }) }),
      );
    }
  }
  // Passwords given to commands by short flags, and in SQL.
  for (const line of [
    (pw: string) => `docker login -u ci -p ${pw} registry.example.com`,
    (pw: string) => `mysql -h db.internal -u root -p${pw} shop`,
    (pw: string) => `CREATE USER 'app'@'%' IDENTIFIED BY '${pw}';`,
  ]) {
    const s = make('password');
    add('password in a command or statement', s, baseLog(g, { method: 'POST', request_body: line(s.text) }));
  }
  {
    // A passphrase as a JSON-RPC positional param (an Ethereum node's personal_unlockAccount).
    const s = make('password');
    add(
      'JSON-RPC positional passphrase',
      s,
      baseLog(g, {
        method: 'POST',
        path: '/rpc',
        request_body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'personal_unlockAccount',
          params: [`0x${g.chars(HEX, 40)}`, s.text, 300],
        }),
      }),
    );
  }
  // Vendor keys whose base64url body holds `_` and `-`, which split it into pieces too short for
  // the token rules or failed their one-in-ten separators bound: each is written with at least
  // three of them, as one in seven Square tokens is.
  {
    const URL_SAFE = `${BASE62}_-`;
    const dashed = (n: number): string => {
      for (;;) {
        const body = g.chars(URL_SAFE, n);
        if ((body.match(/[_-]/g) ?? []).length >= 3) return body;
      }
    };
    const keys: [string, string, string][] = [
      ['Square access token', 'sq0atp-', dashed(22)],
      ['Square application secret', 'sq0csp-', dashed(43)],
      ['Google OAuth client secret', 'GOCSPX-', dashed(28)],
      ['Figma personal access token', 'figd_', dashed(40)],
      ['Telegram bot token', `${1_000_000_000 + g.int(8_999_999_999)}:AA`, dashed(33)],
      ['base64url session token', '', dashed(32)],
    ];
    for (const [name, prefix, body] of keys) {
      add(
        `${name} in text`,
        { kind: 'vendor_key', text: `${prefix}${body}`, part: body },
        baseLog(g, {
          method: 'POST',
          request_body: JSON.stringify({ note: `rotated ${prefix}${body} today` }),
        }),
      );
    }
    const atlassian = `ATATT3xFfGF0${g.chars(URL_SAFE, 183)}=${g.chars('0123456789ABCDEF', 8)}`;
    add(
      'Atlassian API token in a header',
      { kind: 'atlassian', text: atlassian, part: atlassian.slice(12, 60) },
      baseLog(g, { headers: { 'x-debug-token': atlassian } }),
    );
    const mapbox = `sk.${base64url(JSON.stringify({ u: 'acme', a: g.chars(BASE62, 12) }))}.${g.chars(URL_SAFE, 22)}`;
    add(
      'Mapbox secret token in a query',
      { kind: 'mapbox', text: mapbox, part: mapbox.slice(-22) },
      baseLog(g, { path: `/styles/v1/acme/streets?ref=${encodeURIComponent(mapbox)}` }),
    );
    const bot = `${1_000_000_000 + g.int(8_999_999_999)}:AA${dashed(33)}`;
    add(
      'Telegram bot token in a path',
      { kind: 'bot_token', text: bot, part: bot.slice(bot.indexOf(':') + 3) },
      baseLog(g, { path: `/bot${bot}/sendMessage` }),
    );
  }
  return cases;
}

/** Some of BIP 39's English words (3 to 8 letters). */
const RECOVERY_WORDS = [
  'abandon',
  'ability',
  'absorb',
  'bracket',
  'canyon',
  'deputy',
  'eagle',
  'fossil',
  'glimpse',
  'harvest',
  'inmate',
  'jungle',
  'kidney',
  'lottery',
  'marble',
  'nephew',
  'orbit',
  'pudding',
  'quantum',
  'rhythm',
  'saddle',
  'tornado',
  'umbrella',
  'vintage',
  'walnut',
  'zebra',
];

const BROWSER_UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'curl/8.5.0',
  'python-requests/2.32.3',
  'okhttp/4.12.0',
  'Go-http-client/2.0',
  'aws-sdk-js/3.600.0 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 lang/js md/nodejs#20.15.0 api/s3#3.600.0',
  'Stripe/v1 NodeBindings/14.25.0',
  'PostmanRuntime/7.42.0',
  'Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240905.003)',
  'MyShopApp/5.3.1 (com.example.shop; build:20241105; iOS 18.1.0) Alamofire/5.9.1',
  'kube-probe/1.30',
];

const WELL_KNOWN_PATHS = [
  '/v1/customers/cus_NffrFeUf2Hib/invoices',
  '/v1/payment_intents/pi_3HYwNFeHQjAsTigymBEwW2d6/confirm',
  '/repos/nodejs/node/commits/7f3d1c2a9b8e4f6a5d0c1b2a3f4e5d6c7b8a9f0e',
  '/repos/vectordotdev/vector/git/blobs/95f1b8c4d2e3a6f7b8c9d0e1f2a3b4c5d6e7f8a9',
  '/v2/library/nginx/manifests/sha256:2d4c6a7e8f9b0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c',
  '/v2/library/nginx/blobs/sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
  '/storage/v1/b/my-bucket/o/reports%2F2025-01-15.csv',
  '/api/v4/projects/42/pipelines/1234567/jobs',
  '/v1/users/550e8400-e29b-41d4-a716-446655440000/orders',
  '/v1/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV',
  '/v1/articles/cafe-culture-in-zurich-2024',
  '/v1/reports/2025-01-15/summary',
  '/assets/app.3f9a1c2b.js',
  '/static/js/main.8e2d5f1a.chunk.js',
  '/v1/products/507f1f77bcf86cd799439011',
  '/api/2024-10/orders/5879436731.json',
  '/v3/users/me/playlists',
  '/healthz',
  '/v1/search',
  '/v1/events/1736935200000',
  '/v1/invitations/48213/accept',
  '/auth/reset-password/confirm',
  '/v1/keys/rotate',
  '/users/user_8f14e45fceea167a5a36dedd4bea2543',
  '/unsubscribe/all-emails',
  '/v1/auth/token/lookup-self',
  '/realms/acme/protocol/openid-connect/token/introspect',
  '/v1/secret/data/billing-service',
  '/account/password/change',
  '/repos/acme/api/actions/secrets/NPM_TOKEN',
  '/v1/address/0x742d35Cc6634C0532925a3b844Bc454e4438f44e/balance',
];

const ORDINARY_QUERIES = [
  'page=2&limit=50',
  'sort=-created_at&q=winter+jacket',
  'expand[]=customer&expand[]=invoice',
  'since=2025-01-15T10:00:00Z&until=2025-01-16T00:00:00Z',
  'lang=fr-FR&currency=EUR',
  'cursor=MTAw&per_page=100',
  'v=3.14.1&format=json',
  'fields=id,name,email_verified&include=orders',
  'utm_source=newsletter&utm_medium=email&utm_campaign=jan2025',
  'ids=101,102,103',
  'reset=all&confirm=true&verify=1',
];

export function ordinaryCorpus(seed = 7): OrdinaryCase[] {
  const g = new Gen(seed);
  const cases: OrdinaryCase[] = [];
  const uuid = (): string =>
    `${g.chars(HEX, 8)}-${g.chars(HEX, 4)}-4${g.chars(HEX, 3)}-a${g.chars(HEX, 3)}-${g.chars(HEX, 12)}`;
  for (let i = 0; i < 300; i++) {
    const path =
      i % 10 === 0
        ? `/v1/media/${g.chars(HEX, g.pick([32, 40, 64]))}.${g.pick(['jpg', 'png', 'webp'])}`
        : g.pick(WELL_KNOWN_PATHS);
    const query = g.int(3) === 0 ? '' : `?${g.pick(ORDINARY_QUERIES)}`;
    const etag = g.pick([
      `"${g.chars(HEX, 32)}"`,
      `W/"${g.chars(HEX, 40)}"`,
      `"${g.chars(HEX, 64)}"`,
      `"33a64df551425fcc55e4d42a148795d9f25f89d4"`,
    ]);
    const headers: Record<string, unknown> = {
      host: g.pick(['api.example.com', 'api.github.com', 'api.stripe.com', 'shop.example.co.uk']),
      accept: g.pick([
        'application/json',
        'application/json, text/plain, */*',
        '*/*',
        'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      ]),
      'accept-language': g.pick(['en-US,en;q=0.9', 'fr-FR,fr;q=0.9', 'de-DE,de;q=0.8,en;q=0.5']),
      'accept-encoding': 'gzip, deflate, br',
      'x-request-id': g.pick([uuid(), `req_${g.chars(HEX, 24)}`, g.chars(DIGITS, 12)]),
      'if-none-match': etag,
      traceparent: `00-${g.chars(HEX, 32)}-${g.chars(HEX, 16)}-01`,
      'x-amzn-trace-id': `Root=1-${g.chars(HEX, 8)}-${g.chars(HEX, 24)}`,
      'x-forwarded-for': `198.51.100.${g.int(250)}, 10.0.${g.int(250)}.${g.int(250)}`,
      'x-app-version': `${g.int(9)}.${g.int(30)}.${g.int(100)}`,
      'x-datadog-trace-id': g.chars(DIGITS, 19),
      'content-md5': Buffer.from(g.chars(HEX, 16)).toString('base64'),
      date: new Date(Date.UTC(2025, 0, 15, g.int(24))).toUTCString(),
    };
    const bodyKind = g.int(4);
    const body =
      bodyKind === 0
        ? JSON.stringify({
            id: uuid(),
            amount: g.int(100000),
            currency: 'usd',
            customer: `cus_${g.chars(BASE62, 14)}`,
            created_at: '2025-01-15T10:00:00Z',
            sha256: g.chars(HEX, 64),
            version: '2.14.0',
            tags: ['new', 'priority'],
            max_tokens: 256,
            token_count: g.int(4000),
          })
        : bodyKind === 1
          ? `name=Jane+Doe&city=Z%C3%BCrich&quantity=${g.int(9)}&sku=SKU-${g.chars(DIGITS, 6)}`
          : bodyKind === 2
            ? `<order id="${g.chars(DIGITS, 8)}"><item sku="A-${g.chars(DIGITS, 4)}">Backpack</item><checksum>${g.chars(HEX, 40)}</checksum></order>`
            : undefined;
    const log = baseLog(g, {
      method: body === undefined ? 'GET' : 'POST',
      path: `${path}${query}`,
      user_agent: g.pick(BROWSER_UAS),
      headers,
      request_body: body,
      response_body: JSON.stringify({
        id: g.int(1_000_000),
        commit: g.chars(HEX, 40),
        node_id: `MDQ6VXNlcj${g.chars(DIGITS, 6)}`,
        updated_at: '2025-01-15T10:00:00Z',
        etag: g.chars(HEX, 32),
        next: `/v1/things?page=${g.int(9)}`,
      }),
    });
    // Logs without an id get one derived from their content, random by design.
    if (i % 3 === 0) delete log.request_id;
    cases.push({ name: `ordinary ${i}`, log });
  }
  return cases;
}
