/**
 * Faster sequence-number arithmetic for the local Kinesis (kinesalite 3.x).
 *
 * Kinesalite converts every record's sequence number and partition-key hash between decimal and
 * hexadecimal with `bignumber.js`, in JavaScript, several times per record: parsing the shard's
 * starting sequence number and formatting a new one on each PutRecords entry, parsing every
 * record's number again on each GetRecords. In a burst of the demo producer that was a third of the
 * emulator's thread, and reads queued behind it (measured: GetRecords of ~1,000 records took ~1 s).
 *
 * These replacements give the same results with the engine's native BigInt, for the inputs the
 * emulator produces and receives (digit strings, version-2 sequence numbers, MD5 hash keys), and
 * hand anything else to kinesalite's own function, so an odd input fails or succeeds exactly as
 * before. `kinesalite-fast-sequence.test.ts` checks them against the originals.
 */

/** The functions of kinesalite's `db` module that are replaced; the rest is left as it is. */
export interface KinesaliteDb {
  parseSequence(seq: string): SequenceFields;
  stringifySequence(fields: SequenceFields): string;
  partitionKeyToHashKey(partitionKey: string): { comparedTo(other: unknown): number };
}

export interface SequenceFields {
  shardCreateTime: number;
  seqIx?: string | number;
  byte1?: string;
  seqTime?: number;
  seqRand?: string;
  shardIx?: number;
  version?: number | null;
}

const P124 = 1n << 124n;
const P125_TIMES_16 = (1n << 125n) * 16n;
const P185 = 1n << 185n;
const P185_TIMES_1_5 = (1n << 184n) * 3n;
const DIGITS = /^\d+$/;

/** Hex of the low `width` digits of a non-negative integer, zero-padded (as kinesalite's slices). */
const hexTail = (value: number, width: number): string =>
  value.toString(16).padStart(width, '0').slice(-width);

type Comparable = { comparedTo(other: unknown): number };

/**
 * A hash key: compares with whole decimal strings, numbers and bigints natively; anything else
 * (a fractional bound that kinesalite's SplitShard lets through, a BigNumber) is compared by
 * kinesalite's own hash key, made only then.
 */
class HashKey {
  private static readonly decimals = new Map<string, bigint>();
  private slow: Comparable | undefined;

  constructor(
    private readonly value: bigint,
    private readonly slowHash: () => Comparable,
  ) {}

  private static toBigInt(other: unknown): bigint | undefined {
    if (typeof other === 'bigint') return other;
    if (typeof other === 'number') return Number.isSafeInteger(other) ? BigInt(other) : undefined;
    if (typeof other !== 'string' || !DIGITS.test(other)) return undefined;
    let parsed = HashKey.decimals.get(other);
    if (parsed === undefined) {
      parsed = BigInt(other);
      // Shard range bounds: a handful per stream; bounded in case of a long-lived emulator.
      if (HashKey.decimals.size >= 4096) HashKey.decimals.clear();
      HashKey.decimals.set(other, parsed);
    }
    return parsed;
  }

  comparedTo(other: unknown): number {
    const o = HashKey.toBigInt(other);
    if (o === undefined) {
      this.slow ??= this.slowHash();
      return this.slow.comparedTo(other);
    }
    return this.value < o ? -1 : this.value > o ? 1 : 0;
  }

  toFixed(): string {
    return this.value.toString();
  }

  toString(): string {
    return this.value.toString();
  }
}

/**
 * Replaces `parseSequence`, `stringifySequence` and `partitionKeyToHashKey` on kinesalite's `db`
 * module object; kinesalite's actions call them through that object, so they all see the new ones.
 * Idempotent.
 */
export function installFastSequence(db: KinesaliteDb, md5Hex: (text: string) => string): void {
  if ((db as { fastSequence?: boolean }).fastSequence) return;
  const slowParse = db.parseSequence;
  const slowStringify = db.stringifySequence;

  db.parseSequence = (seq: string): SequenceFields => {
    if (typeof seq !== 'string' || !DIGITS.test(seq)) return slowParse(seq);
    let n = BigInt(seq);
    if (n < P124) n += P124;
    if (!(n > P185 && n < P185_TIMES_1_5) || n < P125_TIMES_16) return slowParse(seq);
    const hex = n.toString(16);
    // Version 2, kinesalite's only current format: its last hex digit.
    if (hex.at(-1) !== '2') return slowParse(seq);
    const seqIxHex = hex.slice(11, 27);
    let shardIxHex = hex.slice(38, 46);
    if (Number.parseInt(seqIxHex[0]!, 16) > 7) return slowParse(seq);
    if (Number.parseInt(shardIxHex[0]!, 16) > 7) shardIxHex = `-${shardIxHex}`;
    const shardCreateSecs = Number.parseInt(hex.slice(1, 10), 16);
    if (shardCreateSecs >= 16025175000) return slowParse(seq);
    return {
      shardCreateTime: shardCreateSecs * 1000,
      seqIx: BigInt(`0x${seqIxHex}`).toString(),
      byte1: hex.slice(27, 29),
      seqTime: Number.parseInt(hex.slice(29, 38), 16) * 1000,
      shardIx: Number.parseInt(shardIxHex, 16),
      version: 2,
    };
  };

  db.stringifySequence = (fields: SequenceFields): string => {
    const { seqIx = 0 } = fields;
    const plainSeqIx =
      (typeof seqIx === 'number' && Number.isSafeInteger(seqIx) && seqIx >= 0) ||
      (typeof seqIx === 'string' && DIGITS.test(seqIx));
    const shardIx = fields.shardIx ?? 0;
    if (
      !(fields.version == null || fields.version === 2) ||
      !plainSeqIx ||
      !Number.isSafeInteger(shardIx) ||
      shardIx < 0 ||
      !Number.isFinite(fields.shardCreateTime) ||
      fields.shardCreateTime < 0 ||
      (fields.seqTime !== undefined && !(Number.isFinite(fields.seqTime) && fields.seqTime >= 0))
    ) {
      return slowStringify(fields);
    }
    const hex =
      '2' +
      hexTail(Math.floor(fields.shardCreateTime / 1000), 9) +
      shardIx.toString(16).slice(-1) +
      BigInt(seqIx).toString(16).padStart(16, '0').slice(-16) +
      (fields.byte1 || '00') +
      hexTail(Math.floor((fields.seqTime || fields.shardCreateTime) / 1000), 9) +
      hexTail(shardIx, 8) +
      '2';
    return BigInt(`0x${hex}`).toString();
  };

  const slowHash = db.partitionKeyToHashKey;
  db.partitionKeyToHashKey = (partitionKey: string) =>
    new HashKey(BigInt(`0x${md5Hex(partitionKey)}`), () => slowHash(partitionKey));
  (db as { fastSequence?: boolean }).fastSequence = true;
}
