import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from '../land/local-dir-store.ts';
import { batchObjectKey } from '../land/object-key.ts';
import type { DeadLetter } from '../types.ts';
import { decodeDeadLetters, encodeDeadLetters } from './dead-letter-sink.ts';

const deadLetter = (overrides: Partial<DeadLetter> = {}): DeadLetter => ({
  reason: 'invalid_json',
  message: 'Unexpected token } in JSON at position 14',
  stage: 'decode',
  shardId: 'shardId-000000000001',
  sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
  partitionKey: 'a1b2c3d4e5',
  arrivedAt: new Date('2025-01-15T10:00:00.123Z'),
  data: new TextEncoder().encode('{"request_id":}'),
  ...overrides,
});

describe('encodeDeadLetters / decodeDeadLetters', () => {
  it('writes one JSON line per letter with the original bytes in base64', () => {
    // Prepare
    const letter = deadLetter({ subSequence: 3 });

    // Act
    const text = new TextDecoder().decode(encodeDeadLetters([letter, deadLetter()]));

    // Assess
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0] as string)).toEqual({
      reason: 'invalid_json',
      message: letter.message,
      stage: 'decode',
      shardId: letter.shardId,
      sequenceNumber: letter.sequenceNumber,
      subSequence: 3,
      partitionKey: letter.partitionKey,
      arrivedAt: '2025-01-15T10:00:00.123Z',
      data_base64: Buffer.from('{"request_id":}').toString('base64'),
    });
    expect(JSON.parse(lines[1] as string).subSequence).toBeNull();
  });

  it('round-trips letters, including binary data that is not UTF-8', () => {
    // Prepare
    const binary = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x0a, 0x0d]);
    const letters = [
      deadLetter({ reason: 'decompress_failed', data: binary }),
      deadLetter({
        reason: 'schema_violation',
        stage: 'validate',
        subSequence: 0,
        message: 'status: expected int\nline 2',
      }),
      deadLetter({ reason: 'enrich_failed', stage: 'enrich', data: new Uint8Array() }),
    ];

    // Act
    const back = decodeDeadLetters(encodeDeadLetters(letters));

    // Assess
    expect(back).toEqual(letters);
  });

  it('encodes no letters as an empty file', () => {
    // Act
    const bytes = encodeDeadLetters([]);

    // Assess
    expect(bytes.byteLength).toBe(0);
    expect(decodeDeadLetters(bytes)).toEqual([]);
  });

  it('rejects a damaged line and names it', () => {
    // Prepare
    const good = new TextDecoder().decode(encodeDeadLetters([deadLetter()]));
    const bytes = new TextEncoder().encode(`${good}{"reason":"nope"}\n`);

    // Act
    const decode = () => decodeDeadLetters(bytes);
    const named = () => decodeDeadLetters(bytes, 'dead_letters/dt=2026-11-22/hr=10/x.jsonl');

    // Assess
    expect(decode).toThrow(/line 2 is not a dead letter/);
    // Which file, and which fields, so a data engineer can find it (list and redrive leave it out).
    expect(named).toThrow(
      /^dead_letters\/dt=2026-11-22\/hr=10\/x\.jsonl: line 2 is not a dead letter \(JSON without the dead-letter fields: [^)]*stage/,
    );
  });

  it('lands through an ObjectStore under dead_letters/ and reads back for replay', async () => {
    // Prepare
    const root = await mkdtemp(join(tmpdir(), 'dead-letters-'));
    const store = new LocalDirStore(root);
    const letters = [
      deadLetter(),
      deadLetter({
        subSequence: 1,
        sequenceNumber: '49590338271490256608559692538361571095921575989136588899',
      }),
    ];
    const key = batchObjectKey({
      table: 'dead_letters',
      shardId: letters[0]!.shardId,
      firstSequence: letters[0]!.sequenceNumber,
      lastSequence: letters[1]!.sequenceNumber,
      time: letters[1]!.arrivedAt,
      ext: 'jsonl',
    });

    try {
      // Act
      await store.put(key, encodeDeadLetters(letters));
      const [listed] = await store.list('dead_letters/');
      const back = decodeDeadLetters(await store.get(listed as string));

      // Assess
      expect(listed).toBe(key);
      expect(back).toEqual(letters);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('with originalBytes "redact", scrubs secrets from text (compressed too) and drops bytes that are not text', () => {
    // Prepare
    const token = 'ghp_8fK2mQ9xL4vB7nR1tY6wE3zA5cD0hJ2sU9pX';
    const line = `{"request_id":"r1","headers":{"authorization":"Bearer ${token}"},"note":"AKIAIOSFODNN7EXAMPLE"`;
    const letters = [
      deadLetter({ data: new TextEncoder().encode(line) }),
      deadLetter({ data: gzipSync(line) }),
      deadLetter({ data: Uint8Array.of(0x00, 0xff, 0xfe, 0x01) }),
    ];

    // Act
    const kept = new TextDecoder().decode(encodeDeadLetters(letters));
    const scrubbed = new TextDecoder().decode(encodeDeadLetters(letters, 'redact'));

    // Assess
    const decoded = scrubbed
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { data_base64: string; data_scrubbed: string; data_bytes: number });
    const texts = decoded.map((d) => Buffer.from(d.data_base64, 'base64').toString());
    expect(kept).toContain(Buffer.from(line).toString('base64'));
    for (const text of texts) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('AKIAIOSFODNN7EXAMPLE');
    }
    expect(texts[0]).toContain('"request_id":"r1"');
    expect(texts[1]).toContain('"request_id":"r1"');
    expect(decoded.map((d) => [d.data_scrubbed, d.data_bytes])).toEqual([
      ['redacted', line.length],
      ['redacted', letters[1]!.data.byteLength],
      ['omitted', 4],
    ]);
    expect(texts[2]).toBe('');
    expect(decodeDeadLetters(Buffer.from(scrubbed))).toHaveLength(3);
  });
});
