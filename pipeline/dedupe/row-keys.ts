/**
 * The request keys of a batch's rows as their 128-bit hashes (`hashKey128`), four 32-bit words a
 * row in one growable array: what a shard processor keeps of each row's identity until its batch
 * lands. Held as strings (`dedupeKey`, ~60-130 characters), they were most of the event loop's
 * heap under load (bench:pipeline, 300k records: 6.9 of 21 MB live), all of it promoted and
 * marked again by every full collection while the batch waited.
 */
export class RowKeys {
  private words = new Int32Array(4 * 256);
  /** Rows held. */
  length = 0;

  /** Appends the hash at `hashes[at … at + 3]`. */
  push(hashes: Int32Array, at: number): void {
    const w = 4 * this.length;
    if (w === this.words.length) {
      const next = new Int32Array(this.words.length * 2);
      next.set(this.words);
      this.words = next;
    }
    this.words[w] = hashes[at]!;
    this.words[w + 1] = hashes[at + 1]!;
    this.words[w + 2] = hashes[at + 2]!;
    this.words[w + 3] = hashes[at + 3]!;
    this.length++;
  }

  /** Row `i`'s hash as a string: a Map or Set key (`hashString`). */
  key(i: number): string {
    return hashString(this.words, 4 * i);
  }

  /** Forgets rows at these positions (ascending or not); the others keep their order. */
  remove(positions: readonly number[]): void {
    const gone = new Set(positions);
    let out = 0;
    for (let i = 0; i < this.length; i++) {
      if (gone.has(i)) continue;
      if (out !== i) this.words.copyWithin(4 * out, 4 * i, 4 * i + 4);
      out++;
    }
    this.length = out;
  }
}

/** The hash at `hashes[at … at + 3]` as a string of 32 hex digits. */
export const hashString = (hashes: Int32Array, at: number): string => {
  let out = '';
  for (let k = 0; k < 4; k++) out += (hashes[at + k]! >>> 0).toString(16).padStart(8, '0');
  return out;
};
