import type { Prng } from './prng.ts';

/** Picks items with probability proportional to their weight; built once, picked millions of times. */
export class WeightedPool<T> {
  readonly items: readonly T[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new RangeError('WeightedPool needs at least one entry');
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let sum = 0;
    entries.forEach(([, weight], i) => {
      if (!(weight >= 0)) throw new RangeError(`WeightedPool weight ${weight} must be >= 0`);
      sum += weight;
      this.cumulative[i] = sum;
    });
    if (sum <= 0) throw new RangeError('WeightedPool needs a positive total weight');
    this.total = sum;
  }

  pick(rng: Prng): T {
    const target = rng.next() * this.total;
    const c = this.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((c[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo] as T;
  }

  /** Share of the total weight carried by items matching `predicate` (for tests and docs). */
  share(predicate: (item: T) => boolean): number {
    let w = 0;
    let prev = 0;
    this.items.forEach((item, i) => {
      const cum = this.cumulative[i] as number;
      if (predicate(item)) w += cum - prev;
      prev = cum;
    });
    return w / this.total;
  }
}
