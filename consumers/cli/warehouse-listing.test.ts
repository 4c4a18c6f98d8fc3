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

  it('lists the partition of a batch landed into an older hour (a shard catching up) at the next load', () => {
    // Prepare
    const { listing } = afterFirstLoad();

    // Act: a batch of requests that arrived more than an hour ago lands, then one of now.
    listing.landed([key('07', 'late')]);
    const forLate = listing.plan(T0 + 2_000);
    listing.listed(forLate, T0 + 2_000, []);
    listing.landed([key('10', 'live')]);
    const after = listing.plan(T0 + 3_000);

    // Assess: the late file's hour is listed by the very next load, then no more.
    expect(forLate).toMatchObject({ full: false });
    expect(forLate.within).toEqual([...recentPartitions(T0 + 2_000), 'requests/dt=2026-11-30/hr=07/']);
    expect(after.within).toEqual(recentPartitions(T0 + 3_000));
  });

  it('lists the hour a file landed into when the hour turned since', () => {
    // Prepare: at 10:59:59.9 a batch keyed in hour 09 (its newest arrival) lands: recent then.
    const justBefore = Date.parse('2026-11-30T10:59:59.900Z');
    const listing = new WarehouseListing();
    listing.listed(listing.plan(justBefore - 1_000), justBefore - 1_000, []);
    listing.landed([key('09')]);

    // Act: the next load starts at 11:00:00.1, when hour 09 is no longer among the recent ones.
    const plan = listing.plan(justBefore + 200);

    // Assess
    expect(plan.within).toContain('requests/dt=2026-11-30/hr=09/');
    expect(recentPartitions(justBefore + 200)).not.toContain('requests/dt=2026-11-30/hr=09/');
  });

  it('keeps for the next load what landed while a load was listing', () => {
    // Prepare
    const { listing } = afterFirstLoad();
    const plan = listing.plan(T0 + 1_000);

    // Act: a late batch lands after the plan was made, before the load finished.
    listing.landed([key('06', 'during')]);
    listing.listed(plan, T0 + 1_500, []);

    // Assess
    expect(listing.plan(T0 + 2_000).within).toContain('requests/dt=2026-11-30/hr=06/');
  });

  it('lists the whole lake for a landed key it cannot place in an hour', () => {
    // Prepare
    const { listing } = afterFirstLoad();

    // Act
    listing.landed(['requests/odd-layout.parquet']);

    // Assess
    expect(listing.plan(T0 + 1_000).full).toBe(true);
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

  it('stops counting a stuck file once a listing of its hour loaded it, across the hour boundary', () => {
    // Prepare: the full listing at 10:59:30 cannot load a file of hour 09.
    const at = Date.parse('2026-11-30T10:59:30Z');
    const listing = new WarehouseListing();
    listing.listed(listing.plan(at), at, [key('09', 'slow')]);

    // Act: a partial load at 10:59:45 (hour 09 still recent) loads it; one at 11:00:05 does not list hour 09.
    const partial = listing.plan(at + 15_000);
    listing.listed(partial, at + 15_000, []);
    const next = listing.plan(at + 35_000);
    listing.listed(next, at + 35_000, []);

    // Assess
    expect(partial.within).toContain('requests/dt=2026-11-30/hr=09/');
    expect(next.within).not.toContain('requests/dt=2026-11-30/hr=09/');
    expect(listing.waiting).toBe(0);
  });

  it('ignores keys of other tables and lists the whole lake when it could not keep every landed key', () => {
    // Prepare
    const { listing } = afterFirstLoad();

    // Act
    listing.landed(['dead_letters/dt=2026-01-01/hr=00/x.ndjson.gz']);
    const ignored = listing.plan(T0 + 1_000);
    listing.listed(ignored, T0 + 1_000, []);
    listing.landed(Array.from({ length: 10_001 }, (_, i) => key('10', String(i))));
    const overflowed = listing.plan(T0 + 2_000);
    // One more lands (and is not kept) while that load lists.
    listing.landed([key('05', 'during')]);
    listing.listed(overflowed, T0 + 2_000, []);
    const after = listing.plan(T0 + 3_000);
    listing.listed(after, T0 + 3_000, []);

    // Assess
    expect(ignored.full).toBe(false);
    expect(overflowed.full).toBe(true);
    expect(after.full).toBe(true);
    expect(listing.plan(T0 + 4_000).full).toBe(false);
  });
});
