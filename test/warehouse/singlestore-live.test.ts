import { describe, expect, it } from 'vitest';
import { connectSingleStore, plainSingleStoreRows } from '../../consumers/cli/singlestore-connection.ts';
import { runWarehouseCommand } from '../../consumers/cli/warehouse-command.ts';
import { renderNamedQuery } from '../../schemas/queries/named-query.ts';
import { loadQueryLibrary } from '../../schemas/queries/query-library.ts';

/**
 * Against a real SingleStore, only when given one: SINGLESTORE_URL (singlestore://user:pass@host/db,
 * an empty database) and SINGLESTORE_PIPELINE_CONFIG (a JSON pipeline config whose lake already
 * holds Parquet landed by Shardline, e.g. by `shardline consume`). Reported as skipped otherwise.
 */
const url = process.env.SINGLESTORE_URL;
const pipelineConfig = process.env.SINGLESTORE_PIPELINE_CONFIG;
const live = url !== undefined && url !== '' && pipelineConfig !== undefined && pipelineConfig !== '';

describe.skipIf(!live)('SingleStore, live (SINGLESTORE_URL + SINGLESTORE_PIPELINE_CONFIG)', () => {
  const lines: string[] = [];
  const out = (line: string) => lines.push(line);

  it('init applies the migrations and starts the pipeline, and a second init changes nothing', async () => {
    // Act
    const first = await runWarehouseCommand(
      'init',
      { url, config: pipelineConfig, pipeline: 'shardline_requests', format: 'json', limit: 20 },
      out,
    );
    const second = await runWarehouseCommand(
      'init',
      { url, config: pipelineConfig, pipeline: 'shardline_requests', format: 'json', limit: 20 },
      out,
    );

    // Assess
    expect([first, second]).toEqual([0, 0]);
    expect(lines.filter((l) => l.startsWith('migration '))).toHaveLength(1);
  });

  it('loads the lake: rows arrive, no file is skipped', async () => {
    // Prepare
    const db = await connectSingleStore(url);
    let count = 0;

    // Act
    for (let i = 0; i < 60 && count === 0; i++) {
      const [row] = plainSingleStoreRows((await db.query('SELECT COUNT(*) AS n FROM requests'))[0]);
      count = Number(row?.n ?? 0);
      if (count === 0) await new Promise((r) => setTimeout(r, 2_000));
    }
    const status = await runWarehouseCommand(
      'status',
      { url, pipeline: 'shardline_requests', format: 'json', limit: 20 },
      out,
    );
    await db.end();

    // Assess
    expect(count).toBeGreaterThan(0);
    expect(status).toBe(0);
  });

  it('runs every named query', async () => {
    // Prepare
    const db = await connectSingleStore(url);
    const [range] = plainSingleStoreRows(
      (await db.query('SELECT MIN(ts) AS a, MAX(ts) AS b, MAX(project_id) AS p FROM requests'))[0],
    );
    const values = { project: String(range?.p), from: String(range?.a), to: '2999-12-31' };

    // Act
    const results = [];
    for (const q of loadQueryLibrary().values()) {
      const r = renderNamedQuery(q, 'singlestore', values);
      results.push({ name: q.name, rows: ((await db.query(r.sql, r.values))[0] as unknown[]).length });
    }
    await db.end();

    // Assess
    expect(results.filter((r) => r.rows === 0 && r.name !== 'best_practice_failures')).toEqual([]);
  });
});
