import { createHash } from 'node:crypto';
import { DecodeError } from '../errors.ts';
import { ProtoReader, ProtoTruncatedError, WireType } from './proto-reader.ts';
import { ProtoWriter } from './proto-writer.ts';

/**
 * KPL (Kinesis Producer Library) aggregated records: many user records packed in one Kinesis
 * record. Layout: magic `F3 89 9A C2`, a protobuf `AggregatedRecord`, then the MD5 of the protobuf.
 *
 *   AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2;
 *                      repeated Record records = 3; }
 *   Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *            required bytes data = 3; repeated Tag tags = 4; }
 */

export interface KplSubRecord {
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  /** The user record's bytes; a view into the aggregated record when deaggregated. */
  readonly data: Uint8Array;
}

const MAGIC = [0xf3, 0x89, 0x9a, 0xc2] as const;
const DIGEST_BYTES = 16;
const HEADER_BYTES = MAGIC.length;

const AGG_PARTITION_KEYS = 1;
const AGG_HASH_KEYS = 2;
const AGG_RECORDS = 3;
const REC_PARTITION_KEY_INDEX = 1;
const REC_HASH_KEY_INDEX = 2;
const REC_DATA = 3;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function isKplAggregated(data: Uint8Array): boolean {
  return (
    data.length >= HEADER_BYTES + DIGEST_BYTES &&
    data[0] === MAGIC[0] &&
    data[1] === MAGIC[1] &&
    data[2] === MAGIC[2] &&
    data[3] === MAGIC[3]
  );
}

interface RawRecord {
  pkIndex: number | undefined;
  ehkIndex: number | undefined;
  data: Uint8Array | undefined;
}

/** Splits a KPL aggregated record into its user records. Throws `DecodeError('kpl_corrupt')`. */
export function deaggregate(data: Uint8Array): KplSubRecord[] {
  if (!isKplAggregated(data)) {
    throw corrupt('the record does not start with the KPL magic bytes F3 89 9A C2 or is too short');
  }
  const end = data.length - DIGEST_BYTES;
  const digest = createHash('md5').update(data.subarray(HEADER_BYTES, end)).digest();
  for (let i = 0; i < DIGEST_BYTES; i++) {
    if (digest[i] !== data[end + i]) {
      throw corrupt('MD5 trailer does not match the protobuf body (record truncated or altered in transit)');
    }
  }

  const partitionKeys: string[] = [];
  const hashKeys: string[] = [];
  const raws: RawRecord[] = [];
  try {
    const r = new ProtoReader(data, HEADER_BYTES, end);
    while (!r.done) {
      const tag = r.tag();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === AGG_PARTITION_KEYS && wire === WireType.bytes) partitionKeys.push(utf8.decode(r.bytes()));
      else if (field === AGG_HASH_KEYS && wire === WireType.bytes) hashKeys.push(utf8.decode(r.bytes()));
      else if (field === AGG_RECORDS && wire === WireType.bytes) raws.push(readRecord(r.bytes()));
      else if (field >= 1 && field <= 3)
        throw new ProtoTruncatedError(`field ${field} has wire type ${wire}`);
      else r.skip(wire);
    }
  } catch (e) {
    if (e instanceof ProtoTruncatedError || e instanceof TypeError) {
      throw corrupt(`protobuf body is malformed: ${e.message}`, e);
    }
    throw e;
  }

  const out: KplSubRecord[] = new Array(raws.length);
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i]!;
    if (raw.pkIndex === undefined || raw.data === undefined) {
      throw corrupt(`sub-record ${i} lacks its required partition_key_index or data`);
    }
    const partitionKey = partitionKeys[raw.pkIndex];
    if (partitionKey === undefined) {
      throw corrupt(`sub-record ${i} points at partition key ${raw.pkIndex} of ${partitionKeys.length}`);
    }
    if (raw.ehkIndex === undefined) {
      out[i] = { partitionKey, data: raw.data };
      continue;
    }
    const explicitHashKey = hashKeys[raw.ehkIndex];
    if (explicitHashKey === undefined) {
      throw corrupt(`sub-record ${i} points at explicit hash key ${raw.ehkIndex} of ${hashKeys.length}`);
    }
    out[i] = { partitionKey, explicitHashKey, data: raw.data };
  }
  return out;
}

function readRecord(body: Uint8Array): RawRecord {
  const rec: RawRecord = { pkIndex: undefined, ehkIndex: undefined, data: undefined };
  const r = new ProtoReader(body);
  while (!r.done) {
    const tag = r.tag();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === REC_PARTITION_KEY_INDEX && wire === WireType.varint) rec.pkIndex = r.varint();
    else if (field === REC_HASH_KEY_INDEX && wire === WireType.varint) rec.ehkIndex = r.varint();
    else if (field === REC_DATA && wire === WireType.bytes) rec.data = r.bytes();
    else if (field >= 1 && field <= 3)
      throw new ProtoTruncatedError(`record field ${field} has wire type ${wire}`);
    else r.skip(wire);
  }
  return rec;
}

/** Packs user records into one KPL aggregated record (for tests, the demo producer and benches). */
export function aggregate(records: readonly KplSubRecord[]): Uint8Array {
  const pkIndex = new Map<string, number>();
  const ehkIndex = new Map<string, number>();
  for (const rec of records) {
    if (!pkIndex.has(rec.partitionKey)) pkIndex.set(rec.partitionKey, pkIndex.size);
    if (rec.explicitHashKey !== undefined && !ehkIndex.has(rec.explicitHashKey)) {
      ehkIndex.set(rec.explicitHashKey, ehkIndex.size);
    }
  }
  const w = new ProtoWriter();
  for (const key of pkIndex.keys()) w.tag(AGG_PARTITION_KEYS, WireType.bytes).bytes(utf8Encoder.encode(key));
  for (const key of ehkIndex.keys()) w.tag(AGG_HASH_KEYS, WireType.bytes).bytes(utf8Encoder.encode(key));
  for (const rec of records) {
    const inner = new ProtoWriter()
      .tag(REC_PARTITION_KEY_INDEX, WireType.varint)
      .varint(pkIndex.get(rec.partitionKey)!);
    if (rec.explicitHashKey !== undefined) {
      inner.tag(REC_HASH_KEY_INDEX, WireType.varint).varint(ehkIndex.get(rec.explicitHashKey)!);
    }
    inner.tag(REC_DATA, WireType.bytes).bytes(rec.data);
    w.tag(AGG_RECORDS, WireType.bytes).bytes(inner.finish());
  }
  const body = w.finish();
  const out = new Uint8Array(HEADER_BYTES + body.length + DIGEST_BYTES);
  out.set(MAGIC, 0);
  out.set(body, HEADER_BYTES);
  out.set(createHash('md5').update(body).digest(), HEADER_BYTES + body.length);
  return out;
}

function corrupt(detail: string, cause?: unknown): DecodeError {
  return new DecodeError(
    'kpl_corrupt',
    `KPL aggregated record is corrupt: ${detail}. It cannot be split into user records; replay it from the dead-letter sink once the producer is fixed.`,
    { cause },
  );
}
