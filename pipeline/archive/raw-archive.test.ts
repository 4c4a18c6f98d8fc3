import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ArchivedRecord } from './raw-archive.ts';
import { ArchiveConfig, ArchiveWriter, decodeArchive, encodeArchive } from './raw-archive.ts';

const archivedRecordFactory = (data: Uint8Array, seq: number, extra: Partial<ArchivedRecord> = {}) => ({
  shardId: 'shardId-000000000002',
  sequenceNumber: String(49_000_000 + seq),
  partitionKey: `pk-${seq}`,
  arrivedAt: new Date(Date.parse('2026-11-22T10:00:00.123Z') + seq),
  data,
  ...extra,
});

describe('raw archive objects', () => {
  it('round-trips text, binary (gzip) and byte-order-marked data byte for byte', async () => {
    // Prepare
    const records = [
      archivedRecordFactory(Buffer.from('{"project_id":"p","request_id":"r1"}\n'), 1),
      archivedRecordFactory(gzipSync('{"a":1}\n{"a":2}\n'), 2),
      archivedRecordFactory(Buffer.from('\ufeff{"x":"é"}\n'), 3, { skipThroughSubSequence: 4 }),
      archivedRecordFactory(new Uint8Array([0xff, 0x00, 0x80]), 4),
    ];

    // Act
    const back = decodeArchive(await encodeArchive(records));

    // Assess
    expect(back).toHaveLength(4);
    for (const [i, r] of back.entries()) {
      expect(Buffer.from(r.data).equals(Buffer.from(records[i]!.data))).toBe(true);
      expect(r.sequenceNumber).toBe(records[i]!.sequenceNumber);
      expect(r.partitionKey).toBe(records[i]!.partitionKey);
      expect(r.arrivedAt.getTime()).toBe(records[i]!.arrivedAt.getTime());
    }
    expect(back[2]!.skipThroughSubSequence).toBe(4);
  });

  it('gives the same bytes for the same records (a re-landed batch replaces its object with an identical one)', async () => {
    // Prepare
    const records = [1, 2, 3].map((i) => archivedRecordFactory(Buffer.from(`{"i":${i}}\n`), i));

    // Act
    const [a, b] = await Promise.all([encodeArchive(records), encodeArchive(records)]);

    // Assess
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('is on by default and refuses unknown keys', () => {
    // Assess
    expect(ArchiveConfig.parse({})).toEqual({ enabled: true, level: 1 });
    expect(ArchiveConfig.safeParse({ enable: false }).success).toBe(false);
  });

  it('names the damaged object instead of returning a partial archive', () => {
    // Assess
    expect(() => decodeArchive(Buffer.from('not gzip'), 'raw/x.records.gz')).toThrow(
      /raw\/x\.records\.gz: not gzip/,
    );
  });

  it('compresses a batch as it fills into the very bytes encodeArchive gives at once', async () => {
    // Prepare: ~1.5 MB of varied records, so several 256 KiB chunks go to gzip before the end.
    const records = Array.from({ length: 3000 }, (_, i) =>
      archivedRecordFactory(
        Buffer.from(`{"i":${i},"path":"/v1/items/${(i * 7919) % 1000}","pad":"${'x'.repeat(i % 900)}"}\n`),
        i,
        i === 7 ? { skipThroughSubSequence: 2 } : {},
      ),
    );
    const writer = new ArchiveWriter(1);

    // Act: added in uneven runs, with turns of the event loop between them, as pages arrive.
    for (let at = 0; at < records.length; ) {
      const run = 1 + ((at * 31) % 400);
      for (const r of records.slice(at, at + run)) writer.add(r);
      at += run;
      await new Promise((r) => setImmediate(r));
    }
    const streamed = await writer.finish();

    // Assess
    expect(writer.records).toBe(3000);
    expect(Buffer.from(streamed).equals(Buffer.from(await encodeArchive(records, 1)))).toBe(true);
    expect(decodeArchive(streamed).map((r) => r.sequenceNumber)).toEqual(
      records.map((r) => r.sequenceNumber),
    );
    expect(await writer.finish()).toBe(streamed);
    expect(() => writer.add(records[0]!)).toThrow(/after finish/);
  });

  it('writes headers in place whatever their characters, and records larger than a chunk, as encodeArchive does', async () => {
    // Prepare: partition keys of 1- to 4-byte UTF-8 (a lone surrogate too), JSON escapes and
    // control characters, shard ids that change, arrival times shared by neighbours or not, resumes
    // inside an aggregate, and records of 300 KiB and 1 MiB (past a 256 KiB chunk) with 3-byte
    // keys, between small ones.
    const keys = [
      'ascii',
      'é',
      '日本語のキー',
      '🔑🔑',
      'x\ud800y',
      '"quoted"\\',
      '',
      'tab\tnl\n\u0001',
      '\u007f~ ',
    ];
    const records = Array.from({ length: 60 }, (_, i) =>
      archivedRecordFactory(
        i === 23
          ? Buffer.alloc(300 * 1024, 0x61)
          : i === 44
            ? Buffer.alloc(1024 * 1024, 0x62)
            : Buffer.from(`{"i":${i}}\n`),
        i,
        {
          partitionKey: keys[i % keys.length]!.repeat(1 + (i % 40)),
          shardId: i < 30 ? 'shardId-000000000002' : 'shardId-000000000003',
          arrivedAt: new Date(Date.parse('2026-11-22T10:00:00.123Z') + Math.floor(i / 3) * 1_001),
          ...(i % 7 === 3 ? { skipThroughSubSequence: i * 1_000 } : {}),
          ...(i === 5 ? { skipThroughSubSequence: 0 } : {}),
        },
      ),
    );
    const writer = new ArchiveWriter(1);

    // Act
    for (const r of records) writer.add(r);
    const streamed = await writer.finish();

    // Assess
    expect(Buffer.from(streamed).equals(Buffer.from(await encodeArchive(records, 1)))).toBe(true);
    const back = decodeArchive(streamed);
    expect(back.map((r) => [r.shardId, r.partitionKey, r.data.byteLength, r.skipThroughSubSequence])).toEqual(
      records.map((r) => [
        r.shardId,
        JSON.parse(JSON.stringify(r.partitionKey)),
        r.data.byteLength,
        (r as ArchivedRecord).skipThroughSubSequence,
      ]),
    );
  });

  it('reuses chunks gzip has read without changing any archive: writers interleaved, one after another, one dropped', async () => {
    // Prepare: distinct bytes per writer and record, ~4 chunks of 256 KiB per writer.
    const batch = (writer: number) =>
      Array.from({ length: 1_200 }, (_, i) =>
        archivedRecordFactory(
          Buffer.from(`{"w":${writer},"i":${i},"pad":"${String(writer * 7 + i).repeat(300)}"}\n`),
          i,
        ),
      );
    const batches = [batch(1), batch(2), batch(3), batch(4)];

    // Act: 1 and 2 fill in turns; 3 is dropped half way; 4 starts once 1 and 2 landed (their
    // chunks given back) and fills while another writer's chunks are still being compressed.
    const a = new ArchiveWriter();
    const b = new ArchiveWriter();
    const dropped = new ArchiveWriter();
    for (let i = 0; i < 1_200; i++) {
      a.add(batches[0]![i]!);
      b.add(batches[1]![i]!);
      if (i < 600) dropped.add(batches[2]![i]!);
    }
    dropped.destroy();
    const [gzA, gzB] = await Promise.all([a.finish(), b.finish()]);
    const c = new ArchiveWriter();
    const d = new ArchiveWriter();
    for (let i = 0; i < 1_200; i++) {
      c.add(batches[3]![i]!);
      d.add(batches[0]![i]!);
    }
    const [gzC, gzD] = await Promise.all([c.finish(), d.finish()]);

    // Assess: each archive is exactly what encodeArchive gives for its records.
    expect(Buffer.from(gzA).equals(Buffer.from(await encodeArchive(batches[0]!)))).toBe(true);
    expect(Buffer.from(gzB).equals(Buffer.from(await encodeArchive(batches[1]!)))).toBe(true);
    expect(Buffer.from(gzC).equals(Buffer.from(await encodeArchive(batches[3]!)))).toBe(true);
    expect(Buffer.from(gzD).equals(Buffer.from(gzA))).toBe(true);
  });

  it('gives the empty archive for a writer without records, and drops a batch that will not land', async () => {
    // Act
    const empty = await new ArchiveWriter().finish();
    const dropped = new ArchiveWriter();
    for (let i = 0; i < 2000; i++) dropped.add(archivedRecordFactory(Buffer.alloc(300, 97), i));
    dropped.destroy();

    // Assess
    expect(decodeArchive(empty)).toEqual([]);
    expect(Buffer.from(empty).equals(Buffer.from(await encodeArchive([])))).toBe(true);
  });

  it('fails a batch whose archive stream failed before it landed, rather than wait for it', async () => {
    // Prepare: a stream that has failed (as zlib does on an error: it is destroyed).
    const writer = new ArchiveWriter();
    for (let i = 0; i < 2000; i++) writer.add(archivedRecordFactory(Buffer.alloc(300, 97), i));
    writer.destroy();

    // Act
    const outcome = await Promise.race([
      writer.finish().then(
        () => 'landed',
        (e: Error) => e.message,
      ),
      new Promise((r) => setTimeout(() => r('still waiting'), 2_000)),
    ]);

    // Assess
    expect(outcome).toMatch(/dropped before the batch landed/);
  });

  it('never gives a dropped batch an archive: dropped before any chunk went to gzip, or while finishing', async () => {
    // Prepare: a few records only (no chunk handed to gzip yet), and a batch dropped mid-finish.
    const early = new ArchiveWriter();
    for (let i = 0; i < 10; i++) early.add(archivedRecordFactory(Buffer.from(`{"i":${i}}\n`), i));
    early.destroy();
    const finishing = new ArchiveWriter();
    for (let i = 0; i < 3000; i++) finishing.add(archivedRecordFactory(Buffer.alloc(300, 98), i));

    // Act
    const outcome = (writer: ArchiveWriter) =>
      Promise.race([
        writer.finish().then(
          () => 'landed',
          (e: Error) => e.message,
        ),
        new Promise((r) => setTimeout(() => r('still waiting'), 2_000)),
      ]);
    const earlyOutcome = await outcome(early);
    const pending = outcome(finishing);
    finishing.destroy();

    // Assess
    expect(earlyOutcome).toMatch(/dropped before the batch landed/);
    expect(await pending).toMatch(/dropped before the batch landed/);
  });
});
