import { describe, expect, it } from 'vitest';
import { FULL_LISTING_EVERY_MS, recentPartitions, WarehouseListing } from './warehouse-listing.ts';

const T0 = Date.parse('2026-11-30T10:20:00Z');
const key = (hour: string, name = 'a') => `requests/dt=2026-11-30/hr=${hour}/${name}.parquet`;

/** A listing whose first (full) load at T0 is done. */
const afterFirstLoad = () => {
  const listing = new WarehouseListing();
  const first = listing.plan(T0);
  listing.listed(first, T0, []);
  return { listing, first };
};

describe('WarehouseListing', () => {
  it('lists the whole lake first, then only the recent hours and replays until a minute passed', () => {
    // Act
    const { listing, first } = afterFirstLoad();
    listing.landed([key('10')]);
    const next = listing.plan(T0 + 1_000);
    listing.listed(next, T0 + 1_000, []);
    const later = listing.plan(T0 + FULL_LISTING_EVERY_MS);

    // Assess
    expect(first.full).toBe(true);
    expect(next).toMatchObject({ full: false, within: recentPartitions(T0 + 1_000) });
    expect(next.within).toEqual([
      'requests/dt=2026-11-30/hr=09/',
      'requests/dt=2026-11-30/hr=10/',
      'requests/dt=2026-11-30/hr=11/',
      'replays/requests/',
    ]);
    expect(later.full).toBe(true);
  });

  it('lists the whole lake at the next load when a batch lands into an older hour (a shard catching up)', () => {
    // Prepare
    const { listing } = afterFirstLoad();

    // Act: a batch of requests that arrived more than an hour ago lands, then one of now.
    listing.landed([key('07', 'late')]);
    const forLate = listing.plan(T0 + 2_000);
    listing.listed(forLate, T0 + 2_000, []);
    listing.landed([key('10', 'live')]);
    const after = listing.plan(T0 + 3_000);

    // Assess: the late file is listed by the very next load; once listed, loads are partial again.
    expect(forLate.full).toBe(true);
    expect(after.full).toBe(false);
  });

  it('lists the whole lake when the hour turned since a file landed into the hour before', () => {
    // Prepare: at 10:59:59.9 a batch keyed in hour 09 (its newest arrival) lands: recent then.
    const justBefore = Date.parse('2026-11-30T10:59:59.900Z');
    const listing = new WarehouseListing();
    listing.listed(listing.plan(justBefore - 1_000), justBefore - 1_000, []);
    listing.landed([key('09')]);

    // Act: the next load starts at 11:00:00.1, when hour 09 is no longer among the recent ones.
    const plan = listing.plan(justBefore + 200);

    // Assess
    expect(plan.full).toBe(true);
  });

  it('keeps for the next load what landed while a load was listing', () => {
    // Prepare
    const { listing } = afterFirstLoad();
    const plan = listing.plan(T0 + 1_000);

    // Act: a late batch lands after the plan was made, before the load finished.
    listing.landed([key('06', 'during')]);
    listing.listed(plan, T0 + 1_500, []);

    // Assess
    expect(listing.plan(T0 + 2_000).full).toBe(true);
  });

  it('counts files stuck outside the recent hours from the last full listing, and the recent ones from each load', () => {
    // Prepare: the full listing at T0 could not load a file of hour 04 nor one of hour 10.
    const listing = new WarehouseListing();
    listing.listed(listing.plan(T0), T0, [key('04', 'bad'), key('10', 'bad')]);

    // Act: a partial load still fails on the hour-10 file and on a new one.
    const plan = listing.plan(T0 + 1_000);
    listing.listed(plan, T0 + 1_000, [key('10', 'bad'), key('10', 'new')]);

    // Assess: the hour-04 file (not listed) stays counted; the hour-10 one is counted once.
    expect(plan.full).toBe(false);
    expect(listing.waiting).toBe(3);
  });

  it('ignores keys of other tables and forces a full listing when it cannot keep every landed key', () => {
    // Prepare
    const { listing } = afterFirstLoad();

    // Act
    listing.landed(['dead_letters/dt=2026-01-01/hr=00/x.ndjson.gz']);
    const ignored = listing.plan(T0 + 1_000);
    listing.listed(ignored, T0 + 1_000, []);
    listing.landed(Array.from({ length: 10_001 }, (_, i) => key('10', String(i))));
    const overflowed = listing.plan(T0 + 2_000);
    listing.listed(overflowed, T0 + 2_000, []);

    // Assess
    expect(ignored.full).toBe(false);
    expect(overflowed.full).toBe(true);
    expect(listing.plan(T0 + 3_000).full).toBe(false);
  });
});
