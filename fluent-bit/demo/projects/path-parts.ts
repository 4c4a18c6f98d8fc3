import type { DemoClient } from '../demo-client.ts';
import type { Prng } from '../prng.ts';

/** Path pieces several demo APIs share. */
export const page = (rng: Prng): number => (rng.chance(0.7) ? 1 : rng.range(2, 12));

/** Mostly the caller's own user id, sometimes someone else's (admins, shared links). */
export const userId = (rng: Prng, c: DemoClient): number =>
  rng.chance(0.8) ? c.userId : rng.range(1, 2_000_000);
