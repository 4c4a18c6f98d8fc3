import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { installFastSequence, type KinesaliteDb, type SequenceFields } from './kinesalite-fast-sequence.ts';

const require = createRequire(import.meta.url);

/** Kinesalite's own `db` functions, loaded apart from the module object the local stack patches. */
const pristineDb = (): KinesaliteDb => {
  const key = require.resolve('kinesalite/db/index.js');
  const shared = require.cache[key];
  delete require.cache[key];
  try {
    return require(key) as KinesaliteDb;
  } finally {
    if (shared) require.cache[key] = shared;
    else delete require.cache[key];
  }
};

const md5Hex = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const outcome = (f: () => unknown): unknown => {
  try {
    return { value: f() };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

describe('kinesalite fast sequence numbers', () => {
  const slow = pristineDb();
  const fast: KinesaliteDb = {
    parseSequence: slow.parseSequence,
    stringifySequence: slow.stringifySequence,
    partitionKeyToHashKey: slow.partitionKeyToHashKey,
  };
  installFastSequence(fast, md5Hex);

  it('replaces the three functions', () => {
    expect(fast.parseSequence).not.toBe(slow.parseSequence);
    expect(fast.stringifySequence).not.toBe(slow.stringifySequence);
    expect(fast.partitionKeyToHashKey).not.toBe(slow.partitionKeyToHashKey);
  });

  it('formats and parses sequence numbers exactly as kinesalite does', () => {
    const next = random(7);
    const int = (max: number) => Math.floor(next() * max);
    for (let i = 0; i < 5_000; i++) {
      const fields: SequenceFields = {
        shardCreateTime: [0, 1_795_000_000_000 + int(1e9), int(16025175000) * 1000, 16025175000 * 1000][
          int(4)
        ]!,
        shardIx: [0, 1, int(100), int(2 ** 31), -1 - int(5), undefined][int(6)],
        seqIx: [
          0,
          int(1000),
          String(int(2 ** 31)),
          (2n ** 63n - 1n - BigInt(int(1000))).toString(),
          2 ** 60,
          '',
          undefined,
        ][int(7)],
        seqTime: [undefined, 0, 1_795_000_000_000 + int(1e9), Number.NaN][int(4)],
        byte1: [undefined, '00', 'ab'][int(3)],
        version: [undefined, null, 2, 2, 1, 0][int(6)],
      };
      const text = outcome(() => slow.stringifySequence({ ...fields }));
      expect(
        outcome(() => fast.stringifySequence({ ...fields })),
        JSON.stringify(fields),
      ).toEqual(text);
      const seq = (text as { value?: string }).value;
      if (seq !== undefined) {
        expect(
          outcome(() => fast.parseSequence(seq)),
          seq,
        ).toEqual(outcome(() => slow.parseSequence(seq)));
      }
    }
  });

  it('parses any other input as kinesalite does, errors included', () => {
    const next = random(11);
    const inputs = ['', '0', '1', 'abc', '1.5', '-3', '0x10', ' 12', `${2n ** 124n}`, `${2n ** 185n + 2n}`];
    for (let i = 0; i < 2_000; i++) {
      let digits = String(1 + Math.floor(next() * 9));
      const length = Math.floor(next() * 60);
      for (let d = 0; d < length; d++) digits += String(Math.floor(next() * 10));
      inputs.push(digits);
    }
    for (const input of inputs) {
      expect(
        outcome(() => fast.parseSequence(input)),
        input,
      ).toEqual(outcome(() => slow.parseSequence(input)));
    }
  });

  it('hashes partition keys to the same place in the key space', () => {
    const next = random(3);
    for (let i = 0; i < 2_000; i++) {
      const key = `${i}-${next().toString(36)}-ünï`;
      const reference = slow.partitionKeyToHashKey(key) as unknown as {
        toFixed(): string;
        comparedTo(o: unknown): number;
      };
      const hashed = fast.partitionKeyToHashKey(key);
      const bound = (BigInt(Math.floor(next() * 2 ** 52)) * 2n ** 76n).toString();
      const fractional = `${bound}.5`;
      for (const other of [
        bound,
        reference.toFixed(),
        0,
        '340282366920938463463374607431768211455',
        fractional,
        12.5,
      ]) {
        expect(hashed.comparedTo(other), `${key} vs ${other}`).toBe(reference.comparedTo(other));
      }
    }
  });
});
