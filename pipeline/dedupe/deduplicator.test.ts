import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deduplicator, dedupeKey } from './deduplicator.ts';
import { hashKey128 } from './key-hash.ts';

describe('Deduplicator', () => {
  it('drops a key seen again within the window, and only then', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 1_000 });
    // Act / Assess
    expect(d.isDuplicate('a', 0)).toBe(false);
    expect(d.isDuplicate('a', 999)).toBe(true);
    expect(d.isDuplicate('b', 999)).toBe(false);
    expect(d.isDuplicate('a', 1_000)).toBe(false); // window over: a new first sighting
    expect(d.isDuplicate('a', 1_500)).toBe(true);
  });

  it('takes a key given as its hash (a record stage hashes it) as the same key given as a string, with the same seed', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 1_000, seed: 7 });
    const hashes = new Int32Array(12);
    hashKey128('a', 7, hashes.subarray(4, 8));
    hashKey128('a', 8, hashes.subarray(8, 12));
    // Act / Assess
    expect(d.isDuplicate('a', 0)).toBe(false);
    expect(d.isDuplicateHash(hashes, 4, 10)).toBe(true);
    // Another seed is another hash: the stages of one pipeline share theirs with its deduplicator.
    expect(d.isDuplicateHash(hashes, 8, 20)).toBe(false);
    expect(d.isDuplicate('a', 1_000)).toBe(false); // window over
    expect(d.isDuplicateHash(hashes, 4, 1_100)).toBe(true);
    expect(d.seed).toBe(7);
  });

  it('measures the window from the first sighting, not the latest duplicate', () => {
    const d = new Deduplicator({ windowMs: 1_000 });
    d.isDuplicate('a', 0);
    d.isDuplicate('a', 900);
    expect(d.isDuplicate('a', 1_100)).toBe(false);
  });

  it('treats an earlier time than the first sighting (another shard) as within the window', () => {
    const d = new Deduplicator({ windowMs: 1_000 });
    d.isDuplicate('a', 5_000);
    expect(d.isDuplicate('a', 4_900)).toBe(true);
  });

  it('never remembers more than maxKeys, forgetting the oldest first', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 60_000, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd']) d.isDuplicate(k, 0);
    // Assess
    expect(d.size).toBe(3);
    expect(d.evicted).toBe(1);
    expect(d.isDuplicate('d', 1)).toBe(true);
    expect(d.isDuplicate('b', 1)).toBe(true);
    expect(d.isDuplicate('a', 1)).toBe(false); // forgotten
  });

  it('frees expired keys as time passes', () => {
    const d = new Deduplicator({ windowMs: 100 });
    for (let i = 0; i < 5_000; i++) d.isDuplicate(`k${i}`, i);
    expect(d.size).toBeLessThan(100 + 1_100);
    expect(d.evicted).toBe(0);
  });

  it('forgets nothing early when expired keys can make room', () => {
    const d = new Deduplicator({ windowMs: 10, maxKeys: 2 });
    d.isDuplicate('a', 0);
    d.isDuplicate('b', 0);
    d.isDuplicate('c', 20);
    expect(d.evicted).toBe(0);
    expect(d.size).toBe(1);
  });

  it('with a zero window, nothing is a duplicate and nothing is kept', () => {
    const d = new Deduplicator({ windowMs: 0 });
    expect(d.isDuplicate('a', 0)).toBe(false);
    expect(d.isDuplicate('a', 0)).toBe(false);
    expect(d.size).toBe(0);
  });

  it('refuses nonsensical options', () => {
    expect(() => new Deduplicator({ windowMs: -1 })).toThrow(RangeError);
    expect(() => new Deduplicator({ windowMs: 1, maxKeys: 0 })).toThrow(RangeError);
  });
});

