import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRecord } from '../../pipeline/decode/decode-record.ts';
import { readDecodedRecords } from '../fixtures/fluent-bit/fluent-bit-captures.ts';

/**
 * The sidecars set both `simple_aggregation` and `compression gzip`; the captures show each alone,
 * not together. Whichever way the plugin combines them (gzip over the aggregated lines, or one
 * gzip member per line, concatenated), the consumer must get every line back.
 */

const lines = readDecodedRecords('kinesis_tail').map((r) => r.data);
const record = (data: Uint8Array) => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: '1',
  partitionKey: 'k',
  arrivedAt: new Date(0),
  data,
});

describe('simple_aggregation + gzip Data', () => {
  it.each([
    ['gzip of the aggregated lines', gzipSync(Buffer.from(lines.join('')))],
    ['gzip members per line, concatenated', Buffer.concat(lines.map((l) => gzipSync(Buffer.from(l))))],
  ])('%s: every line decodes, none dead-lettered', (_shape, data) => {
    // Act
    const { logs, deadLetters } = decodeRecord(record(data));

    // Assess
    expect(deadLetters).toEqual([]);
    expect(logs.map((l) => l.value)).toEqual(lines.map((l) => JSON.parse(l)));
  });
});
