import { describe, expect, it } from 'vitest';
import { RouteBook } from './route-book.ts';

/** A seeded generator, so that every run sends the same traffic. */
const seeded = (seed: number) => {
  let s = seed;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  return {
    next,
    pick: <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T,
    id: (): string => String(1_000_000_000 + Math.floor(next() * 8e9)),
  };
};

/** Words for generated names and path segments. */
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima'.split(' ');

const send = (book: RouteBook, path: string, status = 200, project = 'p'): string =>
  book.endpoint(project, path, 'GET', status, null);

describe('RouteBook: what a project teaches its routes', () => {
  it("a scanner's probes at the first position leave the project's top-level words literal", () => {
    // Prepare: an API's traffic, then a scan answered 200 (a catch-all page), so that only the
    // first-position rules stand between the probes and the routes.
    const book = new RouteBook();
    const r = seeded(3);
    const normal = () =>
      r.pick([
        `/v1/users/${r.id()}`,
        '/v1/users',
        '/health',
        '/login',
        '/docs',
        '/api/status',
        '/graphql',
        '/admin/settings',
        '/admin/users',
      ]);
    for (let i = 0; i < 5_000; i++) send(book, normal());

    // Act: 400 distinct probes, and a shared probe under 14 made-up sites.
    const words =
      'wp-login.php wp-admin .env .git phpmyadmin backup config.php server-status xmlrpc.php cgi-bin console actuator solr jenkins manager owa autodiscover boaform HNAP1 shell.php'.split(
        ' ',
      );
    for (let i = 0; i < 400; i++) {
      send(book, `/${i < words.length ? words[i] : `${r.pick(words)}${i}`}`);
      if (i % 4 === 0) send(book, normal());
    }
    for (const site of 'wp wordpress blog new old test site cms web wp1 wp2 shop dev demo'.split(' ')) {
      send(book, `/${site}/wp-includes/wlwmanifest.xml`);
    }
    const topLevel = [
      '/health',
      '/login',
      '/docs',
      '/graphql',
      '/v1/users',
      '/api/status',
      '/admin/settings',
    ];
    const live = topLevel.map((path) => send(book, path));

    // Assess: each still its own literal.
    expect(live).toEqual(topLevel);
    expect(book.retemplate('p', '/v1/users/4815162342')).toBe('/v1/users/{id}');
    expect(book.retemplate('p', '/admin/users')).toBe('/admin/users');
  });

  it('an S3-style API, whose first values carry the traffic, still gets a parameter there', () => {
    // Prepare
    const book = new RouteBook();
    const r = seeded(5);
    const buckets = Array.from(
      { length: 40 },
      (_, i) => `${WORDS[i % WORDS.length]}-${['prod', 'logs', 'assets', 'backup'][i % 4]}`,
    );

    // Act
    for (let i = 0; i < 4_000; i++) {
      send(
        book,
        `/${r.pick(buckets)}/${r.pick(WORDS)}/${r.pick(WORDS)}/${Math.floor(r.next() * 1e9).toString(16)}.jpg`,
      );
    }

    // Assess
    expect(book.retemplate('p', '/kilo-logs/alpha/golf/1234abcd.jpg')).toMatch(/^\/\{id\}/);
  });

  it('learns nothing from 404s, and still templates them', () => {
    // Prepare
    const book = new RouteBook();
    for (let i = 0; i < 200; i++) send(book, `/v1/orders/${1000 + i}`);

    // Act
    const probes = Array.from({ length: 300 }, (_, i) =>
      send(book, `/wp-content/plugins/p${i}/readme.txt`, 404),
    );
    const missing = send(book, '/v1/orders/999999', 404);
    const trie = book.snapshot('p')?.trie;

    // Assess
    expect(Object.keys(trie?.c ?? {})).toEqual(['v1']);
    expect(probes[0]).toBe('/wp-content/plugins/p0/readme.txt');
    expect(missing).toBe('/v1/orders/{id}');
  });

  it('learns from 404s under a known first segment: lookups by name that miss', () => {
    // Prepare: a get-or-create client: each lookup by name misses (404), then it creates the
    // object by a POST to the collection (201).
    const book = new RouteBook();
    const r = seeded(21);
    const words = [...WORDS, 'mike', 'oscar', 'papa'];
    const name = () => `${r.pick(words)}-${r.pick(words)}-config`;

    // Act
    const missed = new Set<string>();
    for (let i = 0; i < 3_000; i++) {
      const namespace = r.pick(['default', 'prod', 'staging', 'payments']);
      const template = send(book, `/api/v1/namespaces/${namespace}/configmaps/${name()}`, 404);
      send(book, `/api/v1/namespaces/${namespace}/configmaps`, 201);
      if (i >= 2_000) missed.add(template);
    }

    // Assess
    expect([...missed]).toEqual(['/api/v1/namespaces/{id}/configmaps/{id}']);
  });

  it('makes the first position a parameter for tenants that carry part of the traffic, keeping its words', () => {
    // Prepare: an API's own routes first, then 260 tenants' paths at about 30% of the traffic.
    const book = new RouteBook();
    const r = seeded(23);
    const own = () => r.pick(['/login', '/health', `/v1/users/${r.id()}`, '/v1/users', '/docs']);
    for (let i = 0; i < 2_000; i++) send(book, own());
    const tenants = Array.from(
      { length: 260 },
      (_, i) => `${r.pick(['acme', 'globex', 'initech', 'hooli', 'stark'])}-${i}`,
    );

    // Act
    const late = new Set<string>();
    for (let i = 0; i < 6_000; i++) {
      const path = r.next() < 0.3 ? `/${r.pick(tenants)}/api/users/${Math.floor(r.next() * 1e6)}` : own();
      const template = send(book, path);
      if (i >= 5_000 && !path.startsWith('/v1/') && !['/login', '/health', '/docs'].includes(path))
        late.add(template);
    }

    // Assess
    expect([...late]).toEqual(['/{id}/api/users/{id}']);
    expect(book.retemplate('p', '/login')).toBe('/login');
    expect(book.retemplate('p', '/v1/users/5')).toBe('/v1/users/{id}');
  });

  it('keeps what it learned below a dated version at the first position, whatever its share', () => {
    // Prepare: a Twilio-style dated first segment at 3% of a project's traffic.
    const book = new RouteBook();
    const r = seeded(29);

    // Act
    const late = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      if (r.next() < 0.03) {
        const path = `/2010-04-01/Accounts/AC${r.id()}${r.id()}/Conferences/${r.pick(WORDS)}-${r.pick(WORDS)}/Participants`;
        const template = send(book, path);
        if (i >= 15_000) late.add(template);
      } else send(book, r.pick(['/v1/users', `/v1/users/${r.id()}`, '/health']));
    }

    // Assess
    expect([...late]).toEqual(['/2010-04-01/Accounts/{id}/Conferences/{id}/Participants']);
  });

  it('gives the live column the same template as a re-templating once a dotted name is a literal', () => {
    // Prepare
    const book = new RouteBook();

    // Act
    const live: string[] = [];
    for (let i = 0; i < 10; i++) live.push(send(book, '/api/chat.postMessage'));

    // Assess: the first sightings take the rules' answer; then the learned literal, not a cached `{id}`.
    expect(live.at(-1)).toBe('/api/chat.postMessage');
    expect(book.retemplate('p', '/api/chat.postMessage')).toBe('/api/chat.postMessage');
  });

  it('makes a date among many, or a polled id with a format, a parameter; keeps a few dated versions', () => {
    // Prepare
    const book = new RouteBook();
    const r = seeded(9);
    const days = Array.from({ length: 60 }, (_, d) =>
      new Date(Date.UTC(2024, 0, 1) + d * 864e5).toISOString().slice(0, 10),
    );
    const orders = Array.from({ length: 40 }, () => r.id());

    // Act
    let lastDay = '';
    for (const day of days) {
      for (let k = 0; k < 20; k++) {
        lastDay = send(book, `/v2/reports/${day}`);
        send(book, `/admin/api/${r.pick(['2024-04', '2024-07'])}/orders/${r.pick(orders)}.json`);
      }
    }

    // Assess
    expect(lastDay).toBe('/v2/reports/{id}');
    expect(book.retemplate('p', '/v2/reports/2024-01-05')).toBe('/v2/reports/{id}');
    expect(book.retemplate('p', `/admin/api/2024-07/orders/${orders[3]}.json`)).toBe(
      '/admin/api/2024-07/orders/{id}.json',
    );
  });

  it('a word followed by ids in one place says nothing of the same word under another parent', () => {
    // Prepare
    const book = new RouteBook();
    const r = seeded(11);
    const names =
      'alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent victor walter'.split(
        ' ',
      );

    // Act
    for (let i = 0; i < 300; i++)
      send(book, `/v1/users/${r.pick(names)}${r.pick(['', '-dev', '_io', 'x', 'hub', '7', '42'])}`);
    for (let i = 0; i < 50; i++) {
      send(book, '/v1/admin/users/settings');
      send(book, '/v1/admin/users/export');
    }

    // Assess
    expect(book.retemplate('p', '/v1/users/olivia-dev')).toBe('/v1/users/{id}');
    expect(book.retemplate('p', '/v1/admin/users/settings')).toBe('/v1/admin/users/settings');
    expect(book.retemplate('p', '/v1/admin/users/export')).toBe('/v1/admin/users/export');
  });

  it('threads that have exchanged what they learned template every path alike', () => {
    // Prepare: four stage threads, each seeing a random share of one project's traffic.
    const books = Array.from({ length: 4 }, (_, i) => new RouteBook({ worker: `host.t${i}` }));
    const r = seeded(17);
    const routes = [
      () => '/admin/api/2024-04/products.json',
      () => `/admin/api/2024-04/products/${r.id()}.json`,
      () => `/admin/api/2024-04/products/${r.id()}/variants.json`,
      () => '/admin/api/2024-04/orders.json',
      () => `/admin/api/2024-04/orders/${r.id()}.json`,
      () => `/admin/api/2024-04/orders/${r.id()}/cancel.json`,
      () => `/admin/api/2024-04/customers/${r.id()}.json`,
      () => '/admin/api/2024-04/customers/search.json',
      () => '/admin/api/2024-04/shop.json',
      () => '/admin/api/2024-04/orders/count.json',
      () => `/feeds/${r.pick(['prod', 'staging', 'dev', 'eu', 'us'])}/${r.pick(['daily', 'weekly'])}.xml`,
      () =>
        `/namespaces/${r.pick(['default', 'kube-system', 'prod', 'payments', 'search', 'web'])}/${r.pick(['pods', 'services', 'events'])}`,
    ];
    const paths: string[] = [];

    // Act: rounds of traffic, each followed by an exchange of snapshots.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 1_500; i++) {
        const path = (r.pick(routes) as () => string)();
        paths.push(path);
        send(r.pick(books), path);
      }
      const snapshots = books.flatMap((b) => b.snapshot('p') ?? []);
      for (const b of books) b.absorb('p', structuredClone(snapshots));
    }

    // Assess
    const disagreeing = paths.filter((path) => new Set(books.map((b) => b.retemplate('p', path))).size > 1);
    expect(disagreeing.slice(0, 5)).toEqual([]);
  });

  it('keeps no statistics for templates of paths thousands of segments deep, and templates them still', () => {
    // Prepare: distinct paths of 4,000 segments each (a hostile client), then a real endpoint.
    const book = new RouteBook();
    const deep = (i: number) => `/files/${WORDS[i % WORDS.length]}/${i}${'/x'.repeat(4_000)}`;

    // Act
    const templates = Array.from({ length: 50 }, (_, i) => send(book, deep(i)));
    send(book, '/v1/health');

    // Assess: each deep path got a template; only the real endpoint is counted.
    for (const t of templates) expect(t.length).toBeGreaterThan(8_000);
    const endpoints = book.snapshot('p')!.endpoints.map((e) => e.template);
    expect(endpoints).toEqual(['/v1/health']);
  });

  it("keeps a project's node budget in the view made of every worker's learning", () => {
    // Prepare: three workers, each filling its own trie to the budget with routes of its own
    // (four positions of eight frequent words each, under a first word of the worker's).
    const max = 1_000;
    const books = ['w1', 'w2', 'w3'].map((worker) => new RouteBook({ worker, maxNodesPerProject: max }));
    const eight = WORDS.slice(0, 8);
    books.forEach((book, i) => {
      for (let round = 0; round < 3; round++)
        for (let k = 0; k < 4_096; k++) {
          // Each position's words are its parent's and one more, so no two share what follows,
          // and every worker's words are its own (no position becomes a parameter).
          const [a, b, c, d] = [k & 7, (k >> 3) & 7, (k >> 6) & 7, (k >> 9) & 7].map((x) => eight[x]);
          const w = WORDS[8 + i];
          send(book, `/${w}/${w}-${a}/${w}-${a}-${b}/${w}-${a}-${b}-${c}/${w}-${a}-${b}-${c}-${d}`);
        }
    });
    for (const book of books) expect(book.nodes('p')).toBeGreaterThan(max * 0.9);
    const known = `/${WORDS[8]}/${WORDS[8]}-alpha/${WORDS[8]}-alpha-bravo`;
    const before = send(books[0]!, known);

    // Act: the first worker takes in the others' learning.
    books[0]!.absorb(
      'p',
      books.slice(1).map((b) => b.snapshot('p')!),
    );

    // Assess: the view holds at most the budget, and templates what it holds as before.
    expect(books[0]!.nodes('p')).toBeLessThanOrEqual(max);
    expect(before).toBe(known);
    expect(send(books[0]!, known)).toBe(known);
  });
});
