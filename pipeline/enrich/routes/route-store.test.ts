import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineConfig } from '../../config.ts';
import { LocalDirStore } from '../../land/local-dir-store.ts';
import { MemoryStore } from '../../land/memory-store.ts';
import { Pipeline } from '../../pipeline.ts';
import { RouteBook } from './route-book.ts';
import {
  applyRouteUpdates,
  changedSnapshots,
  loadRouteBook,
  loadRouteUpdates,
  RETIRED_WORKER,
  ROUTES_PREFIX,
  storeLearned,
  syncRouteBook,
  upkeepLearned,
} from './route-store.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-30T12:00:00Z');
const WORDS = [
  'amber',
  'birch',
  'cedar',
  'delta',
  'ember',
  'fjord',
  'grove',
  'heron',
  'iris',
  'juniper',
  'kestrel',
  'lotus',
  'maple',
  'nectar',
  'onyx',
  'pine',
  'quartz',
  'raven',
  'sage',
  'tundra',
];

/** A book that learned `/teams/<slug>/members` for many slugs: it templates the slug. */
const teacher = (worker: string): RouteBook => {
  const book = new RouteBook({ worker });
  for (const word of WORDS)
    for (let i = 0; i < 3; i++) book.endpoint('p', `/teams/${word}/members`, 'GET', 200, null);
  return book;
};

/** Uses of `/teams/<slug>/members` stored for a project, all workers added up. */
const membersCount = async (store: MemoryStore): Promise<number> => {
  let n = 0;
  for (const u of await loadRouteUpdates(store))
    for (const s of u.learned) for (const e of s.endpoints) if (e.template.endsWith('/members')) n += e.count;
  return n;
};

/** This worker ("me") stored its learning in an earlier run; this run could not load it, then learned 5 uses. */
const storedThenFailedLoad = async () => {
  const store = new MemoryStore();
  await storeLearned(store, [teacher('me').snapshot('p', new Date(NOW - DAY))!]);
  const stored = await membersCount(store);
  const book = new RouteBook({ worker: 'me' });
  book.awaitLoad();
  for (let i = 0; i < 5; i++) book.endpoint('p', '/teams/amber/members', 'GET', 200, null);
  return { store, stored, book };
};

const learnedKeys = async (store: MemoryStore) =>
  (await store.list(ROUTES_PREFIX)).map((k) => k.slice(ROUTES_PREFIX.length)).sort();

