import { hashKey128 } from './key-hash.ts';

export { dedupeKey, type RequestKey, requestKey } from './request-key.ts';

export interface DeduplicatorOptions {
  /** A key seen again within this many milliseconds of its first sighting is a duplicate. */
  readonly windowMs: number;
  /** At most this many keys are remembered; beyond it the oldest are forgotten first. */
  readonly maxKeys?: number;
  /**
   * Seed of `isDuplicate`'s hash (random when not given). Hashes given to `isDuplicateHash` are
   * taken as they are: whoever computes them chooses the seed (a pipeline's record stages share one).
   */
  readonly seed?: number;
}

const DEFAULT_MAX_KEYS = 1_000_000;

/** A random 32-bit seed for `hashKey128`: which keys would collide in one run says nothing of the next. */
export const randomKeySeed = (): number => (Math.random() * 0x1_0000_0000) | 0;
/** Expired keys are swept every this many calls, so that the sweep's cost is amortised. */
const SWEEP_EVERY = 1_024;
/** Ring slots allocated at first; the ring doubles from here up to what `maxKeys` needs. */
const INITIAL_SLOTS = 1_024;

/**
 * Ring slot layout, in 32-bit words: the 128-bit hash in words 0-3, the first-seen ms as a float64
 * in words 4-5, which is float64 number `slot * 3 + 2`.
 */
const SLOT_WORDS = 6;
const SLOT_BYTES = SLOT_WORDS * 4;
/** Index cell that points at no slot. */
const EMPTY = -1;

/**
 * Remembers request keys for a time window, in bounded memory, at O(1) per call.
 *
 * A key is not kept, only its 128-bit MurmurHash3 (`key-hash.ts`) and the time of its first
 * sighting: 24 bytes in a ring, plus 2-4 index cells of 4 bytes (the index is a power of two at
 * least twice maxKeys, so at most half full). Measured at the default 1,000,000 keys: 34 bytes per
 * key, 34 MB, where a Map of the 60-100 character keys took ~325 bytes per key.
 *
 * Collisions: two different keys are taken for the same one only if all 128 bits of their hashes
 * agree. Among n remembered keys, a new key collides with one with probability about n / 2^128,
 * ~3e-33 per call for a million keys, so below 1e-12 even over 10^20 calls: negligible next to
 * a disk flipping a bit. The hash is seeded at random per instance (or per pipeline, whose record stages hash the keys: `isDuplicateHash`), so which keys would collide in one run
 * says nothing about the next. MurmurHash3 is not cryptographic: someone who crafts keys to collide
 * can get their own second request dropped, which a resend of it would be anyway.
 *
 * The ring holds sightings in insertion order (head oldest). A key is (re)inserted only at its
 * first sighting in a window, so while time moves forward the head is the oldest sighting: expiry
 * and eviction only look at the head. Slightly out-of-order times (several shards) only delay an
 * expiry, never break one. A duplicate does not extend its key's life: Fluent Bit's resends
 * happen within minutes of the first send, and a window from the first sighting bounds how long
 * anything is held. A key seen again after its window leaves a dead slot (time NaN) where its old
 * sighting was and is appended anew. Dead slots are dropped when the sweep reaches them, which
 * with times moving forward is always before the ring fills; when a late shard's times keep an
 * unexpired sighting ahead of them, a full ring is compacted instead, which a slack of maxKeys/16
 * spare slots keeps amortised O(1).
 *
 * The index maps a hash to its ring slot: linear probing from the hash's low bits, and deletion
 * by backward shift (no tombstones, so probes never lengthen with churn). Memory grows with what
 * is remembered: the ring starts at 1,024 slots and doubles up to maxKeys + slack, so a small or
 * quiet deduplicator does not hold 35 MB.
 */
export class Deduplicator {
  private readonly windowMs: number;
  private readonly maxKeys: number;
  /** Ring slots the ring may grow to: maxKeys plus room for dead slots. */
  private readonly maxSlots: number;
  /** Seed of `isDuplicate`'s hash. */
  readonly seed: number;
  /** The 128-bit hash of the key being looked up. */
  private readonly hash = new Int32Array(4);
  /** The hash of a key given as a string. */
  private readonly given = new Int32Array(4);

  /** The ring, as 32-bit words and as float64s over the same bytes. */
  private words: Int32Array;
  private times: Float64Array;
  private slots: number;
  /** Slot of the oldest sighting. */
  private head = 0;
  /** Slots in use from the head, dead ones included. */
  private used = 0;
  /** Live (remembered) keys. */
  private live = 0;

