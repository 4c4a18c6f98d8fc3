import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineConfig } from '../../pipeline/config.ts';
import { decodeDeadLetters } from '../../pipeline/dead-letter/dead-letter-sink.ts';
import { DEFAULT_DECODE_LIMITS, type DecodeConfig } from '../../pipeline/decode/decode-limits.ts';
import { MemoryStore } from '../../pipeline/land/memory-store.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import type { LandedBatch } from '../../pipeline/shard-processor.ts';
import type { DeadLetter, PipelineCounters, SourceRecord } from '../../pipeline/types.ts';
import {
  type BuiltRecord,
  buildRecords,
  type Codec,
  codecArb,
  SHARD,
  SMALL_LIMITS,
  sourceRecord,
  specsArb,
} from './fuzz-records.ts';
import { type Hostile, hostileRecords, MiB } from './hostile-records.ts';

/**
 * Properties of decode → validate → dedupe → enrich → land over random and mutated records (see
 * fuzz-records.ts for what each record must become) and hostile ones (hostile-records.ts), through
 * the real Pipeline with a MemoryStore; landed Parquet is read back with DuckDB.
 *
 * Bounded for CI: the file runs in ~10 s on two loaded cores with a fixed seed per property.
 * `FC_SEED=<n>` replays the seed fast-check prints with a failure (property k uses n + k), and
 * `FC_RUNS=<factor>` multiplies every property's runs for a local soak.
 */

const SEED = process.env.FC_SEED === undefined ? 20_261_122 : Number(process.env.FC_SEED);
const RUN_FACTOR = process.env.FC_RUNS === undefined ? 1 : Number(process.env.FC_RUNS);
/** Each property its own seed: they share arbitraries, and should not share inputs. */
const runs = <T>(n: number, salt: number): fc.Parameters<T> => ({
  seed: SEED + salt,
  numRuns: Math.ceil(n * RUN_FACTOR),
});

// ---------------------------------------------------------------------------------------------
// Running the real pipeline
// ---------------------------------------------------------------------------------------------

interface LandedRow {
  readonly sequenceNumber: string;
  readonly subSequence: number;
  readonly requestId: string;
}

interface Run {
  readonly rows: LandedRow[];
  /** As landed, file by file, in order. */
  readonly letters: DeadLetter[];
  /** Duplicates counted while each record was processed (only when fed one record per call). */
  readonly duplicates: Map<string, number>;
  readonly counters: PipelineCounters;
  readonly landed: LandedBatch[];
  readonly objects: { key: string; body: Uint8Array }[];
  /** Longest processRecords call per record (one record per call only). */
  readonly millis: Map<string, number>;
}

let dir: string;
let duck: DuckDBInstance;
let db: DuckDBConnection;
let parquetFiles = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-properties-'));
  duck = await DuckDBInstance.create(':memory:');
  db = await duck.connect();
});