describe('upkeepLearned', () => {
  it('folds a quiet worker into the retired snapshot and deletes its object; its learning still templates', async () => {
    // Prepare: host-a saved 10 days ago (gone), host-b yesterday (alive, another process).
    const store = new MemoryStore();
    const gone = teacher('host-a.t0');
    await storeLearned(store, [gone.snapshot('p', new Date(NOW - 10 * DAY))!]);
    const alive = new RouteBook({ worker: 'host-b.t0' });
    alive.endpoint('p', '/health', 'GET', 200, null);
    await storeLearned(store, [alive.snapshot('p', new Date(NOW - DAY))!]);
    const untaught = new RouteBook({ worker: 'x' }).endpoint('p', '/teams/zinnia/members', 'GET', 200, null);

    // Act
    const first = await upkeepLearned(store, {
      nowMs: NOW,
      retireAfterMs: 7 * DAY,
      ownWorkers: ['host-c.t0'],
    });
    const again = await upkeepLearned(store, {
      nowMs: NOW,
      retireAfterMs: 7 * DAY,
      ownWorkers: ['host-c.t0'],
    });
    const newcomer = new RouteBook({ worker: 'host-c.t0' });
    await loadRouteBook(newcomer, store);

    // Assess
    expect(first).toEqual({ refreshed: 0, retired: 1 });
    expect(again).toEqual({ refreshed: 0, retired: 0 });
    expect(await learnedKeys(store)).toEqual([
      `p/learned-${encodeURIComponent(RETIRED_WORKER)}.json`,
      'p/learned-host-b.t0.json',
    ]);
    expect(untaught).toBe('/teams/zinnia/members');
    expect(newcomer.endpoint('p', '/teams/zinnia/members', 'GET', 200, null)).not.toBe(
      '/teams/zinnia/members',
    );
    expect(newcomer.endpoint('p', '/teams/zinnia/members', 'GET', 200, null)).toBe(
      teacher('t').endpoint('p', '/teams/zinnia/members', 'GET', 200, null),
    );
  });

  it("saves this worker's own snapshots again before they could look quiet, and never retires them", async () => {
    // Prepare: this worker's snapshot is 2 days old (over a quarter of 7 days).
    const store = new MemoryStore();
    await storeLearned(store, [teacher('host-c.t0').snapshot('p', new Date(NOW - 2 * DAY))!]);

    // Act
    const done = await upkeepLearned(store, {
      nowMs: NOW,
      retireAfterMs: 7 * DAY,
      ownWorkers: ['host-c.t0'],
    });
    const later = await upkeepLearned(store, {
      nowMs: NOW + 8 * DAY,
      retireAfterMs: 7 * DAY,
      ownWorkers: ['host-c.t0'],
    });

    // Assess
    expect(done).toEqual({ refreshed: 1, retired: 0 });
    expect(later).toEqual({ refreshed: 1, retired: 0 });
    expect(await learnedKeys(store)).toEqual(['p/learned-host-c.t0.json']);
  });

  it('runs in a worker for its own route books, at most once an hour', async () => {
    // Prepare: this worker ("me", stages in its thread) saved 2 days ago; host-a 10 days ago.
    const store = new MemoryStore();
    await storeLearned(store, [teacher('me').snapshot('p', new Date(NOW - 2 * DAY))!]);
    await storeLearned(store, [teacher('host-a.t0').snapshot('p', new Date(NOW - 10 * DAY))!]);
    const pipeline = await Pipeline.create(
      PipelineConfig.parse({ enrich: { geoIp: false }, stages: { threads: 0 } }),
      { store, routesWorker: 'me', routesSyncMs: 0 },
    );

    // Act
    await pipeline.upkeepRoutes(NOW);
    const afterFirst = await learnedKeys(store);
    await storeLearned(store, [teacher('host-b.t0').snapshot('p', new Date(NOW - 10 * DAY))!]);
    await pipeline.upkeepRoutes(NOW + 30 * 60_000);
    const withinTheHour = await learnedKeys(store);
    await pipeline.close();

    // Assess
    expect(afterFirst).toEqual([`p/learned-${encodeURIComponent(RETIRED_WORKER)}.json`, 'p/learned-me.json']);
    expect(withinTheHour).toContain('p/learned-host-b.t0.json');
  });

  it('never adds one snapshot twice when two upkeeps overlap (one folded it and has not deleted it yet)', async () => {
    // Prepare: host-a went quiet 10 days ago; worker X's upkeep folds it but is slow to delete.
    const store = new MemoryStore();
    await storeLearned(store, [teacher('host-a.t0').snapshot('p', new Date(NOW - 10 * DAY))!]);
    const before = await membersCount(store);
    const slowDeletes: string[] = [];
    const slow = Object.assign(Object.create(store) as MemoryStore, {
      delete: async (key: string) => {
        slowDeletes.push(key);
      },
    });

    // Act: X folds host-a (not yet deleted); Y's upkeep reads both the retired snapshot and host-a.
    const x = await upkeepLearned(slow, { nowMs: NOW, retireAfterMs: 7 * DAY, ownWorkers: ['x.t0'] });
    const y = await upkeepLearned(store, {
      nowMs: NOW + 1_000,
      retireAfterMs: 7 * DAY,
      ownWorkers: ['y.t0'],
    });

    // Assess: the counts are host-a's once, and host-a's object is gone.
    expect(x.retired).toBe(1);
    expect(y.retired).toBe(0);
    expect(slowDeletes).toEqual(['_shardline/routes/p/learned-host-a.t0.json']);
    expect(await learnedKeys(store)).toEqual([`p/learned-${encodeURIComponent(RETIRED_WORKER)}.json`]);
    expect(await membersCount(store)).toBe(before);
  });
});

