/**
 * bench:stages — runs each pipeline stage alone over the same generated input, formatted exactly
 * as Fluent Bit sends it, and prints one JSON line last with records/s per stage, so that the
 * stage that limits `bench:pipeline` can be named.
 *
 *   npm run bench:stages -- [--records 200000] [--batch 50000] [--geoip true|false]
 *
 * Each stage is timed on the previous stage's output, kept in memory: decode (record → JSON
 * object), validate (schema), dedupe (request key + window), enrich (redaction, endpoints learned
 * by a route book, user agent, geo-IP, as a stage thread enriches), pack (rows into the columns a
 * stage holds them in until their batch lands), encode (Parquet, zstd, in `--batch`-row files, from
 * the packed columns). `serialRecordsPerSecond` is what
 * one core would do running the stages one after another (1 / Σ 1/rate): the pipeline's ceiling
 * before batching, GC of held batches and event-loop overheads.
 *
 * Encode is the one stage that waits: sorting, zstd and the Parquet write run in DuckDB, on a libuv thread,
 * while the JS thread is free for other shards. `jsThreadRecordsPerSecond.encode` counts only the
 * time the JS thread was busy (event-loop utilization), the part that competes with the other stages.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generateRequestLogs, toFluentBitLine } from '../fluent-bit/demo/traffic-generator.ts';
import { PipelineConfig } from '../pipeline/config.ts';
import type { DecodedLog } from '../pipeline/decode/decode-record.ts';
import { decodeRecord } from '../pipeline/decode/decode-record.ts';
import { Deduplicator, dedupeKey, requestKey } from '../pipeline/dedupe/deduplicator.ts';
import { PackedRows } from '../pipeline/encode/packed-rows.ts';
import { ParquetEncoder } from '../pipeline/encode/parquet-encoder.ts';
import { GeoIp } from '../pipeline/enrich/geo-ip.ts';
import { openEnricher } from '../pipeline/enrich/open-enricher.ts';
import { RouteBook } from '../pipeline/enrich/routes/route-book.ts';
import type { SourceRecord } from '../pipeline/types.ts';
import { validateLog } from '../pipeline/validate/validate-log.ts';
import type { RequestLog } from '../schemas/request-log.ts';
import type { RequestRow } from '../schemas/request-row.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '50000' },
    geoip: { type: 'string', default: 'true' },
  },
});
const total = Number(values.records);
const batchRows = Number(values.batch);
const shardId = 'shardId-000000000000';

const encoder = new TextEncoder();
const records: SourceRecord[] = new Array(total);
let seq = 10n ** 20n;
let i = 0;
for (const log of generateRequestLogs(total, {
  seed: 42,
  startTime: Date.parse('2026-11-22T10:00:00Z'),
  ratePerSecond: 2_000,
})) {
  seq += 1n;
  records[i] = {
    shardId,
    sequenceNumber: seq.toString(),
    partitionKey: 'bench',
    arrivedAt: new Date(1_795_000_000_000 + i),
    data: encoder.encode(toFluentBitLine(log, String(log.timestamp))),
  };
  i++;
}

const rates: Record<string, number> = {};
const jsThreadRates: Record<string, number> = {};
const time = async (stage: string, count: number, run: () => unknown): Promise<void> => {
  globalThis.gc?.();
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  await run();
  rates[stage] = Math.round(count / ((performance.now() - t0) / 1000));
  jsThreadRates[stage] = Math.round(count / (performance.eventLoopUtilization(elu).active / 1000));
};

const decoded: DecodedLog[] = [];
await time('decode', total, () => {
  for (const record of records) for (const line of decodeRecord(record).logs) decoded.push(line);
});

interface Valid {
  readonly line: DecodedLog;
  readonly log: RequestLog;
  readonly tsMicros: bigint;
}
const valid: Valid[] = [];
await time('validate', decoded.length, () => {
  for (const line of decoded) {
    const v = validateLog(line.value);
    if (v.ok) valid.push({ line, log: v.log, tsMicros: v.tsMicros ?? 0n });
  }
});

const dedupe = new Deduplicator({ windowMs: 10 * 60_000 });
const unique: { readonly v: Valid; readonly requestId: string }[] = [];
await time('dedupe', valid.length, () => {
  for (let k = 0; k < valid.length; k++) {
    const v = valid[k]!;
    const { requestId } = requestKey(v.log, v.line.bytes);
    if (!dedupe.isDuplicate(dedupeKey(v.log.project_id, requestId, v.tsMicros), 1_795_000_000_000 + k)) {
      unique.push({ v, requestId });
    }
  }
});

const geoIp = values.geoip === 'false' ? GeoIp.disabled() : await GeoIp.open();
// As a stage thread enriches (`openEnricher`): with a route book that learns endpoints from the
// traffic. Without one (the per-segment rules only) enrich ran ~10% faster than in the pipeline.
const enrich = openEnricher(PipelineConfig.parse({}), new RouteBook(), geoIp);
const arrivedAt = new Date(1_795_000_000_000);
const rows: RequestRow[] = [];
await time('enrich', unique.length, () => {
  for (const { v, requestId } of unique) {
    rows.push(
      enrich(v.log, {
        shardId,
        sequenceNumber: '49650000000000000000000000000000000000000000000000000001',
        subSequence: v.line.subSequence,
        arrivedAt,
        requestId,
        tsMicros: v.tsMicros,
      }),
    );
  }
});

// As a stage holds rows for their batch: packed column by column as they are made (`pack`), then
// encoded from the packed columns (`encode`). Encoding the row objects themselves (the path before
// rows were packed, still used by re-drives) is timed too, apart (`reference`, not in `serial`).
const packed = new PackedRows();
const parquet = await ParquetEncoder.create();
let parquetBytes = 0;
{
  // Batch by batch, as a stage packs a batch's rows and encodes them once it is cut.
  globalThis.gc?.();
  let packMs = 0;
  let encodeMs = 0;
  let encodeActiveMs = 0;
  for (let start = 0; start < rows.length; start += batchRows) {
    const end = Math.min(rows.length, start + batchRows);
    const t0 = performance.now();
    for (let i = start; i < end; i++) packed.append(rows[i]!);
    const t1 = performance.now();
    packMs += t1 - t0;
    const elu = performance.eventLoopUtilization();
    const indices = Array.from({ length: end - start }, (_, i) => i);
    parquetBytes += (await parquet.encodePacked(packed, indices)).byteLength;
    encodeMs += performance.now() - t1;
    encodeActiveMs += performance.eventLoopUtilization(elu).active;
    packed.dropHead(packed.length);
  }
  rates.pack = Math.round(rows.length / (packMs / 1000));
  rates.encode = Math.round(rows.length / (encodeMs / 1000));
  jsThreadRates.encode = Math.round(rows.length / (encodeActiveMs / 1000));
}
const reference: Record<string, number> = {};
{
  const packedRates = { encode: rates.encode!, js: jsThreadRates.encode! };
  await time('encode', rows.length, async () => {
    for (let start = 0; start < rows.length; start += batchRows) {
      await parquet.encode(rows.slice(start, start + batchRows));
    }
  });
  reference.encodeRowObjects = rates.encode!;
  reference.encodeRowObjectsJsThread = jsThreadRates.encode!;
  rates.encode = packedRates.encode;
  jsThreadRates.encode = packedRates.js;
}
await parquet.close();

const serial = 1 / Object.values(rates).reduce((sum, rate) => sum + 1 / rate, 0);
process.stdout.write(
  `${JSON.stringify({
    bench: 'stages',
    records: total,
    logs: decoded.length,
    rows: rows.length,
    recordsPerSecond: rates,
    jsThreadRecordsPerSecond: { encode: jsThreadRates.encode },
    serialRecordsPerSecond: Math.round(serial),
    reference,
    parquetMb: Math.round((parquetBytes / 1e6) * 10) / 10,
    geoIp: values.geoip !== 'false',
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
  })}\n`,
);
