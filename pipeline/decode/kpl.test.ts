import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors.ts';
import { aggregate, deaggregate, isKplAggregated, type KplSubRecord } from './kpl.ts';
import { ProtoWriter } from './proto-writer.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const MAGIC = [0xf3, 0x89, 0x9a, 0xc2];

/** Wraps a protobuf body the way KPL does: magic, body, MD5 of the body. */
function wrap(body: Uint8Array): Uint8Array {
  return Uint8Array.from([...MAGIC, ...body, ...createHash('md5').update(body).digest()]);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof DecodeError ? e.reason : 'other';
  }
  return undefined;
}

describe('KPL aggregated records', () => {
  it('reads a hand-assembled record byte for byte', () => {
    // Prepare: partition_key_table = ["pk"], records = [{ partition_key_index: 0, data: "hi" }]
    const body = Uint8Array.of(0x0a, 0x02, 0x70, 0x6b, 0x1a, 0x06, 0x08, 0x00, 0x1a, 0x02, 0x68, 0x69);
    // Act
    const subs = deaggregate(wrap(body));
    // Assess
    expect(subs).toHaveLength(1);
    expect(subs[0]!.partitionKey).toBe('pk');
    expect(subs[0]!.explicitHashKey).toBeUndefined();
    expect(Buffer.from(subs[0]!.data).toString()).toBe('hi');
  });

  it('round-trips records through aggregate and deaggregate, sharing key tables', () => {
    // Prepare
    const big = new Uint8Array(70_000).fill(0x61);
    const records: KplSubRecord[] = [
      { partitionKey: 'a', data: text('{"n":1}\n') },
      { partitionKey: 'b', explicitHashKey: '340282366920938463463374607431768211455', data: big },
      { partitionKey: 'a', data: new Uint8Array(0) },
      { partitionKey: 'ключ', explicitHashKey: '1', data: text('x') },
    ];
    // Act
    const agg = aggregate(records);
    const back = deaggregate(agg);
    // Assess
    expect(isKplAggregated(agg)).toBe(true);
    expect(back.map((r) => r.partitionKey)).toEqual(['a', 'b', 'a', 'ключ']);
    expect(back.map((r) => r.explicitHashKey)).toEqual([
      undefined,
      records[1]!.explicitHashKey,
      undefined,
      '1',
    ]);
    expect(back.map((r) => Buffer.from(r.data).toString('hex'))).toEqual(
      records.map((r) => Buffer.from(r.data).toString('hex')),
    );
    // the "a" key is stored once
    expect(Buffer.from(agg).toString('latin1').split('\n\u0001a').length - 1).toBe(1);
  });

  it('skips fields it does not know, of every wire type', () => {
    // Prepare
    const inner = new ProtoWriter()
      .tag(4, 2)
      .bytes(text('tag'))
      .tag(1, 0)
      .varint(0)
      .tag(3, 2)
      .bytes(text('payload'))
      .tag(15, 5)
      .finish();
    const fixed32 = Uint8Array.of(1, 2, 3, 4);
    const body = new ProtoWriter()
      .tag(9, 0)
      .varint(2 ** 40)
      .tag(1, 2)
      .bytes(text('pk'))
      .tag(10, 1)
      .finish();
    const full = Uint8Array.from([
      ...body,
      ...new Uint8Array(8),
      ...new ProtoWriter()
        .tag(3, 2)
        .bytes(Uint8Array.from([...inner, ...fixed32]))
        .finish(),
    ]);
    // Act
    const subs = deaggregate(wrap(full));
    // Assess
    expect(subs.map((s) => Buffer.from(s.data).toString())).toEqual(['payload']);
  });

  it('is not fooled by plain JSON or short data', () => {
    expect(isKplAggregated(text('{"a":1}\n'))).toBe(false);
    expect(isKplAggregated(Uint8Array.of(...MAGIC, 1, 2))).toBe(false);
  });

  it('refuses a record whose MD5 does not match', () => {
    // Prepare
    const agg = aggregate([{ partitionKey: 'a', data: text('x') }]);
    agg[agg.length - 1]! ^= 0xff;
    // Act / Assess
    expect(codeOf(() => deaggregate(agg))).toBe('kpl_corrupt');
  });

  it('refuses truncated or inconsistent protobuf even with a valid MD5', () => {
    const cases: Record<string, Uint8Array> = {
      truncatedLength: Uint8Array.of(0x0a, 0x05, 0x70),
      truncatedVarint: Uint8Array.of(0x0a, 0x01, 0x70, 0x1a, 0x02, 0x08, 0x80),
      missingData: new ProtoWriter()
        .tag(1, 2)
        .bytes(text('pk'))
        .tag(3, 2)
        .bytes(Uint8Array.of(0x08, 0x00))
        .finish(),
      keyOutOfRange: new ProtoWriter()
        .tag(3, 2)
        .bytes(new ProtoWriter().tag(1, 0).varint(3).tag(3, 2).bytes(text('x')).finish())
        .finish(),
      hashKeyOutOfRange: new ProtoWriter()
        .tag(1, 2)
        .bytes(text('pk'))
        .tag(3, 2)
        .bytes(new ProtoWriter().tag(1, 0).varint(0).tag(2, 0).varint(0).tag(3, 2).bytes(text('x')).finish())
        .finish(),
      wrongWireType: Uint8Array.of(0x08, 0x01),
      group: Uint8Array.of(0x23),
      badUtf8Key: Uint8Array.of(0x0a, 0x01, 0xff),
    };
    for (const [name, body] of Object.entries(cases)) {
      expect({ name, code: codeOf(() => deaggregate(wrap(body))) }).toEqual({ name, code: 'kpl_corrupt' });
    }
  });

  it('says what happened and what to do', () => {
    const agg = aggregate([{ partitionKey: 'a', data: text('x') }]);
    agg[5]! ^= 1;
    expect(() => deaggregate(agg)).toThrow(/MD5.*dead-letter/);
  });
});