describe('route loads and syncs', () => {
  it('skip a snapshot deleted between listing and reading it (another worker retired it)', async () => {
    // Prepare: the listing still shows host-a's object, which is gone when it is read.
    const store = new MemoryStore();
    await storeLearned(store, [teacher('host-b.t0').snapshot('p', new Date(NOW))!]);
    const gone = `${ROUTES_PREFIX}p/learned-host-a.t0.json`;
    const racing = Object.assign(Object.create(store) as MemoryStore, {
      list: async (prefix: string) => {
        const keys = await store.list(prefix);
        return gone.startsWith(prefix) ? [...keys, gone].sort() : keys;
      },
      get: (key: string) => store.get(key),
    });
    let listed = 0;
    const listsOnce = Object.assign(Object.create(racing) as MemoryStore, {
      // The check after a failed read lists the key alone: by then it is gone.
      list: async (prefix: string) =>
        listed++ === 0 || prefix !== gone ? racing.list(prefix) : store.list(prefix),
    });

    // Act
    const updates = await loadRouteUpdates(listsOnce);

    // Assess
    expect(updates.map((u) => u.learned.map((s) => s.worker))).toEqual([['host-b.t0']]);
  });

  it('store nothing after a failed load, then keep what was stored and what was learned since', async () => {
    // Prepare: this worker stored its learning in an earlier run; this run could not load it.
    const { store, stored, book } = await storedThenFailedLoad();

    // Act: one sync (as at shutdown) loads, then stores the merged learning.
    const whileFailed = changedSnapshots(book);
    await syncRouteBook(book, store);

    // Assess
    expect(whileFailed).toEqual([]);
    expect(await membersCount(store)).toBe(stored + 5);
  });

  it('a load that succeeds at start leaves the book as before: its own stored snapshot is taken once', async () => {
    // Prepare
    const store = new MemoryStore();
    await storeLearned(store, [teacher('me').snapshot('p', new Date(NOW - DAY))!]);
    const stored = await membersCount(store);
    const book = new RouteBook({ worker: 'me' });
    applyRouteUpdates(book, await loadRouteUpdates(store));

    // Act
    book.endpoint('p', '/teams/amber/members', 'GET', 200, null);
    await syncRouteBook(book, store);
    await syncRouteBook(book, store);

    // Assess
    expect(await membersCount(store)).toBe(stored + 1);
  });

  it('add a stored snapshot in once, however many loads come before the book stores', async () => {
    // Prepare
    const { store, stored, book } = await storedThenFailedLoad();
    const updates = await loadRouteUpdates(store);

    // Act: two loads reach the book (the first did not finish) before it stores.
    for (const u of updates) book.absorb(u.project, u.learned);
    applyRouteUpdates(book, updates);
    await storeLearned(store, changedSnapshots(book));

    // Assess
    expect(await membersCount(store)).toBe(stored + 5);
  });

  it('load past damaged objects: a trie that does not parse, bad endpoint entries, bad declared routes', async () => {
    // Prepare: a good snapshot, one whose trie does not parse, one with bad endpoints, a bad declared file.
    const store = new MemoryStore();
    await storeLearned(store, [teacher('host-a.t0').snapshot('p', new Date(NOW))!]);
    const put = (key: string, value: unknown) =>
      store.put(`${ROUTES_PREFIX}${key}`, new TextEncoder().encode(JSON.stringify(value)));
    const base = {
      format: teacher('x').snapshot('p')!.format,
      project: 'p',
      savedAt: new Date(NOW).toISOString(),
    };
    await put('p/learned-host-b.t0.json', {
      ...base,
      worker: 'host-b.t0',
      trie: { c: { x: null } },
      endpoints: [],
    });
    await put('p/learned-host-c.t0.json', {
      ...base,
      worker: 'host-c.t0',
      trie: { n: 0 },
      endpoints: [null, { template: 7 }],
    });
    await put('p/declared.json', { ...base, source: 'x', routes: [null, { template: '/v1/things/{id}' }] });
    const book = new RouteBook({ worker: 'me' });
    book.awaitLoad();

    // Act
    await syncRouteBook(book, store);
    book.endpoint('p', '/v1/health', 'GET', 200, null);

    // Assess: the book loaded (it stores again), the good learning and the good declared route template.
    expect(changedSnapshots(book).map((s) => s.project)).toEqual(['p']);
    expect(book.endpoint('p', '/v1/things/42', 'GET', 200, null)).toBe('/v1/things/{id}');
    expect(book.endpoint('p', '/teams/zinnia/members', 'GET', 200, null)).not.toBe('/teams/zinnia/members');
  });

  it('retire quiet snapshots even when the retired one lists what it folded in a shape it does not know', async () => {
    // Prepare: a retired snapshot with a damaged `folded`, and a quiet worker.
    const store = new MemoryStore();
    const retired = teacher(RETIRED_WORKER).snapshot('p', new Date(NOW - 2 * DAY))!;
    await store.put(
      `${ROUTES_PREFIX}p/learned-${encodeURIComponent(RETIRED_WORKER)}.json`,
      new TextEncoder().encode(JSON.stringify({ ...retired, folded: { not: 'a list' } })),
    );
    await storeLearned(store, [teacher('host-a.t0').snapshot('p', new Date(NOW - 10 * DAY))!]);

    // Act
    const done = await upkeepLearned(store, { nowMs: NOW, retireAfterMs: 7 * DAY, ownWorkers: ['me'] });

    // Assess
    expect(done.retired).toBe(1);
    expect(await learnedKeys(store)).toEqual([`p/learned-${encodeURIComponent(RETIRED_WORKER)}.json`]);
  });
});