afterAll(async () => {
  db.closeSync();
  duck.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const readRows = async (body: Uint8Array): Promise<LandedRow[]> => {
  const file = join(dir, `${parquetFiles++}.parquet`);
  await writeFile(file, body);
  const result = await db.runAndReadAll(
    `SELECT sequence_number, sub_sequence, request_id FROM read_parquet('${file}')`,
  );
  await rm(file);
  return result.getRowObjects().map((r) => ({
    sequenceNumber: String(r.sequence_number),
    subSequence: Number(r.sub_sequence),
    requestId: String(r.request_id),
  }));
};

/**
 * Feeds `records` to a fresh pipeline, either one per `processRecords` call (so that duplicates
 * can be told per record) or all in one call, then `shutdownRequested`, and reads back what landed.
 */
const runPipeline = async (
  records: readonly SourceRecord[],
  mode: 'per-record' | 'one-call',
  decode: DecodeConfig = SMALL_LIMITS,
  afterEach?: () => void,
): Promise<Run> => {
  const store = new MemoryStore();
  const landed: LandedBatch[] = [];
  const config = PipelineConfig.parse({
    batch: { maxAgeMs: 15 * 60_000 },
    decode,
    enrich: { geoIp: false },
    // Hundreds of runs each start a pipeline: the stages run in this thread here.
    // pipeline/stages/thread-stages.test.ts checks that stage threads land the same files.
    stages: { threads: 0 },
  });
  const pipeline = await Pipeline.create(config, { store, onLanded: (b) => landed.push(b) });
  const duplicates = new Map<string, number>();
  const millis = new Map<string, number>();
  try {
    const processor = pipeline.create(SHARD);
    if (mode === 'one-call') {
      await processor.processRecords(records);
    } else {
      for (const record of records) {
        const before = pipeline.counters.deduplicated;
        const started = performance.now();
        await processor.processRecords([record]);
        millis.set(record.sequenceNumber, performance.now() - started);
        duplicates.set(record.sequenceNumber, pipeline.counters.deduplicated - before);
        afterEach?.();
      }
    }
    await processor.shutdownRequested();
  } finally {
    await pipeline.close();
  }
  const rows: LandedRow[] = [];
  const letters: DeadLetter[] = [];
  const objects: { key: string; body: Uint8Array }[] = [];
  for (const key of store.puts) {
    // The pipeline's own state (learned routes), not landed output.
    if (key.startsWith('_shardline/')) continue;
    // The raw archive: the records themselves, not an outcome of them.
    if (key.startsWith('raw/')) continue;
    const body = await store.get(key);
    objects.push({ key, body });
    if (key.endsWith('.parquet')) rows.push(...(await readRows(body)));
    else if (key.endsWith('.jsonl')) letters.push(...decodeDeadLetters(body));
    else throw new Error(`unexpected object ${key}`);
  }
  return { rows, letters, duplicates, counters: { ...pipeline.counters }, landed, objects, millis };
};

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

const groupBy = <T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
};

/** Each record's outcomes: rows and dead letters by sequence number, duplicates counted per record. */
const assertAccounting = (built: readonly BuiltRecord[], run: Run): void => {
  const rowsBySeq = groupBy(run.rows, (r) => r.sequenceNumber);
  const lettersBySeq = groupBy(run.letters, (l) => l.sequenceNumber);
  let expectedOutcomes = 0;
  for (const { record, expected } of built) {
    const seq = record.sequenceNumber;
    const rows = rowsBySeq.get(seq) ?? [];
    const letters = lettersBySeq.get(seq) ?? [];
    const duplicates = run.duplicates.get(seq) ?? 0;
    const context = `record ${seq} (${expected.lines} lines, whole=${expected.whole})`;
    if (expected.whole) {
      expect({ rows: rows.length, letters: letters.length, duplicates }, context).toEqual({
        rows: 0,
        letters: 1,
        duplicates: 0,
      });
      expect(letters[0]!.subSequence, context).toBeUndefined();
      expect(sameBytes(letters[0]!.data, record.data), `${context}: dead letter holds the whole Data`).toBe(
        true,
      );
      expectedOutcomes += 1;
      continue;
    }
    expect(rows.length + letters.length + duplicates, context).toBe(expected.slots.length);
    expectedOutcomes += expected.slots.length;
  }
  expect(run.rows.length + run.letters.length + run.counters.deduplicated).toBe(expectedOutcomes);
  expect(run.counters.records).toBe(built.length);
  expect(run.counters.landed).toBe(run.rows.length);
  expect(run.counters.deadLettered).toBe(run.letters.length);
  expect(run.landed.reduce((n, b) => n + b.rows, 0)).toBe(run.rows.length);
  expect(run.landed.reduce((n, b) => n + b.deadLetters, 0)).toBe(run.letters.length);
  // Every decoded log is a row, a duplicate or a validate/enrich dead letter.
  const lateLetters = run.letters.filter((l) => l.stage !== 'decode').length;
  expect(run.counters.logs).toBe(run.rows.length + run.counters.deduplicated + lateLetters);
};

/** Every dead letter's bytes are in the input, verbatim, at the place it names; rows sit in line slots. */
const assertPlaces = (built: readonly BuiltRecord[], run: Run): void => {
  const bySeq = new Map(built.map((b) => [b.record.sequenceNumber, b]));
  const taken = new Set<string>();
  const take = (seq: string, sub: number, what: string) => {
    const key = `${seq}/${sub}`;
    expect(taken.has(key), `${what} ${key} is the second outcome of one line`).toBe(false);
    taken.add(key);
  };
  for (const letter of run.letters) {
    const b = bySeq.get(letter.sequenceNumber);
    expect(b, `dead letter for unknown record ${letter.sequenceNumber}`).toBeDefined();
    const { record, expected } = b!;
    expect(letter.shardId).toBe(record.shardId);
    expect(letter.partitionKey).toBe(record.partitionKey);
    expect(letter.arrivedAt.getTime()).toBe(record.arrivedAt.getTime());
    const where = `dead letter ${letter.reason} of ${letter.sequenceNumber}/${letter.subSequence ?? '-'}`;
    if (letter.subSequence === undefined) {
      // The whole Data: a refused record, or (compressed plain record) one over-long line of it.
      expect(sameBytes(letter.data, record.data), `${where} holds the record's Data`).toBe(true);
      expect(expected.whole || expected.slots.some((s) => !s.sub), where).toBe(true);
      continue;
    }
    const slot = expected.slots[letter.subSequence];
    expect(slot, `${where}: no such line`).toBeDefined();
    expect(slot!.sub, where).toBe(true);
    expect(sameBytes(letter.data, slot!.data), `${where} holds the bytes at its place`).toBe(true);
    take(letter.sequenceNumber, letter.subSequence, 'dead letter');
  }
  for (const row of run.rows) {
    const slot = bySeq.get(row.sequenceNumber)?.expected.slots[row.subSequence];
    const where = `row ${row.sequenceNumber}/${row.subSequence}`;
    expect(slot?.line, `${where} lands from a line`).toBe(true);
    if (slot?.requestId !== undefined) expect(row.requestId, where).toBe(slot.requestId);
    take(row.sequenceNumber, row.subSequence, 'row');
  }
};

type Outcome = 'row' | 'dead letter' | 'duplicate';

/** What became of line `sub` of record `seq`: no row and no dead letter at its place is a duplicate. */
const outcomeOf = (run: Run, seq: string, sub: number): Outcome => {
  if (run.rows.some((r) => r.sequenceNumber === seq && r.subSequence === sub)) return 'row';
  if (run.letters.some((l) => l.sequenceNumber === seq && l.subSequence === sub)) return 'dead letter';
  return 'duplicate';
};

const lettersSummary = (run: Run) =>
  run.letters.map((l) => [l.sequenceNumber, l.subSequence ?? null, l.reason, l.stage]);

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('decode → validate → dedupe → enrich → land, over random and mutated records', () => {
  it('puts every line of every record in exactly one place: row, dead letter or duplicate', async () => {
    await fc.assert(
      fc.asyncProperty(specsArb, async (specs) => {
        // Prepare
        const built = buildRecords(specs);

        // Act
        const run = await runPipeline(
          built.map((b) => b.record),
          'per-record',
        );

        // Assess
        assertAccounting(built, run);
        assertPlaces(built, run);
      }),
      runs(100, 1),
    );
  });

  it('keeps in every dead letter the bytes at the place it names, and judges each line on its own', async () => {
    await fc.assert(
      fc.asyncProperty(specsArb, async (specs) => {
        // Prepare
        const built = buildRecords(specs);
        const run = await runPipeline(
          built.map((b) => b.record),
          'per-record',
        );
        assertPlaces(built, run);
        // Each line of the records, replayed as a record of its own (a dead letter's bytes as a
        // replay tool sends them back), with its original arrival time and in the original order.
        const original: Outcome[] = [];
        const replays: SourceRecord[] = [];
        for (const { record, expected } of built) {
          for (const [sub, slot] of expected.slots.entries()) {
            if (!slot.line) continue;
            original.push(outcomeOf(run, record.sequenceNumber, sub));
            replays.push({ ...sourceRecord(slot.data, replays.length), arrivedAt: record.arrivedAt });
          }
        }

        // Act
        const replayed = await runPipeline(replays, 'per-record');

        // Assess: a line's verdict does not depend on its neighbours, codec or aggregation.
        const again = replays.map((r) => {
          if (replayed.rows.some((row) => row.sequenceNumber === r.sequenceNumber)) return 'row';
          if (replayed.letters.some((l) => l.sequenceNumber === r.sequenceNumber)) return 'dead letter';
          return replayed.duplicates.get(r.sequenceNumber) === 1 ? 'duplicate' : 'lost';
        });
        expect(again).toEqual(original);
      }),
      runs(40, 2),
    );
  });

  it('gives the same rows, dead letters and files for the same records, however they are fed', async () => {
    await fc.assert(
      fc.asyncProperty(specsArb, async (specs) => {
        // Prepare
        const records = buildRecords(specs).map((b) => b.record);

        // Act: three fresh pipelines.
        const perRecord = await runPipeline(records, 'per-record');
        const first = await runPipeline(records, 'one-call');
        const second = await runPipeline(records, 'one-call');

        // Assess
        for (const run of [first, second]) {
          expect(run.rows).toEqual(perRecord.rows);
          expect(lettersSummary(run)).toEqual(lettersSummary(perRecord));
          expect(run.counters).toEqual(perRecord.counters);
        }
        expect(second.objects.map((o) => o.key)).toEqual(first.objects.map((o) => o.key));
        for (const [i, o] of first.objects.entries()) {
          expect(sameBytes(second.objects[i]!.body, o.body), `object ${o.key} differs between runs`).toBe(
            true,
          );
        }
      }),
      runs(25, 3),
    );
  });

  describe('maxLinesPerRecord', () => {
    const LIMITS: DecodeConfig = { ...SMALL_LIMITS, maxLinesPerRecord: 8 };
    const linesRecord = (n: number, finalBreak: boolean, codec: Codec): BuiltRecord[] =>
      buildRecords([
        {
          kind: 'plain',
          payload: {
            kind: 'lines',
            lines: Array.from({ length: n }, (_, i) => ({
              kind: 'log' as const,
              base: i,
              mutation: { kind: 'none' as const },
              bom: false,
              crlf: false,
            })),
            finalBreak,
            codec,
            corrupt: false,
          },
        },
      ]);

    it('admits a record of up to maxLinesPerRecord lines, with or without a final line break', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: LIMITS.maxLinesPerRecord }),
          fc.boolean(),
          codecArb,
          async (n, finalBreak, codec) => {
            const built = linesRecord(n, finalBreak, codec);
            const run = await runPipeline([built[0]!.record], 'per-record', LIMITS);
            expect(run.rows.length).toBe(n);
          },
        ),
        runs(12, 4),
      );
    });

    /** A last line without a line break counts against the bound like any other. */
    it('refuses whole a record of maxLinesPerRecord + 1 lines, even without a final line break', async () => {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), codecArb, async (finalBreak, codec) => {
          const built = linesRecord(LIMITS.maxLinesPerRecord + 1, finalBreak, codec);
          const run = await runPipeline([built[0]!.record], 'per-record', LIMITS);
          expect(run.rows.length).toBe(0);
          expect(run.letters.map((l) => l.reason)).toEqual(['too_large']);
        }),
        runs(8, 5),
      );
    });

    it('refuses whole a record of maxLinesPerRecord + 1 newline-terminated lines', async () => {
      await fc.assert(
        fc.asyncProperty(codecArb, async (codec) => {
          const built = linesRecord(LIMITS.maxLinesPerRecord + 1, true, codec);
          const run = await runPipeline([built[0]!.record], 'per-record', LIMITS);
          expect(run.rows.length).toBe(0);
          expect(run.letters.map((l) => l.reason)).toEqual(['too_large']);
          expect(sameBytes(run.letters[0]!.data, built[0]!.record.data)).toBe(true);
        }),
        runs(4, 6),
      );
    });
  });
});

