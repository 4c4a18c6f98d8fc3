/**
 * A small direct-mapped cache for string keys, in front of a bigger cache or of the work itself.
 *
 * Each key has one slot, chosen from its length and a few of its characters (all of them when it
 * is short); a new key takes the slot from whatever held it. A hit is one array read and one
 * string comparison. A `Map` or `Set` look-up hashes the whole key first (the strings of a
 * freshly parsed log have no hash yet), and a map of tens of thousands of entries misses the CPU
 * cache; here the few hundred values that make up most traffic (hosts, user agents, client IPs)
 * stay in a table of a few kilobytes.
 *
 * At most `slots` entries are held. Values must not be `undefined` (that is how a miss is told).
 */
export class HotCache<V> {
  private readonly keys: string[];
  private readonly values: (V | undefined)[];
  private readonly mask: number;

  constructor(slots: number) {
    if (!Number.isInteger(slots) || slots < 2 || (slots & (slots - 1)) !== 0 || slots > 1 << 20) {
      throw new RangeError(
        `HotCache: slots must be a power of two from 2 to 2^20, got ${slots}; pass e.g. 4096`,
      );
    }
    this.keys = new Array<string>(slots).fill('');
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  get(key: string): V | undefined {
    const slot = slotOf(key) & this.mask;
    return this.keys[slot] === key ? this.values[slot] : undefined;
  }

  set(key: string, value: V): void {
    const slot = slotOf(key) & this.mask;
    this.keys[slot] = key;
    this.values[slot] = value;
  }
}

/** Keys up to this long are hashed whole; longer ones by their length and eight characters. */
const FULL_HASH_LENGTH = 24;

/** A 32-bit hash of `text`, reading at most `FULL_HASH_LENGTH` characters. */
export const slotOf = (text: string): number => {
  const n = text.length;
  let h = Math.imul(n, 0x9e3779b1);
  if (n <= FULL_HASH_LENGTH) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  } else {
    const step = n >> 3;
    for (let i = 0; i < 8; i++) h = Math.imul(h ^ text.charCodeAt(i * step), 0x01000193);
    h = Math.imul(h ^ text.charCodeAt(n - 1), 0x01000193);
  }
  return (h ^ (h >>> 15)) >>> 0;
};
