import { rm } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompact } from '../../consumers/cli/compact-command.ts';
import type { LocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { compactLake } from '../../pipeline/land/compactor.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { type DemoLake, demoLake, sink, warehouseFigures } from './demo-lake.ts';

/** The documented way to read the lake: the latest version of each request (pipeline/land/README.md). */
const lakeView = async (root: string) => {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const reader = await db.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, sum(hash(status, endpoint, latency_ms))::VARCHAR AS checksum FROM (
         SELECT * FROM read_parquet('${root}/requests/**/*.parquet', union_by_name = true)
         QUALIFY row_number() OVER (PARTITION BY project_id, request_id, ts ORDER BY coalesce(generation, 0) DESC, ingest_ts) = 1)`,
    );
    const [n, checksum] = reader.getRows()[0]!;
    return { n, checksum };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
};

/** A lake whose every put and delete is followed by a reader's look at it. */
class WatchedStore extends LocalDirStore {
  readonly views: { op: string; view: Awaited<ReturnType<typeof lakeView>> }[] = [];
  override async put(key: string, body: Uint8Array): Promise<void> {
    await super.put(key, body);
    if (key.startsWith('requests/') || key.startsWith('_shardline/compaction/'))
      this.views.push({ op: `put ${key}`, view: await lakeView(this.rootDir) });
  }
  override async delete(key: string): Promise<void> {
    await super.delete(key);
    this.views.push({ op: `delete ${key}`, view: await lakeView(this.rootDir) });
  }
}

describe('shardline compact', () => {
  let kinesis: LocalKinesis;
  let lake: DemoLake;
  let root: string;

  beforeAll(async () => {
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    lake = await demoLake(kinesis, {
      stream: 'compact-demo',
      events: 3_000,
      pipeline: { batch: { maxAgeMs: 200, maxRows: 300 } },
    });
    root = lake.config.lake.type === 'local' ? lake.config.lake.dir : '';
  }, 120_000);

  afterAll(async () => {
    await kinesis?.close();
    if (lake) await rm(lake.dir, { recursive: true, force: true });
  });

  it('merges the hour into far fewer files; no reader sees a row twice or misses one at any step', async () => {
    // Prepare
    const store = new WatchedStore(root);
    const files = (await store.list('requests/')).length;
    const before = await lakeView(root);

    // Act
    const results = await compactLake(store, {
      closedForMs: Number.NEGATIVE_INFINITY,
      maxRowsPerFile: 1_000_000,
    });

    // Assess
    expect(files).toBeGreaterThan(5);
    expect(before.n).toBe(lake.sent.uniqueValid);
    expect(results.reduce((n, r) => n + r.outputs, 0)).toBeLessThanOrEqual(2);
    expect((await store.list('requests/')).length).toBeLessThanOrEqual(2);
    expect(store.views.length).toBeGreaterThan(files);
    for (const { op, view } of store.views) expect({ op, ...view }).toEqual({ op, ...before });
  });

  it('leaves the warehouse the same rows, recording compacted files without reading them; a second run does nothing', async () => {
    // Prepare
    const before = await warehouseFigures(lake.warehouseFile);

    // Act
    const out = sink();
    await runCompact(
      {
        dir: '',
        config: lake.configFile,
        closedForMinutes: Number.NEGATIVE_INFINITY,
        maxRowsPerFile: 1_000_000,
        dryRun: false,
        load: true,
      },
      out.stream,
      sink().stream,
    );

    // Assess
    expect(out.last()).toMatchObject({ hoursCompacted: 0, warehouse: { filesLoaded: 0, newRows: 0 } });
    expect(await warehouseFigures(lake.warehouseFile)).toEqual(before);
    expect(before).toMatchObject({ n: lake.sent.uniqueValid });
  });

  it('redoes a compaction that stopped before its manifest under the same keys, never counting its files as sources', async () => {
    // Prepare: a late file lands in the compacted hour; a compaction of it stops after its Parquet.
    const store = new LocalDirStore(root);
    const [compacted] = await store.list('requests/');
    const hour = compacted!.slice(0, compacted!.lastIndexOf('/') + 1);
    const late = `${hour}20990101T000000000Z-shardId-000000000009-${'1'.padStart(56, '0')}-${'2'.padStart(56, '0')}.parquet`;
    await store.put(late, await store.get(compacted!));
    const stopping = new (class extends LocalDirStore {
      override async put(key: string, body: Uint8Array): Promise<void> {
        if (key.startsWith('_shardline/compaction/')) throw new Error('stopped');
        await super.put(key, body);
      }
    })(root);
    await expect(
      compactLake(stopping, { closedForMs: Number.NEGATIVE_INFINITY, maxRowsPerFile: 1_000_000 }),
    ).rejects.toThrow('stopped');
    const leftovers = await store.list('requests/');

    // Act
    const [result] = await compactLake(store, {
      closedForMs: Number.NEGATIVE_INFINITY,
      maxRowsPerFile: 1_000_000,
    });

    // Assess: the leftover was the same key, rewritten; the late file's rows (the same requests) are kept as rows.
    expect(leftovers).toHaveLength(3);
    expect(result).toMatchObject({ sources: 2, outputs: 1, rows: 2 * lake.sent.uniqueValid });
    expect(await store.list('requests/')).toEqual(leftovers.filter((k) => k !== compacted && k !== late));
    expect(await lakeView(root)).toMatchObject({ n: lake.sent.uniqueValid });
  });

  it('deletes only the merged files SingleStore has loaded, keeps the others for the next run, and waits --delete-after otherwise', async () => {
    // Prepare: a late file lands in the compacted hour again.
    const store = new LocalDirStore(root);
    const [compacted] = await store.list('requests/');
    const hour = compacted!.slice(0, compacted!.lastIndexOf('/') + 1);
    const late = `${hour}20990101T000000000Z-shardId-000000000009-${'3'.padStart(56, '0')}-${'4'.padStart(56, '0')}.parquet`;
    await store.put(late, await store.get(compacted!));
    const asked: string[][] = [];

    // Act: SingleStore has loaded the old compacted file, not the late one; then it has loaded both.
    const [first] = await compactLake(store, {
      closedForMs: Number.NEGATIVE_INFINITY,
      maxRowsPerFile: 1_000_000,
      loaded: async (_hour, keys) => {
        asked.push([...keys]);
        return new Set(keys.filter((k) => k !== late));
      },
    });
    const afterFirst = await store.list('requests/');
    const [second] = await compactLake(store, {
      closedForMs: Number.NEGATIVE_INFINITY,
      maxRowsPerFile: 1_000_000,
      loaded: async (_hour, keys) => new Set(keys),
    });
    const afterSecond = await store.list('requests/');
    // Grace: with --delete-after, an hour that closed just now keeps its merged files.
    const later = late.replace(`-${'3'.padStart(56, '0')}-`, `-${'5'.padStart(56, '0')}-`);
    await store.put(later, await store.get(afterSecond[0]!));
    const hourEnd = Date.parse(`${hour.slice(12, 22)}T${hour.slice(26, 28)}:00:00Z`) + 3_600_000;
    const [graced] = await compactLake(store, {
      closedForMs: 0,
      deleteAfterMs: 3_600_000,
      maxRowsPerFile: 1_000_000,
      now: hourEnd + 60_000,
    });
    const [due] = await compactLake(store, {
      closedForMs: 0,
      deleteAfterMs: 3_600_000,
      maxRowsPerFile: 1_000_000,
      now: hourEnd + 3_600_000,
    });

    // Assess
    expect(asked[0]).toEqual([compacted, late].sort());
    expect(first).toMatchObject({ outputs: 1, kept: 1, keptReason: 'not loaded by SingleStore yet' });
    expect(afterFirst).toContain(late);
    expect(afterFirst).toHaveLength(2);
    expect(second).toMatchObject({ skipped: 'one file' });
    expect(second?.kept).toBeUndefined();
    expect(afterSecond).toHaveLength(1);
    expect(graced).toMatchObject({ outputs: 1, kept: 2, keptReason: 'within --delete-after' });
    expect(due?.kept).toBeUndefined();
    expect(await store.list('requests/')).toHaveLength(1);
    expect(await lakeView(root)).toMatchObject({ n: lake.sent.uniqueValid });
  });
});
