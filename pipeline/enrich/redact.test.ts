import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { multipartBody } from '../../test/support/multipart.ts';
import { redactBody, redactHeaders, redactPath, redactQuery, redactText } from './redact.ts';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const CARD = '4111111111111111';
const AMEX = '378282246310005';
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const TOKEN = 'tok_9f8e7d6c5b4a39281706';

const expectNoneOf = (text: string | null, secrets: readonly string[]): void => {
  for (const s of secrets) expect(text ?? '').not.toContain(s);
};

describe('redactHeaders', () => {
  it('keeps a header named __proto__ as a header when the headers are copied', () => {
    // Prepare: as JSON.parse gives it, an own key; the Authorization header forces a copy.
    const headers = JSON.parse('{"Authorization":"Bearer abc.def.ghi","__proto__":"x","Accept":"*/*"}');

    // Act
    const { json } = redactHeaders(headers);

    // Assess
    expect(Object.keys(JSON.parse(json!))).toEqual(['authorization', '__proto__', 'accept']);
    expect(Object.getOwnPropertyDescriptor(JSON.parse(json!), '__proto__')?.value).toBe('x');
  });

  it('redacts a header named __proto__ in place of its key when no name changes, leaving the input as it was', () => {
    // Prepare: lower-case names, so the headers are copied as they are and changed by key; the
    // secret is under `__proto__`, so assigning the redacted value must set the key, not the prototype.
    const line = `{"authorization":"Bearer abc.def.ghi","__proto__":"${TOKEN}","accept":"*/*"}`;
    const headers = JSON.parse(line);

    // Act
    const { json, redacted } = redactHeaders(headers);

    // Assess
    const parsed = JSON.parse(json!);
    expect(Object.keys(parsed)).toEqual(['authorization', '__proto__', 'accept']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsed.authorization).toBe('Bearer [REDACTED]');
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).not.toContain(TOKEN);
    expect(redacted).toContain('header:__proto__:token');
    expect(headers).toEqual(JSON.parse(line));
  });

  it("redacts parameters in the fragment of a URL header, and in proxies' copies of the request URL", () => {
    // Prepare: OAuth's implicit flow returns the token in the fragment; gateways pass the URL on.
    const headers = {
      location: `https://app.example.com/cb?state=abc#access_token=${TOKEN}&token_type=bearer`,
      'x-original-url': '/oauth/callback?code=e72e16c7e42f292c6912&state=xyz',
      referer: 'https://docs.example.com/a?b=1#section-2',
    };

    // Act
    const { json, redacted } = redactHeaders(headers);

    // Assess
    expectNoneOf(json, [TOKEN, 'e72e16c7e42f292c6912']);
    expect(JSON.parse(json!).referer).toBe(headers.referer);
    expect(redacted).toEqual(['header:location:access_token', 'header:x-original-url:code']);
  });

  it('scans a card number sent as a JSON number under an ordinary header name', () => {
    // Act
    const { json, redacted } = redactHeaders({ 'x-card': Number(CARD), 'x-count': 12 });

    // Assess
    expect(JSON.parse(json!)).toEqual({ 'x-card': '[REDACTED:card]', 'x-count': 12 });
    expect(redacted).toEqual(['header:x-card:card']);
  });

  it('keeps only a known scheme in front of a redacted authorization, and redacts hmac, sign and sid headers', () => {
    // Act: an Authorization header whose first word is the credential itself.
    const { json } = redactHeaders({
      authorization: 'k8Zq2LmN0pRt5vXy more',
      'proxy-authorization': 'Bearer abc',
      'x-hmac': 'abcd1234efgh',
      'x-sign': 'zzz999',
      'x-sid': 'q1w2e3',
    });

    // Assess
    expect(JSON.parse(json!)).toEqual({
      authorization: '[REDACTED]',
      'proxy-authorization': 'Bearer [REDACTED]',
      'x-hmac': '[REDACTED]',
      'x-sign': '[REDACTED]',
      'x-sid': '[REDACTED]',
    });
  });

  it('redacts secret headers, keeps the auth scheme and lower-cases names', () => {
    // Prepare
    const headers = {
      Host: 'api.example.com',
      Authorization: `Bearer ${TOKEN}`,
      'Proxy-Authorization': 'Basic dXNlcjpwYXNzd29yZA==',
      Cookie: 'sid=s3cr3t-cookie; theme=dark',
      'Set-Cookie': ['a=set-cookie-1', 'b=set-cookie-2'],
      'X-Api-Key': 'key-abc-123',
      'x-auth-token': 'auth-token-value',
      'x-csrf-token': 'csrf-token-value',
      'x-client-secret': 'client-secret-value',
      'X-Session-Id': 'session-id-value',
      'x-hub-signature-256': 'sha256=signature-value',
      'Content-Type': 'application/json',
      'x-request-id': 'req-1',
    };

    // Act
    const { json, host, redacted } = redactHeaders(headers);

    // Assess
    expectNoneOf(json, [
      TOKEN,
      'dXNlcjpwYXNzd29yZA',
      's3cr3t-cookie',
      'set-cookie-1',
      'set-cookie-2',
      'key-abc-123',
      'auth-token-value',
      'csrf-token-value',
      'client-secret-value',
      'session-id-value',
      'signature-value',
    ]);
    const parsed = JSON.parse(json ?? '{}');
    expect(parsed).toMatchObject({
      host: 'api.example.com',
      authorization: 'Bearer [REDACTED]',
      'proxy-authorization': 'Basic [REDACTED]',
      cookie: '[REDACTED]',
      'set-cookie': ['[REDACTED]', '[REDACTED]'],
      'content-type': 'application/json',
      'x-request-id': 'req-1',
    });
    expect(Object.keys(parsed)).toEqual(Object.keys(headers).map((k) => k.toLowerCase()));
    expect(host).toBe('api.example.com');
    expect([...redacted].sort()).toEqual(
      [
        'header:authorization',
        'header:proxy-authorization',
        'header:cookie',
        'header:set-cookie',
        'header:x-api-key',
        'header:x-auth-token',
        'header:x-csrf-token',
        'header:x-client-secret',
        'header:x-session-id',
        'header:x-hub-signature-256',
      ].sort(),
    );
  });

  it('serialises clean headers exactly as given', () => {
    // Prepare
    const headers = { host: 'api.example.com', accept: ['a/b', 'c/d'], 'content-length': 12, dnt: true };

    // Act
    const result = redactHeaders(headers);

    // Assess
    expect(result).toEqual({ json: JSON.stringify(headers), host: 'api.example.com', redacted: [] });
  });

  it('redacts a token in the query of a referer and a JWT in any header', () => {
    // Prepare
    const headers = {
      referer: `https://app.example.com/cb?state=xyz&access_token=${TOKEN}#top`,
      'x-forwarded-jwt': JWT,
    };

    // Act
    const { json, redacted } = redactHeaders(headers);

    // Assess
    expectNoneOf(json, [TOKEN, JWT]);
    expect(JSON.parse(json ?? '{}').referer).toBe(
      'https://app.example.com/cb?state=xyz&access_token=REDACTED#top',
    );
    // A header named after a JWT is redacted by its name, before its value is looked at.
    expect(redacted).toEqual(['header:referer:access_token', 'header:x-forwarded-jwt']);
  });

  it('redacts short card numbers split by dashes or spaces in any header and keeps ids with digit runs', () => {
    // Prepare: a 13-digit card across groups, a spaced 16-digit card, and ids that hold 4-digit runs.
    const headers = {
      'x-note': '4222-2222-22222',
      'x-card': '5555 5555 5555 4444',
      'x-request-id': '31656d5d-66e6-4364-a9ba-ce1924f8ca17',
      'x-amzn-trace-id': 'Root=1-6b02bd20-7166b5aea3f7ea3f415ecb0c',
    };

    // Act
    const { json, redacted } = redactHeaders(headers);

    // Assess
    expect(JSON.parse(json ?? '{}')).toEqual({
      'x-note': '[REDACTED:card]',
      'x-card': '[REDACTED:card]',
      'x-request-id': headers['x-request-id'],
      'x-amzn-trace-id': headers['x-amzn-trace-id'],
    });
    expect(redacted).toEqual(['header:x-note:card', 'header:x-card:card']);
  });

  it('keeps empty secret values and a scheme-less authorization is fully redacted', () => {
    const { json } = redactHeaders({ authorization: 'opaque-credential', cookie: '' });
    expect(JSON.parse(json ?? '{}')).toEqual({ authorization: '[REDACTED]', cookie: '' });
  });

  it('writes changed headers as an object of their names would: order, names that meet, __proto__, integer-like names, any value', () => {
    // Names as apps send them, some meeting once lower-cased; values the scanner leaves alone.
    const name = fc.constantFrom(
      'Accept',
      'accept',
      'X-Tag',
      'x-tag',
      '__proto__',
      '10',
      '2',
      'x-"q"',
      'x-é',
      'Host',
    );
    const plain: fc.Arbitrary<unknown> = fc.oneof(
      fc.constantFrom('json', 'gzip', 'text/plain', ''),
      fc.integer({ min: -1_000, max: 1_000 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.constantFrom('a', 'b'), { maxLength: 3 }),
      fc.record({ k: fc.constantFrom('v', 'w') }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, plain), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (pairs, secret) => {
          // Prepare: as JSON.parse gives them (own keys only, __proto__ included).
          const entries: [string, unknown][] = secret ? [...pairs, ['Authorization', 'Bearer abc']] : pairs;
          const headers = JSON.parse(JSON.stringify(Object.fromEntries(entries))) as Record<string, unknown>;
          const expected = Object.create(null) as Record<string, unknown>;
          for (const key of Object.keys(headers)) expected[key.toLowerCase()] = headers[key];
          if (secret) expected.authorization = 'Bearer [REDACTED]';

          // Act
          const { json } = redactHeaders(headers);

          // Assess: the same text as JSON.stringify of that object, key order included.
          expect(json).toBe(JSON.stringify(expected));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives nulls for absent or empty headers', () => {
    expect(redactHeaders(undefined)).toEqual({ json: null, host: null, redacted: [] });
    expect(redactHeaders({})).toEqual({ json: null, host: null, redacted: [] });
  });
});

describe('redactQuery', () => {
  it.each([
    'token',
    'access_token',
    'refresh_token',
    'id_token',
    'api_key',
    'apikey',
    'API-Key',
    'key',
    'password',
    'passwd',
    'secret',
    'client_secret',
    'signature',
    'sig',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'X-Amz-Security-Token',
    'auth',
    'code',
    'session',
    'sessionid',
    'jwt',
    'ott',
    'pat',
    'user[password]',
    'user%5Btoken%5D',
  ])('redacts the value of %s and nothing else', (name) => {
    // Prepare
    const q = `?page=2&${name}=${TOKEN}&sort=-created_at&q=a+b%20c`;

    // Act
    const { query, redacted } = redactQuery(q);

    // Assess
    expect(query).toBe(`page=2&${name}=REDACTED&sort=-created_at&q=a+b%20c`);
    expect(redacted).toHaveLength(1);
    expect(redacted[0]).toMatch(/^query:/);
  });

  it.each(['page=2&limit=50', 'q=hello%20world&lang=en', 'max_tokens=100&model=x', 'a&b=&=c&&d=1', 'flag'])(
    'keeps %s byte for byte',
    (q) => {
      expect(redactQuery(q)).toEqual({ query: q, redacted: [] });
    },
  );

  it('redacts every occurrence and a JWT inside another value', () => {
    // Act
    const { query, redacted } = redactQuery(`token=a1&token=b2&next=/reset/${JWT}&x=1`);

    // Assess
    expect(query).toBe('token=REDACTED&token=REDACTED&next=/reset/[REDACTED:jwt]&x=1');
    expect(redacted).toEqual(['query:token', 'query:jwt']);
  });

  it('gives an empty string for an empty query', () => {
    expect(redactQuery('?')).toEqual({ query: '', redacted: [] });
  });
});

describe('redactPath', () => {
  it('redacts a JWT segment and a card number segment', () => {
    // Act
    const { path, redacted } = redactPath(`/v1/reset/${JWT}/cards/${CARD}`);

    // Assess
    expect(path).toBe('/v1/reset/[REDACTED:jwt]/cards/[REDACTED:card]');
    expect(redacted).toEqual(['path:jwt', 'path:card']);
  });

  it.each(['/v1/users/42/orders/9f1c2a7b', '/v1/events/1736935200000', '/v1/ids/4111111111111112'])(
    'keeps %s',
    (p) => {
      expect(redactPath(p)).toEqual({ path: p, redacted: [] });
    },
  );
  it.each([
    ['/u/password/hunter2pass', '/u/password/[REDACTED]', 'path:password'],
    [
      '/v1/users/42/set-password/S3cret!;v=2',
      '/v1/users/42/set-password/[REDACTED];v=2',
      'path:set-password',
    ],
    ['/login/pwd/qwerty123/next', '/login/pwd/[REDACTED]/next', 'path:pwd'],
    ['/api/token/abc123def456', '/api/token/[REDACTED]', 'path:token'],
  ])('redacts the value after a segment naming a credential: %s', (given, stored, where) => {
    expect(redactPath(given)).toEqual({ path: stored, redacted: [where] });
  });

  it.each([
    '/account/password/change',
    '/v1/auth/token/lookup-self',
    '/v1/secret/data/billing-service',
    '/api/password/{token}',
    '/api/v2/passwords/12345',
    '/repos/acme/api/actions/secrets/NPM_TOKEN',
    '/api/keys/abc123',
  ])('keeps a route word or an object id after a credential name: %s', (p) => {
    expect(redactPath(p)).toEqual({ path: p, redacted: [] });
  });

  it('decodes a percent-encoded segment to judge it: % no longer splits a key into short runs', () => {
    // Prepare: a 40-character AWS secret key as a client encodes it in a path.
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

    // Act
    const { path, redacted } = redactPath(`/v1/users/${encodeURIComponent(secret)}/details`);

    // Assess
    expectNoneOf(path, ['wJalrXUt', 'EXAMPLEKEY', 'bPxRfiCY']);
    expect(path.startsWith('/v1/users/')).toBe(true);
    expect(path.endsWith('/details')).toBe(true);
    expect(redacted).not.toEqual([]);
  });

  it('keeps percent-encoded segments that hold no secret as they were written', () => {
    expect(redactPath('/v1/files/report%202024.pdf').path).toBe('/v1/files/report%202024.pdf');
  });
});

describe('redactBody', () => {
  it('redacts secret keys at any depth and keeps the rest byte for byte', () => {
    // Prepare
    const body = `{
  "user": {"name": "Jane", "password": "hunter2", "profile": {"apiKey": "k-123", "age": 41}},
  "items": [{"id": 1, "card_number": 4012888888881881}, {"id": 2, "cvv": "123"}],
  "credentials": {"user": "u", "nested": ["x", {"y": 1}]},
  "access_token"  :  "${TOKEN}",
  "refresh_token": null,
  "client_secret": "",
  "note": "the \\"password\\": field is \\\\ escaped",
  "max_tokens": 256,
  "usage": {"total_tokens": 1000}
}`;

    // Act
    const { body: out, redacted } = redactBody(body, 16_384);

    // Assess
    expect(out).toBe(`{
  "user": {"name": "Jane", "password": "[REDACTED]", "profile": {"apiKey": "[REDACTED]", "age": 41}},
  "items": [{"id": 1, "card_number": "[REDACTED]"}, {"id": 2, "cvv": "[REDACTED]"}],
  "credentials": "[REDACTED]",
  "access_token"  :  "[REDACTED]",
  "refresh_token": null,
  "client_secret": "",
  "note": "the \\"password\\": [REDACTED] is \\\\ escaped",
  "max_tokens": 256,
  "usage": {"total_tokens": 1000}
}`);
    expect(JSON.parse(out ?? '')).toBeTruthy();
    expect(redacted).toEqual([
      'body:password',
      'body:apikey',
      'body:card_number',
      'body:cvv',
      'body:credentials',
      'body:access_token',
    ]);
  });

  it('redacts secrets found by shape in text', () => {
    // Prepare
    const body = [
      `card ${CARD} and amex ${AMEX} and spaced 4111 1111 1111 1111 22`,
      `Authorization: Bearer ${TOKEN}`,
      `aws ${AWS_KEY} jwt ${JWT}`,
      'url https://admin:pa55word@db.example.com/x',
      'key sk_live_51HxyzABCdef1234567890',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
    ].join('\n');

    // Act
    const { body: out, redacted } = redactBody(body, 16_384, 'response_body');

    // Assess
    expectNoneOf(out, [
      CARD,
      AMEX,
      '4111 1111 1111 1111',
      TOKEN,
      AWS_KEY,
      JWT,
      'pa55word',
      'sk_live_51',
      'MIIEpAIBAAKCAQEA',
    ]);
    expect(out).toContain('Bearer [REDACTED]');
    expect(out).toContain('https://admin:[REDACTED]@db.example.com/x');
    expect(out).toContain('[REDACTED:card] 22');
    expect([...redacted].sort()).toEqual(
      [
        'response_body:card',
        'response_body:bearer',
        'response_body:aws_key',
        'response_body:jwt',
        'response_body:url_password',
        'response_body:api_key',
        'response_body:private_key',
      ].sort(),
    );
  });

  it.each([
    '{"ts": 1736935200000, "order": 4111111111111112, "phone": "+1 415 555 2671"}',
    'The bearer of bad news said: Basic information only.',
    '{"id": "550e8400-e29b-41d4-a716-446655440000", "sessions_count": 3}',
    'plain text without anything secret',
    'ÄÖÜ ✓ 日本語 😀',
  ])('keeps %s byte for byte', (body) => {
    expect(redactBody(body, 16_384)).toEqual({ body, redacted: [] });
  });

  it('redacts form bodies like query strings', () => {
    const { body, redacted } = redactBody('username=jane&password=hunter2&remember=1', 100, 'request_body');
    expect(body).toBe('username=jane&password=REDACTED&remember=1');
    expect(redacted).toEqual(['request_body:password']);
  });

  it('redacts before truncating, so a secret at the cut does not leak in part', () => {
    // Prepare
    const body = `${'x'.repeat(20)} ${CARD}`;

    // Act
    const { body: out, redacted } = redactBody(body, 30);

    // Assess
    expect(out).toBe(`${'x'.repeat(20)} [REDACTED`);
    expect(redacted).toEqual(['body:card']);
  });

  it('redacts an unterminated secret value in truncated JSON', () => {
    const { body } = redactBody(`{"a": 1, "password": "hunter2-and-more`, 100);
    expect(body).toBe('{"a": 1, "password": "[REDACTED]"');
  });

  it('does not cut a surrogate pair in half', () => {
    const { body } = redactBody('ab😀cd', 3);
    expect(body).toBe('ab');
  });

  it('bounds the work on a huge body and caps the result', () => {
    // Prepare
    const body = `{"password": "p", "data": "${'y'.repeat(2_000_000)}"}`;

    // Act
    const { body: out } = redactBody(body, 1000);

    // Assess
    expect(out).toHaveLength(1000);
    expect(out?.startsWith('{"password": "[REDACTED]", "data": "yyy')).toBe(true);
  });

  it('redacts a secret-named multipart field, with or without its content type, and scans the others', () => {
    // Prepare
    const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
    const body = multipartBody(boundary, [
      ['username', 'jane'],
      ['password', 'Hunter2!Secret'],
      ['note', `see ${AWS_KEY}`],
    ]);

    for (const contentType of [`multipart/form-data; boundary=${boundary}`, undefined]) {
      // Act
      const { body: out, redacted } = redactBody(body, 10_000, 'request_body', contentType);

      // Assess
      expectNoneOf(out, ['Hunter2', AWS_KEY]);
      expect(out).toContain('name="password"\r\n\r\n[REDACTED]\r\n--');
      expect(out).toContain('jane');
      expect(out?.endsWith(`--${boundary}--\r\n`)).toBe(true);
      expect(redacted).toEqual(['request_body:password', 'request_body:aws_key']);
    }
  });

  it('finds name/value pairs whatever the case of their keys, and lists no value text', () => {
    // Prepare: AWS APIs write Name/Value and ParameterKey/ParameterValue.
    const body = JSON.stringify({
      Parameters: [
        { Name: '/prod/db/password', Value: 'Hunter2!Secret', Type: 'SecureString' },
        { ParameterKey: 'DbPassword', ParameterValue: 'Hunter3!Secret' },
        { name: 'password: hunter4', value: 'x' },
      ],
    });

    // Act
    const { body: out, redacted } = redactBody(body, 10_000, 'request_body');

    // Assess
    expectNoneOf(out, ['Hunter2', 'Hunter3']);
    expect(JSON.parse(out!).Parameters[1].ParameterKey).toBe('DbPassword');
    expect(redacted.join(',')).not.toContain('hunter4');
  });

  it('finds name/value pairs in bodies that do not parse as JSON: cut short, too deep, forms, XML', () => {
    // Prepare: the JSON walk sees none of these as pairs; each is scanned as text.
    const bodies = [
      `[{"name":"user","value":"jane"},{"Name":"api_key","Value":"Hunter1!a"},{"name":"note","value":"xx`,
      `${'['.repeat(70)}{"name":"user","value":"jane"},{"value":"Hunter2!b","name":"client_secret"}${']'.repeat(70)}`,
      '{"user":"jane","raw":"{\\"name\\":\\"password\\",\\"value\\":\\"Hunter3!c\\"}","cut":"',
      'field=user&value=jane&field=password&value=Hunter4!d',
      '<param><name>password</name><value>Hunter5!e</value></param><param><name>user</name><value>jane</value></param>',
    ];

    // Act
    const outs = bodies.map((b) => redactBody(b, 100_000, 'request_body'));

    // Assess: the secrets' values go, their neighbours' stay.
    for (const [i, { body, redacted }] of outs.entries()) {
      expectNoneOf(body, [`Hunter${i + 1}!`]);
      expect(body).toContain('jane');
      expect(redacted.length).toBeGreaterThan(0);
    }
    expect(outs[0]?.body).toContain('"Value":"[REDACTED]"');
    expect(outs[1]?.redacted).toEqual(['request_body:client_secret']);
    expect(outs[4]?.body).toContain('<value>[REDACTED]</value>');
  });

  it.each([
    {
      what: 'a password (a digit or a symbol, 6+ characters)',
      secret: [
        ['my password is hunter22.', 'my password is [REDACTED].', 'password'],
        ['the passcode was "7f#kq9!" ok', 'the passcode was "[REDACTED]" ok', 'password'],
        ['The password is: S3cr3t-value', 'The password is: [REDACTED]', 'password'],
        [
          '{"message":"my new password is Tr0ub4dor&3"}',
          '{"message":"my new password is [REDACTED]"}',
          'password',
        ],
      ],
      messages: [
        'password is required',
        'Password is too short',
        '{"error":"password was reset for user 42"}',
      ],
    },
    {
      what: 'a key or token (a digit, 8+ characters)',
      secret: [
        ['my api key is Zq8Wn3Lp5Tx7Kr2Vm9', 'my api key is [REDACTED]', 'apikey'],
        [
          'the session token is 8f3k2j9x7q and more',
          'the session token is [REDACTED] and more',
          'sessiontoken',
        ],
        ['refresh token was: "ab12cd34ef"', 'refresh token was: "[REDACTED]"', 'refreshtoken'],
        ['the private key is 4c0883a69102937d', 'the private key is [REDACTED]', 'privatekey'],
      ],
      messages: [
        'the token is expired',
        'api key is missing',
        'access token was revoked at 2024',
        'the secret was v2',
      ],
    },
    {
      what: 'a password named without a verb (letters, a digit, and a symbol or 8+ characters)',
      secret: [
        ['login failed: password hunter2!', 'login failed: password [REDACTED]', 'password'],
        ['the passphrase correct-horse-staple9', 'the passphrase [REDACTED]', 'password'],
        ['Password "s3cretvalue" rejected', 'Password "[REDACTED]" rejected', 'password'],
      ],
      messages: [
        'password reset link sent',
        'password policy v2 applies',
        'the password field1 is empty',
        'password 2FA is enabled for admin123',
      ],
    },
    {
      what: "a wallet's recovery words written out (12 to 24 words after a name that says so)",
      secret: [
        [
          'my seed phrase is abandon ability able about above absent absorb abstract absurd abuse access accident, thanks',
          'my seed phrase is [REDACTED], thanks',
          'recoveryphrase',
        ],
        [
          'Recovery words: zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong',
          'Recovery words: [REDACTED]',
          'recoveryphrase',
        ],
      ],
      messages: [
        'the seed phrase is never sent to our servers and you should keep it in a safe place',
        'these words are the ones we use for a normal sentence in the docs about the product',
      ],
    },
  ])('redacts $what given in prose, and keeps the words of messages about it', ({ secret, messages }) => {
    // Act: text bodies, and a JSON one whose message says it.
    const outs = [...secret.map(([given]) => given!), ...messages].map((t) =>
      redactBody(t, 1_000, 'request_body'),
    );

    // Assess
    expect(outs.map((o) => o.body)).toEqual([...secret.map(([, stored]) => stored), ...messages]);
    expect(outs.map((o) => o.redacted.join())).toEqual([
      ...secret.map(([, , where]) => `request_body:${where}`),
      ...messages.map(() => ''),
    ]);
  });

  it('redacts 64 hex digits after 0x (a 256-bit key), and keeps a 40-digit address and a zero hash', () => {
    // Prepare
    const key = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
    const address = '0x742d35Cc6634C0532925a3b844Bc454e4438f44e';
    const zero = `0x${'0'.repeat(64)}`;

    // Act
    const found: string[] = [];
    const out = [key, address, zero].map((v) => redactText(`private key ${v}`, 'note', found));

    // Assess
    expect(out).toEqual(['private key [REDACTED:token]', `private key ${address}`, `private key ${zero}`]);
    expect(found).toEqual(['note:token']);
    expect(redactPath(`/v1/address/${address}/balance`).path).toBe(`/v1/address/${address}/balance`);
  });

  it('redacts random base64url keys with many _ and -, and keeps slugs and names with as many', () => {
    // Prepare: 3-5 separators in 22-43 characters, more than the one in ten a run could hold.
    const keys = [
      'sq0atp-G7lg7kx6w_b3Kqo-BRdvu9',
      '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',
      'k9X_2mQv-Lr7T_pZ8w-NcB4',
      'figd_go4dy2_mE-Up6mIPSJ-qcEr9Ii2c1bJzHI0L-AeN',
    ];
    const kept = [
      'Order-Confirmation-Email-Template-V3',
      'Q3-2024-Revenue-Report-FINAL-v2',
      'Pixel_8a-Android_15-Build_AP3A',
      'claude-3-5-Sonnet-20241022-v2',
      'api-server-7d9f8b6c5d-x2x7k',
      'feature-ABC-123-add-OAuth2-login',
    ];

    // Act
    const found: string[] = [];
    const keysOut = keys.map((k) => redactText(`rotated ${k} today`, 'note', found));
    const keptOut = kept.map((k) => redactText(`deployed ${k} today`, 'note', []));

    // Assess
    for (const [i, k] of keys.entries()) expect(keysOut[i]).not.toContain(k.slice(-10));
    expect(keptOut).toEqual(kept.map((k) => `deployed ${k} today`));
    expect(found.length).toBeGreaterThan(0);
  });

  it("redacts a Telegram bot's token and keeps its bot id, in text and in a path", () => {
    const token = 'AAHdqTcvCH1vGWJxfSe-ofSAs0K5PA_Dsaw';
    const found: string[] = [];
    expect(redactText(`set webhook for 110201543:${token}`, 'note', found)).toBe(
      'set webhook for 110201543:[REDACTED]',
    );
    expect(found).toEqual(['note:bot_token']);
    expect(redactPath(`/bot110201543:${token}/sendMessage`).path).toBe(
      '/bot110201543:[REDACTED]/sendMessage',
    );
    // A time or a ratio followed by words is not a token.
    expect(redactText('at 12:30:AA meeting', 'note', [])).toBe('at 12:30:AA meeting');
  });

  it('redacts a Mapbox secret token whole, and an Atlassian API token', () => {
    const mapbox = 'sk.eyJ1IjoiYWNtZSIsImEiOiJja2x6MnF3In0.k9hn9JM9sGg0Y5knJkqnq9';
    const atlassian = `ATATT3xFfGF0${'T_vx5NuuIWh-LfoJwqlT'.repeat(9)}=0A1B2C3D`;
    const found: string[] = [];
    expect(redactText(`use ${mapbox} here`, 'note', found)).toBe('use [REDACTED:api_key] here');
    expect(redactText(`token ${atlassian}`, 'note', found)).toBe('token [REDACTED:api_key]');
    expect(found).toEqual(['note:api_key']);
  });

  it('redacts a capability of letters only in mixed case, and keeps CamelCase words there', () => {
    expect(redactPath('/auth/unsubscribe/URDetsvyQeMe').path).toBe('/auth/unsubscribe/[REDACTED:token]');
    expect(redactPath('/invite/AcceptInvitation').path).toBe('/invite/AcceptInvitation');
  });

  it('redacts the GraphQL variable a query passes to a secret argument, whatever its name', () => {
    // Prepare: `$p` and `$c` say nothing of what they hold; the arguments they are given to do.
    const body = JSON.stringify({
      query:
        'mutation Login($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, otpCode: $c) { id } }',
      variables: { e: 'jane@example.com', p: 'hunter2x', c: 482913 },
    });

    // Act
    const out = redactBody(body, 10_000, 'request_body');

    // Assess
    const parsed = JSON.parse(out.body as string) as { variables: Record<string, unknown> };
    expect(parsed.variables).toEqual({ e: '[REDACTED:email]', p: '[REDACTED]', c: '[REDACTED]' });
    expect(out.body).not.toContain('hunter2x');
    expect(out.body).not.toContain('482913');
    expect(out.redacted).toEqual(expect.arrayContaining(['request_body:password', 'request_body:otpcode']));
  });

  it("redacts the positional params of a JSON-RPC credential method, and keeps others' and addresses", () => {
    // Prepare
    const address = '0x742d35Cc6634C0532925a3b844Bc454e4438f44e';
    const calls = [
      { jsonrpc: '2.0', id: 1, method: 'personal_unlockAccount', params: [address, 'Tr0ub4dor&3', 300] },
      { jsonrpc: '2.0', id: 2, method: 'login', params: ['jane', 'hunter2x'] },
      { jsonrpc: '2.0', id: 3, method: 'eth_getBalance', params: [address, 'latest'] },
    ];

    // Act
    const out = calls.map((c) => redactBody(JSON.stringify(c), 10_000, 'request_body'));

    // Assess
    expect(out.map((o) => (JSON.parse(o.body as string) as { params: unknown[] }).params)).toEqual([
      [address, '[REDACTED]', 300],
      ['[REDACTED]', '[REDACTED]'],
      [address, 'latest'],
    ]);
    expect(out.map((o) => o.redacted.join())).toEqual([
      'request_body:rpcparams',
      'request_body:rpcparams',
      '',
    ]);
  });

  it("redacts a wallet's recovery words by their name", () => {
    // Prepare: twelve BIP 39 words, which no shape or randomness rule finds.
    const words = 'abandon ability able about above absent absorb abstract absurd abuse access accident';

    // Act
    const out = redactBody(JSON.stringify({ wallet: { seedPhrase: words, mnemonic: words } }), 1_000);

    // Assess
    expect(out.body).toBe('{"wallet":{"seedPhrase":"[REDACTED]","mnemonic":"[REDACTED]"}}');
  });

  it('keeps the values of ordinary pairs in text, and of secret-named pairs whose value is an object', () => {
    // Act
    const bodies = [
      '[{"name":"color","value":"red"},{"name":"size","value":"xl"',
      '{"name":"api_key","value":{"rotation":"monthly"},"cut":"',
      '{"name":"password: hunter9","value":"kept"',
    ].map((b) => redactBody(b, 100_000, 'request_body'));

    // Assess
    expect(bodies[0]).toEqual({
      body: '[{"name":"color","value":"red"},{"name":"size","value":"xl"',
      redacted: [],
    });
    expect(bodies[1]?.body).toContain('"rotation":"monthly"');
    expect(bodies[2]?.body).toContain('"value":"kept"');
  });

  it('redacts a random base64 key of any length whole, and keeps paths written with slashes', () => {
    // Prepare: a 32-byte key (43 characters and `=`) and an Azure-style 64-byte key, with `+` and `/`.
    const key32 = 'LsJip0JZRzDNYgdiQ0H5jiyT7uJhpp6e+ayiQhS0H34=';
    const key64 = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
    const body = JSON.stringify({
      note: key32,
      settings: `AccountKey ${key64}`,
      file: 'src/Components/UserProfile/Avatar2.tsx',
    });

    // Act
    const { body: out } = redactBody(body, 10_000, 'request_body');

    // Assess
    expectNoneOf(out, ['ayiQhS0H34', 'LsJip0JZ', 'KBHBeksoGMGw', 'Eby8vdM0']);
    expect(JSON.parse(out!).file).toBe('src/Components/UserProfile/Avatar2.tsx');
  });

  it('redacts a short unpadded base64 key with / and +, and keeps paths and names written with slashes', () => {
    // Prepare: 24 random bytes are 32 characters of base64 and no padding.
    const keys = ['q8WnZ3Lp5xYz/7cR2mKt9Bv4+Hj6NfQs', 'Xk9m2vLr7T/pZ8wNcB4y+Hs3D1aQ6jF0gE'];
    const paths = [
      'see github.com/OpenAI/GPT-3/blob/Main/README2 for details',
      'open docs/API/v2/Reference/Auth0Login/Overview now',
      'path a/b/c/dEf/GHi/jk1/LmN/oP2/qRs/tUv/wXy/z99',
      'ref refs/heads/feature/JIRA-1234/AddOAuth2Support',
      'date 2024/11/30/Report/Q3/FY24/Final',
      'java com/example/MyService/Impl/UserRepoImpl/Find2',
      'size 1920x1080/60fps/H264/AAC/128kbps',
    ];

    // Act
    const found: string[] = [];
    const out = keys.map((k) => redactText(`key ${k} end`, 'note', found));

    // Assess
    expect(out).toEqual(['key [REDACTED:token] end', 'key [REDACTED:token] end']);
    expect(found).toEqual(['note:token']);
    for (const p of paths) expect(redactText(p, 'note', [])).toBe(p);
  });

  it('lists a secret by a plain name only: the redacted column never echoes a name that is text', () => {
    // Act
    const json = redactBody('{"password: hunter2": "x", "pass=hunter3": "y"}', 10_000, 'request_body');
    const form = redactBody('password%3Ahunter4=z', 10_000, 'request_body');

    // Assess
    for (const { redacted } of [json, form]) expect(redacted.join(',')).not.toMatch(/hunter/);
    expect(json.body).not.toMatch(/"x"/);
  });

  it('redacts XML values in CDATA, in elements named by an attribute, and in value attributes', () => {
    // Prepare
    const bodies = [
      '<login><user>jane</user><password><![CDATA[Hunter2!Secret]]></password></login>',
      '<params><param name="user">jane</param><param name="password">Hunter3!Secret</param></params>',
      '<appSettings><add key="ApiPassword" value="Hunter4!Secret"/><add key="Theme" value="dark"/></appSettings>',
    ];

    // Act
    const out = bodies.map((b) => redactBody(b, 10_000, 'request_body', 'application/xml'));

    // Assess
    for (const o of out) expectNoneOf(o.body, ['Hunter']);
    expect(out[1]!.body).toContain('<param name="user">jane</param>');
    expect(out[2]!.body).toContain('<add key="Theme" value="dark"/>');
  });

  it('redacts PGP private key blocks and bearer tokens written in capitals', () => {
    // Prepare
    const pgp = `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF${'Zm9vYmFy'.repeat(8)}\n-----END PGP PRIVATE KEY BLOCK-----`;

    // Act
    const { body } = redactBody(
      `key: ${pgp}\nauth: BEARER k8Zq2LmN0pRt5vXyAb`,
      10_000,
      'request_body',
      'text/plain',
    );

    // Assess
    expectNoneOf(body, ['lQOYBF', 'Zm9vYmFy', 'k8Zq2LmN']);
  });

  it('redacts named values written as Ruby hashes (`=>`) in text bodies', () => {
    // Act
    const { body } = redactBody(
      '{"password" => "Hunter2!Secret", "user" => "jane"} {:api_key => \'Hunter3!Secret\'}',
      10_000,
      'request_body',
      'text/plain',
    );

    // Assess
    expectNoneOf(body, ['Hunter']);
    expect(body).toContain('"user" => "jane"');
  });

  it("redacts a URL's code and key parameters wherever the URL is written, and keeps a JSON code field", () => {
    // Act
    const { body } = redactBody(
      '{"redirect":"https://app.example.com/cb?code=e72e16c7e42f292c6912&state=xyz","error":{"code":"E42"}}',
      10_000,
      'request_body',
    );

    // Assess
    expectNoneOf(body, ['e72e16c7e42f292c6912']);
    expect(JSON.parse(body!).error.code).toBe('E42');
  });

  it('keeps ordinary values that look like the secrets above (ids, paths, labels, code)', () => {
    // Prepare: each was redacted by a first version of the rules above.
    const hashA = '8f14e45fceea167a5a36dedd4bea2543';
    const hashB = 'c9f0f895fb98ab9159f51fd0297e236d';
    const json = JSON.stringify({
      users: { [hashA]: { id: hashA, name: 'Ann' }, [hashB]: { id: hashB, name: 'Bob' } },
    });
    const html =
      '<label><input type="checkbox" name="remember_token">Remember me</label><string name="forgot_password">Forgot your password?</string>';
    const multipart = multipartBody('XyZ', [
      ['key', 'uploads/photo.jpg'],
      ['file', 'plain text'],
    ]);

    // Act and assess
    expect(redactBody(json, 10_000, 'request_body').body).toBe(json);
    expect(redactBody(html, 10_000, 'response_body', 'text/html').body).toBe(html);
    expect(redactBody(multipart, 10_000, 'request_body').body).toBe(multipart);
    const code = 'const t = tokens.map(token => token.trim());';
    expect(redactBody(code, 10_000, 'request_body', 'text/plain').body).toBe(code);
    for (const path of [
      `/users/user_${hashA}`,
      `/v1/requests/req_${hashB}`,
      `/download/sha256-${hashA}${hashB}`,
    ])
      expect(redactPath(path).path).toBe(path);
    const referer = 'https://github.com/OpenAI/GPT-3/blob/Main/README2.md';
    expect(JSON.parse(redactHeaders({ referer }).json!).referer).toBe(referer);
    expect(JSON.parse(redactHeaders({ authorization: 'Hawk id="dh37fgj492je"' }).json!).authorization).toBe(
      'Hawk [REDACTED]',
    );
  });

  it.each([
    [
      'docker login -u bob -p S3cr3tPw registry.example.com',
      'docker login -u bob -p [REDACTED] registry.example.com',
    ],
    ['podman login quay.io -u bob -p "S3cr3tPw"', 'podman login quay.io -u bob -p "[REDACTED]"'],
    ['mysql -h db -u root -pS3cr3tPw app', 'mysql -h db -u root -p[REDACTED] app'],
    ["mysqldump -u root -p'S3cr3tPw' app", "mysqldump -u root -p'[REDACTED]' app"],
    ['sshpass -p S3cr3tPw ssh bob@host', 'sshpass -p [REDACTED] ssh bob@host'],
    ['redis-cli -h cache -a S3cr3tPw ping', 'redis-cli -h cache -a [REDACTED] ping'],
    ['deploy --token 8f3k2j9x7q --verbose', 'deploy --token [REDACTED] --verbose'],
    ["CREATE USER 'bob'@'%' IDENTIFIED BY 'S3cr3tPw';", "CREATE USER 'bob'@'%' IDENTIFIED BY '[REDACTED]';"],
    ["ALTER ROLE app WITH LOGIN PASSWORD 'S3cr3tPw'", "ALTER ROLE app WITH LOGIN PASSWORD '[REDACTED]'"],
  ])('redacts the password of a command or statement: %s', (given, stored) => {
    // Act
    const out = redactBody(given, 10_000, 'request_body', 'text/plain');

    // Assess
    expect(out.body).toBe(stored);
    expect(out.redacted).toEqual(['request_body:password']);
  });

  it('keeps ordinary values near the capability, hex-key, pair-array and command-line rules', () => {
    // Prepare: each was redacted by a first version of those rules.
    const hex40 = 'a3f9c1d27e8b4f60915c2d3e7a8b9c0d1e2f3a4b';
    const uuid = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    const bodies = [
      JSON.stringify({ required: ['password', 'email'], properties: { email: { type: 'string' } } }),
      JSON.stringify({
        permissions: ['token', 'admin'],
        user: { name: 'admin', role: 'admin' },
        admin: 'yes',
      }),
      JSON.stringify({ cors: { allowedHeaders: ['Authorization', 'Content-Type'] }, 'Content-Type': 'json' }),
      JSON.stringify({ labels: ['secret', 'true'], enabled: 'true' }),
    ];
    const texts = [
      'docker run -u 1000:1000 app',
      'use --password to be prompted, or --token flag',
      'run with --token and then --api-key when asked',
      'mysql -u root -P 3306 -p app',
      'docker login -u bob --password-stdin registry.example.com',
      "reset your password 'now' please",
      'rsync -a src/ dst/ && tar -a -p file',
      'docker build --secret id=npmrc,src=.npmrc .',
      `built node18-${hex40} and amd64-${hex40}`,
    ];
    const paths = [
      `/v1/projects/p/locations/global/keys/${uuid}`,
      `/keys/${uuid}`,
      '/oauth2/aus1a2b3c4d5e6f7g8h9/v1/authorize',
      '/translations/keys/checkout.button.submit',
      '/api/orders/confirmations/CNF20240115A',
      '/confirm/orders/ORD20240115',
      '/api/verify/phone/+14155550134',
      '/shares/sh_1abcDEF234',
    ];

    // Act and assess
    for (const body of bodies) expect(redactBody(body, 10_000, 'request_body').body).toBe(body);
    for (const text of texts) expect(redactBody(text, 10_000, 'request_body', 'text/plain').body).toBe(text);
    for (const path of paths) expect(redactPath(path).path).toBe(path);
    expect(
      JSON.parse(redactHeaders({ 'x-hmac-sha256-enabled': 'true' }).json!)['x-hmac-sha256-enabled'],
    ).toBe('true');
  });

  it("redacts curl's -u password only on a line that runs curl, and every one on that line", () => {
    const text = [
      'curl -s https://api.example.com -u bob:hunter2pass && curl --user amy:s3cretPass x',
      'docker run -u 1000:1000 app -u eve:notcurl',
      'then curl https://a.example -H "A: b" -u carl:pa55word',
    ].join('\n');
    expect(redactBody(text, 10_000, 'request_body', 'text/plain').body).toBe(
      [
        'curl -s https://api.example.com -u bob:[REDACTED] && curl --user amy:[REDACTED] x',
        'docker run -u 1000:1000 app -u eve:notcurl',
        'then curl https://a.example -H "A: b" -u carl:[REDACTED]',
      ].join('\n'),
    );
  });

  it('scans texts built to make the secret scanner quadratic in one pass (was seconds for one body)', () => {
    // Prepare: each ~200 KB body took 4-10 s before (every match rescanned the rest of the text).
    const bodies = [
      `${'password=[REDACTED/'.repeat(10_000)}`,
      `${'curl '.repeat(40_000)} -u `,
      `${'password=[REDACTED/'.repeat(5_000)}password=hunter2pass`,
    ];

    // Act
    const started = performance.now();
    const out = bodies.map((b) => redactBody(b, 1_000_000, 'request_body', 'text/plain').body ?? '');

    // Assess: a generous bound (the new scan takes a few ms); the last body's password is still found.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(out[2]).not.toContain('hunter2pass');
    expect(out[2]!.endsWith('password=[REDACTED]')).toBe(true);
  });

  it('scans texts built to make the prose, recovery-word and JWT rules backtrack in one pass (were seconds)', () => {
    // Prepare: 30 KB each; the first two took ~8 s, the third ~3 s and the last ~0.7 s before
    // (runs of spaces matched two ways, and a JWT's header tried from every `eyJ` to the end).
    const spaces = ' '.repeat(30_000);
    const bodies = [
      `password is${spaces}x`,
      `my api key is${spaces}`,
      `seed phrase${spaces}:`,
      'eyJ'.repeat(10_000),
      `${'docker login '.repeat(2_500)} -a`,
    ];

    // Act
    const started = performance.now();
    const out = bodies.map((b) => redactBody(b, 100_000, 'request_body', 'text/plain').body);

    // Assess: a generous bound (they take a few ms now); nothing was lost or cut.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(out).toEqual(bodies);
  });

  it('redacts credentials used as JSON keys and credentials deeper than the walk goes', () => {
    // Prepare
    const jwt =
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
    const deep = (inner: string) => `{"a":${'['.repeat(70)}${inner}${']'.repeat(70)}}`;
    const bodies = [
      JSON.stringify({ [key]: 1, [jwt]: true, order_3f2504e0: 'x' }),
      deep(JSON.stringify(key)),
      deep(JSON.stringify(jwt)),
      deep('{"password":"hunter2pass"}'),
    ];

    // Act
    const out = bodies.map((b) => redactBody(b, 100_000, 'request_body').body ?? '');

    // Assess: no credential is left; ordinary keys and the tree's shape stay.
    for (const o of out) expect(o).not.toMatch(/sk_live_4e|eyJzdWIi|hunter2pass/);
    expect(Object.keys(JSON.parse(out[0]!))).toEqual([
      'order_3f2504e0',
      '[REDACTED:api_key]',
      '[REDACTED:jwt]',
    ]);
    for (const o of out.slice(1)) expect(o.startsWith(`{"a":${'['.repeat(70)}`)).toBe(true);
  });

  it('redacts a body nested past what JSON.stringify can write again, instead of failing the log', () => {
    const body = `{"a":4111111111111111,"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const out = redactBody(body, 1_000_000, 'request_body').body ?? '';
    expect(out).not.toContain('4111111111111111');
    expect(out.length).toBeGreaterThan(40_000);
  });

  it('redacts a header name that is itself a credential, in the headers and in the redacted list', () => {
    const jwt =
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const out = redactHeaders({ 'X-Trace': 'a', sk_live_4eC39HqLyjWDarjtT1zdp7dc: '1', [jwt]: 'x' });
    expect(`${out.json} ${out.redacted.join(' ')}`).not.toMatch(/sk_live_4e|eyJzdWIi|eyjzdwii/i);
    expect(Object.keys(JSON.parse(out.json!))).toEqual(['x-trace', '[REDACTED:api_key]', '[REDACTED:jwt]']);
    expect(out.redacted).toContain('headers:name');
    // Ordinary names are stored lower-case, as before.
    expect(redactHeaders({ 'X-Request-Id': 'abc', Accept: '*/*' }).json).toBe(
      '{"x-request-id":"abc","accept":"*/*"}',
    );
  });

  it('redacts the password of a scheme-relative URL where a URL can start, not inside a path', () => {
    expect(redactPath('//admin:hunter2pass@host/x').path).toBe('//admin:[REDACTED]@host/x');
    expect(redactPath('/a//b:c@d').path).toBe('/a//b:c@d');
    const text = 'see <img src="//bob:s3cretPw@cdn.example/a.png">';
    expect(redactBody(text, 10_000, 'request_body', 'text/plain').body).toBe(
      'see <img src="//bob:[REDACTED]@cdn.example/a.png">',
    );
  });

  it('reads a query parameter whose = is encoded (password%3D…) as the parameter it is', () => {
    expect(redactQuery('a=1&password%3Dhunter2pass&b=2')).toEqual({
      query: 'a=1&password%3DREDACTED&b=2',
      redacted: ['query:password'],
    });
    expect(redactQuery('q%3Dhello&flag').query).toBe('q%3Dhello&flag');
  });

  it('redacts capability links, and headers written as arrays, where they are', () => {
    // Act
    const reset = redactPath('/accounts/reset/MQ/c2pvr8-a3f9c1d27e8b4f60915c2d3e7a8b9c0d/').path;
    const invite = redactPath('/invite/Hk3kP9qL2x').path;
    const raw = redactBody(
      JSON.stringify({ rawHeaders: ['Host', 'x', 'X-Api-Key', 'Summer2024!xyz'], note: 'Summer2024!xyz' }),
      10_000,
      'request_body',
    ).body;
    const entries = redactBody(
      JSON.stringify({
        headers: [
          ['accept', 'json'],
          ['authorization', 'Token abc123def456'],
        ],
      }),
      10_000,
      'request_body',
    ).body;

    // Assess: the value in the array only; the same text elsewhere is judged on its own.
    expect(reset).toBe('/accounts/reset/MQ/[REDACTED:token]/');
    expect(invite).toBe('/invite/[REDACTED:token]');
    expect(JSON.parse(raw!)).toEqual({
      rawHeaders: ['Host', 'x', 'X-Api-Key', '[REDACTED]'],
      note: 'Summer2024!xyz',
    });
    expect(JSON.parse(entries!).headers[1]).toEqual(['authorization', '[REDACTED]']);
  });

  it('stores a decoded path segment encoded again, and keeps a hash under an id-named parent', () => {
    // Act
    const email = redactPath('/a/jane%40example.com%0A%20x').path;
    const commit = `/commits/${'ab12cd34'.repeat(5)}%0A`;

    // Assess
    expect(email).toBe('/a/[REDACTED:email]%0A%20x');
    expect(redactPath(commit).path).toBe(commit);
  });

  it.each([
    [undefined, 100],
    ['', 100],
    ['{"a":1}', 0],
  ])('gives null for %j with cap %d', (body, cap) => {
    expect(redactBody(body, cap)).toEqual({ body: null, redacted: [] });
  });
});