/** The Map-based Deduplicator this one replaced, as the reference for what each call must answer. */
class MapModel {
  private readonly seen = new Map<string, number>();
  private calls = 0;
  evicted = 0;
  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}
  get size(): number {
    return this.seen.size;
  }
  isDuplicate(key: string, nowMs: number): boolean {
    if (++this.calls === 1_024) {
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
      if (this.seen.size >= this.maxKeys) {
        const [oldest] = this.seen.keys();
        this.seen.delete(oldest!);
        this.evicted++;
      }
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
}

/** A key shaped like `dedupeKey`'s: project, request id, time in µs. */
const requestKeyOf = (i: number): string =>
  dedupeKey(
    `proj-${(i % 37).toString(36).padStart(6, '0')}`,
    `${((i * 2_654_435_761) >>> 0).toString(16).padStart(8, '0')}-9c1f-4b7e-a0d3-${i.toString(16).padStart(12, '0')}`,
    1_795_000_000_000_000n + BigInt(i * 17),
  );

describe('Deduplicator in typed arrays', () => {
  it('answers every call as the Map it replaced, through ring wrap-around, expiry, re-sightings and eviction', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 3 })), {
          maxLength: 3_000,
        }),
        (maxKeys, windowMs, calls) => {
          // Prepare
          const d = new Deduplicator({ windowMs, maxKeys });
          const model = new MapModel(windowMs, maxKeys);
          let now = 1_795_000_000_000;
          // Act / Assess: times never go back, so expiry and eviction must agree call for call.
          for (const [key, step] of calls) {
            now += step;
            expect(d.isDuplicate(`k${key}`, now)).toBe(model.isDuplicate(`k${key}`, now));
            expect(d.evicted).toBe(model.evicted);
            expect(d.size).toBeLessThanOrEqual(Math.min(model.size, maxKeys));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps answering right after its ring has wrapped around many times', () => {
    // Prepare: up to 200 keys at a time in a ring of 266 slots, 5,000 ms of keys with a 100 ms window.
    const d = new Deduplicator({ windowMs: 100, maxKeys: 250 });
    // Act / Assess
    for (let i = 0; i < 5_000; i++) {
      expect(d.isDuplicate(`k${i}`, i)).toBe(false);
      if (i >= 50) expect(d.isDuplicate(`k${i - 50}`, i)).toBe(true); // 50 ms after its first sighting
      if (i >= 100) expect(d.isDuplicate(`k${i - 100}`, i)).toBe(false); // 100 ms after: a new first sighting
    }
    expect(d.evicted).toBe(0);
    expect(d.size).toBeLessThanOrEqual(250);
  });

  it.each([100, 10_000])(
    'compacts re-sighted keys out of a full ring when a late shard keeps the oldest entry alive (maxKeys %i)',
    (maxKeys) => {
      // Prepare: the ring's head is a sighting at 1,000 ms; behind it, a late shard's keys at 0 ms.
      const d = new Deduplicator({ windowMs: 100, maxKeys });
      const model = new MapModel(100, maxKeys);
      const call = (key: string, nowMs: number): boolean => {
        const answer = d.isDuplicate(key, nowMs);
        expect(answer).toBe(model.isDuplicate(key, nowMs));
        return answer;
      };
      const n = Math.floor(maxKeys * 0.6);
      call('head', 1_000);
      for (let i = 0; i < n; i++) call(`e${i}`, 0);
      // Act: re-sighting them after their window leaves dead slots the sweep cannot reach past the head.
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < n; i++) expect(call(`e${i}`, 1_050 + round * 200)).toBe(false);
        for (let i = 0; i < n; i++) expect(call(`e${i}`, 1_060 + round * 200)).toBe(true);
        if (round === 0) expect(call('head', 1_060)).toBe(true);
      }
      // Assess
      expect(d.evicted).toBe(model.evicted);
      expect(d.evicted).toBe(0);
      expect(d.size).toBeLessThanOrEqual(model.size);
    },
  );

  it('forgets the oldest keys at maxKeys and counts them', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 60_000, maxKeys: 1_000 });
    // Act
    for (let i = 0; i < 1_500; i++) d.isDuplicate(requestKeyOf(i), 0);
    // Assess
    expect(d.size).toBe(1_000);
    expect(d.evicted).toBe(500);
    for (let i = 500; i < 1_500; i++) expect(d.isDuplicate(requestKeyOf(i), 1)).toBe(true);
    expect(d.isDuplicate(requestKeyOf(499), 1)).toBe(false); // forgotten, so a first sighting again
    expect(d.evicted).toBe(501);
  });

  it('forgets keys once their window is over, and holds no more than a window of them', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 1_000 });
    // Act: one key per ms for 20 windows.
    for (let i = 0; i < 20_000; i++) d.isDuplicate(`k${i}`, i);
    // Assess
    expect(d.size).toBeLessThanOrEqual(1_000 + 1_024);
    expect(d.evicted).toBe(0);
    expect(d.isDuplicate('k19000', 19_999)).toBe(true);
    expect(d.isDuplicate('k19000', 20_000)).toBe(false);
    expect(d.isDuplicate('k5', 20_000)).toBe(false);
  });

  it('grows from a small start to maxKeys, remembering everything on the way', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 60_000, maxKeys: 100_000 });
    // Act
    let duplicates = 0;
    for (let i = 0; i < 100_000; i++) if (d.isDuplicate(requestKeyOf(i), i >> 4)) duplicates++;
    // Assess
    expect(duplicates).toBe(0);
    expect(d.size).toBe(100_000);
    let found = 0;
    for (let i = 0; i < 100_000; i += 7) if (d.isDuplicate(requestKeyOf(i), 10_000)) found++;
    expect(found).toBe(Math.ceil(100_000 / 7));
    expect(d.evicted).toBe(0);
  });

  it('does not allocate for maxKeys up front', () => {
    // Prepare
    const before = process.memoryUsage().arrayBuffers;
    // Act
    const d = new Deduplicator({ windowMs: 60_000, maxKeys: 10_000_000 });
    d.isDuplicate('a', 0);
    // Assess: 10M keys would take ~340 MB; a small start takes ~30 kB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1_000_000);
  });

  it('tells 200,000 request keys apart and finds exactly the duplicates among them', () => {
    // Prepare
    const d = new Deduplicator({ windowMs: 600_000 });
    let falseDuplicates = 0;
    for (let i = 0; i < 200_000; i++) if (d.isDuplicate(requestKeyOf(i), i >> 4)) falseDuplicates++;
    // Act: every 1,000th key again, among 50,000 new ones.
    let found = 0;
    for (let i = 200_000; i < 250_000; i++) {
      if (d.isDuplicate(requestKeyOf(i), 20_000)) falseDuplicates++;
      if (i % 250 === 0 && d.isDuplicate(requestKeyOf((i - 200_000) * 4), 20_000)) found++;
    }
    // Assess
    expect(falseDuplicates).toBe(0);
    expect(found).toBe(200);
    expect(d.size).toBe(250_000);
  });

  it('tells apart keys that differ in one character, at any position, or in length', () => {
    // Prepare
    const base = requestKeyOf(42);
    const variants = new Set<string>([base, `${base}\u0000`, base.slice(0, -1), `\u0000${base}`]);
    for (let at = 0; at < base.length; at++) {
      for (const c of ['0', 'a', '\u0000', '\u00e9', '\u4e2d', '\ud800', '\udfff']) {
        variants.add(base.slice(0, at) + c + base.slice(at + 1));
      }
    }
    const d = new Deduplicator({ windowMs: 60_000 });
    // Act / Assess
    for (const key of variants) expect(d.isDuplicate(key, 0)).toBe(false);
    for (const key of variants) expect(d.isDuplicate(key, 1)).toBe(true);
    expect(d.size).toBe(variants.size);
  });

  it('remembers nothing at a NaN time (an invalid arrival date), and forgets what it held for that key', () => {
    const d = new Deduplicator({ windowMs: 60_000 });
    expect(d.isDuplicate('a', 0)).toBe(false);
    expect(d.isDuplicate('a', Number.NaN)).toBe(false);
    expect(d.isDuplicate('a', Number.NaN)).toBe(false);
    expect(d.isDuplicate('b', 1)).toBe(false);
    expect(d.isDuplicate('b', 2)).toBe(true);
    expect(d.isDuplicate('a', 3)).toBe(false);
    expect(d.isDuplicate('a', 4)).toBe(true);
    expect(d.size).toBe(2);
    for (let i = 0; i < 2_048; i++) d.isDuplicate(`n${i}`, Number.NaN); // the periodic sweeps included
    expect(d.isDuplicate('b', 5)).toBe(true);
  });

  it('tells apart long keys that differ only at the end', () => {
    const d = new Deduplicator({ windowMs: 60_000 });
    const long = 'x'.repeat(5_000);
    expect(d.isDuplicate(`${long}a`, 0)).toBe(false);
    expect(d.isDuplicate(`${long}b`, 0)).toBe(false);
    expect(d.isDuplicate(`${long}a`, 0)).toBe(true);
    expect(d.isDuplicate('short', 0)).toBe(false);
  });
});

