/**
 * MurmurHash3_x86_128 of a string's UTF-16LE code units: the same value as the reference C
 * function over the bytes of `Buffer.from(key, 'utf16le')` (exact for any string, lone surrogates
 * included, unlike UTF-8). The four 32-bit words are written to `out[0..3]`; nothing is allocated
 * but a larger scratch buffer for an unusually long key.
 *
 * Why this hash: it is 32-bit arithmetic only (`Math.imul`), which V8 runs without boxing, at
 * ~0.1 µs for an 80-character key; a 64-bit hash in JS needs BigInt or split halves and is several
 * times slower, and `node:crypto` costs ~1 µs per call in allocations alone. Not cryptographic: it
 * is for telling request keys apart, not for resisting someone who crafts them.
 */
export function hashKey128(key: string, seed: number, out: Int32Array): void {
  const length = key.length;
  if (scratch.length < length * 2 + 4) growScratch(length);
  // One native call copies the code units (flattening a concatenated key once); reading them back
  // with charCodeAt would cost a representation check per character, twice the whole hash.
  const bytes = scratch.write(key, 0, 'utf16le');
  // A zero code unit after the key makes the last partial word read as the reference's zero-padded tail.
  scratch[bytes] = 0;
  scratch[bytes + 1] = 0;
  const w = words;
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const blocksEnd = (bytes >>> 4) << 2;
  let i = 0;
  for (; i < blocksEnd; i += 4) {
    h1 ^= lane(w[i]!, C1, 15, C2);
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    h2 ^= lane(w[i + 1]!, C2, 16, C3);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    h3 ^= lane(w[i + 2]!, C3, 17, C4);
    h3 = (h3 << 15) | (h3 >>> 17);
    h3 = (h3 + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    h4 ^= lane(w[i + 3]!, C4, 18, C1);
    h4 = (h4 << 13) | (h4 >>> 19);
    h4 = (h4 + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // The tail: 0-14 bytes (0-7 code units), taken as the reference's fall-through switch takes them.
  const tail = bytes & 15;
  if (tail > 12) h4 ^= lane(w[i + 3]!, C4, 18, C1);
  if (tail > 8) h3 ^= lane(w[i + 2]!, C3, 17, C4);
  if (tail > 4) h2 ^= lane(w[i + 1]!, C2, 16, C3);
  if (tail > 0) h1 ^= lane(w[i]!, C1, 15, C2);

  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}

/** The key's UTF-16LE bytes, as bytes and as 32-bit words (little-endian, as on every platform Node ships for but s390x). */
let scratch = Buffer.from(new ArrayBuffer(1_024));
let words = new Int32Array(scratch.buffer);

function growScratch(length: number): void {
  let size = scratch.length;
  while (size < length * 2 + 4) size *= 2;
  scratch = Buffer.from(new ArrayBuffer(size));
  words = new Int32Array(scratch.buffer);
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789 | 0;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93 | 0;

/** One 32-bit block word mixed for its lane: multiply, rotate left by `rotate`, multiply. */
function lane(k: number, a: number, rotate: number, b: number): number {
  const m = Math.imul(k, a);
  return Math.imul((m << rotate) | (m >>> (32 - rotate)), b);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