  /** Open-addressing index: ring slot per cell, or EMPTY. Its length is a power of two. */
  private index: Int32Array;
  private mask: number;

  private calls = 0;
  /** Keys forgotten because `maxKeys` was reached before their window ended. */
  evicted = 0;

  constructor(options: DeduplicatorOptions) {
    if (!(options.windowMs >= 0)) throw new RangeError(`windowMs must be >= 0, got ${options.windowMs}`);
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!(maxKeys >= 1)) throw new RangeError(`maxKeys must be >= 1, got ${maxKeys}`);
    this.windowMs = options.windowMs;
    this.maxKeys = Math.ceil(maxKeys);
    this.maxSlots = this.maxKeys + Math.max(16, Math.ceil(this.maxKeys / 16));
    this.seed = options.seed ?? randomKeySeed();
    // A zero window remembers nothing, so it needs no storage.
    this.slots = this.windowMs === 0 ? 0 : Math.min(INITIAL_SLOTS, this.maxSlots);
    const buffer = new ArrayBuffer(this.slots * SLOT_BYTES);
    this.words = new Int32Array(buffer);
    this.times = new Float64Array(buffer);
    this.index = new Int32Array(this.indexCellsFor(this.slots)).fill(EMPTY);
    this.mask = this.index.length - 1;
  }

  /** Number of keys currently remembered. */
  get size(): number {
    return this.live;
  }

  /** True if `key` was first seen less than `windowMs` before `nowMs` (drop it); else remembers it. */
  isDuplicate(key: string, nowMs: number): boolean {
    hashKey128(key, this.seed, this.given);
    return this.isDuplicateHash(this.given, 0, nowMs);
  }

  /**
   * `isDuplicate` for a key given as its 128-bit hash, `hashes[at … at + 3]` (`hashKey128`): a
   * record stage hashes each row's key where it makes the row, so the keys themselves never reach
   * the thread that deduplicates.
   */
  isDuplicateHash(hashes: Int32Array, at: number, nowMs: number): boolean {
    if (++this.calls === SWEEP_EVERY) {
      this.calls = 0;
      this.sweep(nowMs);
    }
    if (this.windowMs === 0) return false;
    const hash = this.hash;
    hash[0] = hashes[at]!;
    hash[1] = hashes[at + 1]!;
    hash[2] = hashes[at + 2]!;
    hash[3] = hashes[at + 3]!;
    const cell = this.find(hash[0]!, hash[1]!, hash[2]!, hash[3]!);
    if (cell !== EMPTY) {
      const slot = this.index[cell]!;
      if (nowMs - this.times[slot * 3 + 2]! < this.windowMs) return true;
      // Seen before, but its window is over: a new first sighting, appended below.
      this.removeCell(cell);
      this.times[slot * 3 + 2] = Number.NaN;
      this.live--;
    }
    // NaN is the dead-slot mark, so a NaN time is not stored; the Map this replaced never matched it either.
    if (Number.isNaN(nowMs)) return false;
    if (this.live >= this.maxKeys) {
      this.sweep(nowMs);
      if (this.live >= this.maxKeys) this.evictOldest();
    }
    if (this.used === this.slots) this.makeRoom(nowMs);
    this.append(nowMs);
    return false;
  }

  /** The index cell holding the slot of this hash, or EMPTY. */
  private find(h0: number, h1: number, h2: number, h3: number): number {
    const { index, words, mask } = this;
    for (let cell = h0 & mask; ; cell = (cell + 1) & mask) {
      const slot = index[cell]!;
      if (slot === EMPTY) return EMPTY;
      const w = slot * SLOT_WORDS;
      if (words[w] === h0 && words[w + 1] === h1 && words[w + 2] === h2 && words[w + 3] === h3) return cell;
    }
  }

  /** Writes `this.hash` and `nowMs` at the ring's tail and indexes it. There must be a free slot. */
  private append(nowMs: number): void {
    let slot = this.head + this.used;
    if (slot >= this.slots) slot -= this.slots;
    const w = slot * SLOT_WORDS;
    const hash = this.hash;
    this.words[w] = hash[0]!;
    this.words[w + 1] = hash[1]!;
    this.words[w + 2] = hash[2]!;
    this.words[w + 3] = hash[3]!;
    this.times[slot * 3 + 2] = nowMs;
    this.used++;
    this.live++;
    this.indexSlot(slot);
  }

  private indexSlot(slot: number): void {
    const { index, mask } = this;
    let cell = this.words[slot * SLOT_WORDS]! & mask;
    while (index[cell] !== EMPTY) cell = (cell + 1) & mask;
    index[cell] = slot;
  }

  /** Empties `cell`, shifting back the entries of its probe run so that no probe stops early. */
  private removeCell(cell: number): void {
    const { index, words, mask } = this;
    let hole = cell;
    for (let next = (hole + 1) & mask; ; next = (next + 1) & mask) {
      const slot = index[next]!;
      if (slot === EMPTY) break;
      const home = words[slot * SLOT_WORDS]! & mask;
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        index[hole] = slot;
        hole = next;
      }
    }
    index[hole] = EMPTY;
  }

  /** Forgets the live slot at the head. */
  private dropHead(): void {
    const slot = this.head;
    const { index, words, mask } = this;
    let cell = words[slot * SLOT_WORDS]! & mask;
    while (index[cell] !== slot) cell = (cell + 1) & mask;
    this.removeCell(cell);
    this.live--;
    this.advanceHead();
  }

  private advanceHead(): void {
    this.used--;
    if (++this.head === this.slots) this.head = 0;
  }

  private skipDeadHeads(): void {
    while (this.used > 0 && Number.isNaN(this.times[this.head * 3 + 2]!)) this.advanceHead();
  }

  private sweep(nowMs: number): void {
    // Against a NaN time everything would look expired.
    if (Number.isNaN(nowMs)) return;
    for (;;) {
      this.skipDeadHeads();
      if (this.used === 0 || nowMs - this.times[this.head * 3 + 2]! < this.windowMs) return;
      this.dropHead();
    }
  }

  private evictOldest(): void {
    this.skipDeadHeads();
    this.dropHead();
    this.evicted++;
  }

  /** The ring is full: free a slot by expiry, by compacting out dead slots, or by growing. */
  private makeRoom(nowMs: number): void {
    this.sweep(nowMs);
    if (this.used < this.slots) return;
    // Growing doubles up to maxSlots; at maxSlots, live < maxKeys here, so at least the slack is
    // dead slots, and compacting frees them all for as many appends.
    const dead = this.used - this.live;
    const slots =
      this.slots === this.maxSlots || dead >= this.slots / 4
        ? this.slots
        : Math.min(this.slots * 2, this.maxSlots);
    this.rebuild(slots);
  }

  /** Copies the live slots, oldest first, into a ring of `slots` slots from slot 0, and re-indexes them. */
  private rebuild(slots: number): void {
    const oldWords = this.words;
    const oldTimes = this.times;
    const oldSlots = this.slots;
    let words = oldWords;
    let times = oldTimes;
    if (slots !== oldSlots) {
      const buffer = new ArrayBuffer(slots * SLOT_BYTES);
      words = new Int32Array(buffer);
      times = new Float64Array(buffer);
    }
    // In place, the write position never passes the read position, so nothing is overwritten unread.
    let to = 0;
    let from = this.head;
    const start = this.head;
    for (let n = 0; n < this.used; n++) {
      const t = oldTimes[from * 3 + 2]!;
      if (!Number.isNaN(t)) {
        const dst = slots === oldSlots ? (start + to) % slots : to;
        if (dst !== from || words !== oldWords) {
          const s = from * SLOT_WORDS;
          const d = dst * SLOT_WORDS;
          words[d] = oldWords[s]!;
          words[d + 1] = oldWords[s + 1]!;
          words[d + 2] = oldWords[s + 2]!;
          words[d + 3] = oldWords[s + 3]!;
          times[dst * 3 + 2] = t;
        }
        to++;
      }
      if (++from === oldSlots) from = 0;
    }
    this.words = words;
    this.times = times;
    this.slots = slots;
    if (slots !== oldSlots) this.head = 0;
    this.used = to;
    this.live = to;
    const cells = this.indexCellsFor(slots);
    if (cells !== this.index.length) {
      this.index = new Int32Array(cells);
      this.mask = cells - 1;
    }
    this.index.fill(EMPTY);
    for (let n = 0, slot = this.head; n < to; n++) {
      this.indexSlot(slot);
      if (++slot === slots) slot = 0;
    }
  }

  /** Index cells for a ring of `slots`: a power of two at least twice the live keys it can hold, so probes stay short. */
  private indexCellsFor(slots: number): number {
    const keys = Math.max(1, Math.min(slots, this.maxKeys));
    let cells = 2;
    while (cells < 2 * keys) cells *= 2;
    return cells;
  }
}