describe('route snapshots', () => {
  it('stay shallow for a path of thousands of segments: deeper paths are templated by the rules, not learned', () => {
    // Prepare: valid under the path limit; learned, it nested the trie as deep, and a snapshot
    // that deep cannot be sent from a stage thread (the reply is lost) or stored.
    const book = new RouteBook();
    const depth = (o: unknown): number =>
      o !== null && typeof o === 'object' ? 1 + Math.max(0, ...Object.values(o).map(depth)) : 0;

    // Act
    const template = book.endpoint('p1', '/a'.repeat(4_000), 'GET', 200, null);
    book.endpoint('p1', '/v1/orders/42', 'GET', 200, null);
    const snapshots = changedSnapshots(book);

    // Assess
    expect(template.startsWith('/a/a/a')).toBe(true);
    expect(depth(snapshots)).toBeLessThan(100);
    expect(JSON.stringify(snapshots)).toContain('orders');
  });
});

describe('route objects', () => {
  it('are stored and loaded for project ids `.`, `..` and with a leading dot: one key segment each', async () => {
    // Prepare: the local lake refuses keys that leave their directory, as `routes/../` would.
    const dir = await mkdtemp(join(tmpdir(), 'route-keys-'));
    try {
      const store = new LocalDirStore(dir);
      const book = new RouteBook({ worker: 'w1' });
      const projects = ['.', '..', '.hidden', 'api.example'];
      for (const p of projects) book.endpoint(p, '/v1/orders/42', 'GET', 200, null);

      // Act
      await syncRouteBook(book, store);
      const keys = await store.list(ROUTES_PREFIX);

      // Assess
      expect(keys).toHaveLength(projects.length);
      for (const key of keys) expect(key.split('/')).not.toContain('..');
      for (const key of keys) expect(key.split('/')).not.toContain('.');
      const updates = await loadRouteUpdates(store);
      expect(updates.map((u) => u.project).sort()).toEqual([...projects].sort());
      for (const u of updates) expect(u.learned.length, u.project).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