/**
 * Per-record time: the largest admitted record (20,000 lines, each a dead letter) takes well under
 * a second on a quiet core; 10 s leaves room for a loaded CI machine yet fails any work that grows
 * with the inflated size (a 1 GiB bomb) or super-linearly with nesting, keys or string length.
 */
const PER_RECORD_MS = 10_000;
/**
 * RSS growth over a whole run. The legitimate peak is one record's inflated Data (≤ 8 MiB), its
 * parsed lines (a 1 MiB line is a few MiB of JS objects), a batch of ≤ 20,000 dead letters and one
 * Parquet encode: tens of MiB. 300 MB fails an unbounded inflate of any of the 1 GiB bombs.
 */
const MAX_RSS_GROWTH = 300 * MiB;

describe('hostile records, default decode bounds', () => {
  let hostile: Hostile[];
  beforeAll(() => {
    hostile = hostileRecords();
  });

  it('end each in one dead letter or their per-line outcomes, in bounded time and memory', async () => {
    const all = hostile.map((_, i) => i);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(all, { minLength: 1 }), async (picked) => {
        // Prepare
        const cases = picked.map((i) => hostile[i]!);
        const built: BuiltRecord[] = cases.map((h, i) => ({
          record: sourceRecord(h.data, i),
          expected:
            h.expect === 'whole'
              ? { whole: true, slots: [], lines: 0 }
              : {
                  whole: false,
                  slots: Array.from({ length: h.expect }, () => ({ data: h.data, sub: true, line: true })),
                  lines: h.expect,
                },
        }));
        const baseline = process.memoryUsage.rss();
        let peak = baseline;

        // Act
        const run = await runPipeline(
          built.map((b) => b.record),
          'per-record',
          DEFAULT_DECODE_LIMITS,
          () => {
            peak = Math.max(peak, process.memoryUsage.rss());
          },
        );
        peak = Math.max(peak, process.memoryUsage.rss());

        // Assess
        assertAccounting(built, run);
        for (const [i, h] of cases.entries()) {
          const ms = run.millis.get(built[i]!.record.sequenceNumber)!;
          expect(ms, `${h.name} took ${Math.round(ms)} ms`).toBeLessThan(PER_RECORD_MS);
        }
        expect(peak - baseline, 'RSS growth over the run').toBeLessThan(MAX_RSS_GROWTH);
      }),
      { ...runs<[number[]]>(3, 7), examples: [[all]] },
    );
  });
});
