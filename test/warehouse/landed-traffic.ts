import { join } from 'node:path';
import { generateRequestLogs } from '../../fluent-bit/demo/traffic-generator.ts';
import { requestKey } from '../../pipeline/dedupe/request-key.ts';
import { ParquetEncoder } from '../../pipeline/encode/parquet-encoder.ts';
import { createEnricher } from '../../pipeline/enrich/enrich-log.ts';
import { GeoIp } from '../../pipeline/enrich/geo-ip.ts';
import { UserAgentClassifier } from '../../pipeline/enrich/user-agent.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { batchObjectKey } from '../../pipeline/land/object-key.ts';
import { validateLog } from '../../pipeline/validate/validate-log.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import type { RequestRow } from '../../schemas/request-row.ts';

export interface LandedTraffic {
  /** The enriched rows, as the pipeline stages produced them, before Parquet. */
  readonly rows: readonly RequestRow[];
  readonly warehouse: DuckDbWarehouse;
  readonly files: number;
}

const SHARDS = 3;

/**
 * Demo traffic through the pipeline's own stages: validate → request key → enrich (real geo-IP
 * and user-agent parsing) → Parquet (ParquetEncoder) → a LocalDirStore under keys from
 * batchObjectKey → loaded by DuckDbWarehouse, as `shardline dev` does, without Kinesis.
 * Batches interleave shards, so the keys of one shard sort before others' already-landed keys.
 */
export const landGeneratedTraffic = async (
  dir: string,
  options: {
    count: number;
    seed: number;
    startTime: string;
    ratePerSecond: number;
    batchRows: number;
    /** Edits each enriched row before it is encoded, for values the generator never makes. */
    edit?: (row: RequestRow, index: number) => RequestRow;
  },
): Promise<LandedTraffic> => {
  const enrich = createEnricher({ geoIp: await GeoIp.open(), userAgents: new UserAgentClassifier() });
  const encoder = await ParquetEncoder.create();
  const store = new LocalDirStore(join(dir, 'lake'));
  const perShard: RequestRow[][] = Array.from({ length: SHARDS }, () => []);
  const rows: RequestRow[] = [];
  const text = new TextEncoder();
  let index = 0;
  for (const log of generateRequestLogs(options.count, options)) {
    const valid = validateLog(log as unknown as Record<string, unknown>);
    if (!valid.ok) throw new Error(`generated log ${index} is invalid: ${valid.message}`);
    const shard = index % SHARDS;
    const arrivedAt = new Date(Date.parse(options.startTime) + (index * 1000) / options.ratePerSecond + 500);
    const enriched = enrich(valid.log, {
      shardId: `shardId-00000000000${shard}`,
      sequenceNumber: String(1_000_000 + index),
      subSequence: 0,
      arrivedAt,
      requestId: requestKey(valid.log, text.encode(JSON.stringify(log))).requestId,
      tsMicros: valid.tsMicros ?? BigInt(arrivedAt.getTime()) * 1000n,
    });
    const row = options.edit?.(enriched, index) ?? enriched;
    rows.push(row);
    perShard[shard]?.push(row);
    index++;
  }
  let files = 0;
  try {
    // Shard 0 lags: its files land last although their keys sort first.
    for (const shard of [1, 2, 0]) {
      const shardRows = perShard[shard] as RequestRow[];
      for (let start = 0; start < shardRows.length; start += options.batchRows) {
        const batch = shardRows.slice(start, start + options.batchRows);
        const first = batch[0] as RequestRow;
        const last = batch[batch.length - 1] as RequestRow;
        const key = batchObjectKey({
          table: 'requests',
          shardId: first.shard_id,
          firstSequence: first.sequence_number,
          lastSequence: last.sequence_number,
          time: new Date(Number(last.ingest_ts / 1000n)),
          ext: 'parquet',
        });
        await store.put(key, await encoder.encode(batch));
        files++;
      }
    }
  } finally {
    await encoder.close();
  }
  const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
  await warehouse.loadNewFiles(store);
  return { rows, warehouse, files };
};
