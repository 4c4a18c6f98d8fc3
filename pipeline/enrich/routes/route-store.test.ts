import { describe, expect, it } from 'vitest';
import { PipelineConfig } from '../../config.ts';
import { MemoryStore } from '../../land/memory-store.ts';
import { Pipeline } from '../../pipeline.ts';
import { RouteBook } from './route-book.ts';
import { loadRouteBook, RETIRED_WORKER, ROUTES_PREFIX, storeLearned, upkeepLearned } from './route-store.ts';

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
});
