import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectStore } from '../../pipeline/land/object-store.ts';
import { createObjectStore } from '../../pipeline/pipeline.ts';
import { DuckDbWarehouse, type LoadResult } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import {
  type ConsumeConfig,
  consumeConfigFromEnv,
  loadConsumeConfig,
  parseConsumeConfig,
} from './consume-config.ts';

/** Where a data engineer's command (replay, dead-letters, compact) finds the lake. */
export interface LakeContextOptions {
  /** `shardline dev` state directory: lake `<dir>/lake`, warehouse `<dir>/warehouse.duckdb`. */
  readonly dir: string;
  /**
   * A `shardline consume` config: its stream, lake, pipeline settings and warehouse. Wins over
   * `dir`; without it, `$SHARDLINE_CONFIG` (the JSON itself, as in the container) does.
   */
  readonly config?: string;
}

export interface LakeContext {
  /** The whole config, as the workers read it (today's pipeline settings included). */
  readonly config: ConsumeConfig;
  readonly store: ObjectStore;
  /** The embedded warehouse to load after landing, when there is one. */
  readonly warehouseFile: string | undefined;
}

/** The `shardline dev` settings, as `dev` itself builds them (its stream on the default port). */
const devConfig = (dir: string): ConsumeConfig =>
  parseConsumeConfig(
    {
      stream: { name: 'shardline-demo', region: 'us-east-1', endpoint: 'http://127.0.0.1:4567' },
      lake: { type: 'local', dir: join(dir, 'lake') },
      warehouse: { type: 'duckdb', file: join(dir, 'warehouse.duckdb') },
    },
    'dev settings',
  );

export const lakeContext = (o: LakeContextOptions): LakeContext => {
  const config =
    o.config !== undefined ? loadConsumeConfig(o.config) : (consumeConfigFromEnv() ?? devConfig(o.dir));
  const warehouseFile =
    config.warehouse.type === 'duckdb' && existsSync(config.warehouse.file)
      ? config.warehouse.file
      : undefined;
  return { config, store: createObjectStore(config.lake), warehouseFile };
};

/**
 * After a command landed files, loads them into the embedded warehouse, if there is one: the
 * same open → load → close every lake command ends with. Undefined when nothing was loaded.
 */
export const loadLakeIntoWarehouse = async (ctx: LakeContext): Promise<LoadResult | undefined> => {
  if (ctx.warehouseFile === undefined) return undefined;
  const warehouse = await DuckDbWarehouse.open(ctx.warehouseFile);
  try {
    return await warehouse.loadNewFiles(ctx.store);
  } finally {
    await warehouse.close();
  }
};
