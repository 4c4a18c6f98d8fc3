export { dedupeKey, type RequestKey, requestKey } from './request-key.ts';

export interface DeduplicatorOptions {
  /** A key seen again within this many milliseconds of its first sighting is a duplicate. */
  readonly windowMs: number;
  /** At most this many keys are remembered; beyond it the oldest are forgotten first. */
  readonly maxKeys?: number;
}

const DEFAULT_MAX_KEYS = 1_000_000;
/** Expired keys are swept every this many calls, so that the sweep's cost is amortised. */
const SWEEP_EVERY = 1_024;

/**
 * Remembers request keys for a time window, in bounded memory, at O(1) per call.
 *
 * A Map keeps insertion order, and a key is (re)inserted only at its first sighting in a window,
 * so while time moves forward the Map's head is the oldest sighting: expiry and eviction only look
 * at the head. Slightly out-of-order times (several shards) only delay an expiry, never break one.
 * A duplicate does not extend its key's life: Fluent Bit's resends happen within minutes of the
 * first send, and a window from the first sighting bounds how long anything is held.
 */
export class Deduplicator {
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly seen = new Map<string, number>();
  private calls = 0;
  /** Keys forgotten because `maxKeys` was reached before their window ended. */
  evicted = 0;

  constructor(options: DeduplicatorOptions) {
    if (!(options.windowMs >= 0)) throw new RangeError(`windowMs must be >= 0, got ${options.windowMs}`);
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!(maxKeys >= 1)) throw new RangeError(`maxKeys must be >= 1, got ${maxKeys}`);
    this.windowMs = options.windowMs;
    this.maxKeys = maxKeys;
  }

  /** Number of keys currently remembered. */
  get size(): number {
    return this.seen.size;
  }

  /** True if `key` was first seen less than `windowMs` before `nowMs` (drop it); else remembers it. */
  isDuplicate(key: string, nowMs: number): boolean {
    if (++this.calls === SWEEP_EVERY) {
      this.calls = 0;
      this.sweep(nowMs);
    }
    const first = this.seen.get(key);
    if (first !== undefined) {
      if (nowMs - first < this.windowMs) return true;
      this.seen.delete(key);
    }
    if (this.windowMs === 0) return false;
    if (this.seen.size >= this.maxKeys) {
      this.sweep(nowMs);
      if (this.seen.size >= this.maxKeys) this.evictOldest();
    }
    this.seen.set(key, nowMs);
    return false;
  }

  private sweep(nowMs: number): void {
    for (const [key, first] of this.seen) {
      if (nowMs - first < this.windowMs) return;
      this.seen.delete(key);
    }
  }

  private evictOldest(): void {
    for (const key of this.seen.keys()) {
      this.seen.delete(key);
      this.evicted++;
      return;
    }
  }
}
