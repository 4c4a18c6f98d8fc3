import { hex } from './hex.ts';

/**
 * Mulberry32: a tiny, fast, seedable PRNG. Not for secrets; for reproducible demo traffic.
 *
 * `reseed` lets one instance serve many independent streams (one per log index) without
 * allocating, which is what makes `createRequestLog(index)` random-access and deterministic.
 */
export class Prng {
  private state: number;

  constructor(seed = 1) {
    this.state = seed >>> 0;
  }

  /** Starts the stream of `(seed, index)`; distinct indexes give unrelated streams. */
  reseed(seed: number, index = 0): this {
    this.state = Prng.mix(seed, index);
    return this;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4_294_967_296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [min, max]. */
  range(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)] as T;
  }

  /** Log-normal with the given median and shape (sigma of the underlying normal). */
  logNormal(median: number, sigma: number): number {
    // Box-Muller; 1 - next() keeps the logarithm finite.
    const z = Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
    return median * Math.exp(sigma * z);
  }

  /** `length` lower-case hex digits. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += hex.u32(this.u32());
    return out.length === length ? out : out.slice(0, length);
  }

  /** `length` characters of [A-Za-z0-9]. */
  alnum(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += ALNUM[this.int(ALNUM.length)];
    return out;
  }

  /** A 32-bit hash of (seed, index) with good avalanche, so neighbouring indexes look unrelated. */
  static mix(seed: number, index: number): number {
    let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index >>> 0, 0xc2b2ae35);
    h ^= Math.floor(index / 4_294_967_296);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    return (h ^ (h >>> 16)) >>> 0;
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