describe('hashKey128', () => {
  it.each([
    ['', 0, '00000000000000000000000000000000'],
    ['', 42, '95c80cba95c80cba95c80cbaaf6d2cb6'],
    ['a', 0, 'ccef4fe1ccef4fe1ccef4fe1033bb196'],
    ['abc', 42, 'c95ed140c95ed140c036e9835497bf8b'],
    ['hello world', 0, 'e2608236af2876b556ee3f7d8fbe58e5'],
    ['proj\u0000req-1\u00001795000000000000', 42, '07c39ceb63e85d051b4f7562df4e2863'],
    ['x'.repeat(15), 0, '22f1de191d95dcad500681af5552ed85'],
    ['é漢😀zé漢😀zé漢😀z', 42, 'ee7546f901163e9175880859400eb65f'],
  ])('hashes %j (seed %i) as MurmurHash3_x86_128 of its UTF-16LE bytes', (key, seed, expected) => {
    // Reference values from the mmh3 Python package: mmh3.hash128(key.encode('utf-16-le'), seed, x64arch=False).
    const out = new Int32Array(4);
    hashKey128(key, seed, out);
    const hex = [3, 2, 1, 0].map((i) => (out[i]! >>> 0).toString(16).padStart(8, '0')).join('');
    expect(hex).toBe(expected);
  });
});
