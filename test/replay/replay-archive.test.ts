import { readdirSync, readlinkSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../consumers/cli/replay-command.ts';
import type { LocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';
import { type DemoLake, demoLake, sink, warehouseFigures } from '../lake/demo-lake.ts';

/**
 * archive_to_warehouse: a demo run lands Parquet and its raw archive; `shardline replay --source
 * archive` over the whole range re-derives every row with today's code.
 */
describe('shardline replay --source archive', () => {
  let kinesis: LocalKinesis;
  let lake: DemoLake;

  beforeAll(async () => {
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    lake = await demoLake(kinesis, { stream: 'replay-archive', events: 3_000 });
  }, 120_000);

  afterAll(async () => {
    await kinesis?.close();
    if (lake) await rm(lake.dir, { recursive: true, force: true });
  });

  const replay = async (configFile: string, extra: Partial<Parameters<typeof runReplay>[0]> = {}) => {
    const out = sink();
    const err = sink();
    const code = await runReplay(
      {
        dir: '',
        config: configFile,
        source: 'archive',
        from: '2000-01-01T00:00:00Z',
        dryRun: false,
        load: true,
        ...extra,
      },
      out.stream,
      err.stream,
    );
    return { code, summary: out.last(), stderr: err.text() };
  };

  it('archives every record the run read, and a replay over the whole range changes no row', async () => {
    // Prepare
    const before = await warehouseFigures(lake.warehouseFile);
    const store = new LocalDirStore(lake.config.lake.type === 'local' ? lake.config.lake.dir : '');
    const archived = await store.list('raw/');

    // Act
    const first = await replay(lake.configFile);
    const afterFirst = await warehouseFigures(lake.warehouseFile);
    const second = await replay(lake.configFile);
    const afterSecond = await warehouseFigures(lake.warehouseFile);

    // Assess
    expect(archived.length).toBeGreaterThan(0);
    expect(first.code).toBe(0);
    expect(first.summary).toMatchObject({
      records: lake.counters.records,
      landed: lake.counters.landed,
      deadLettered: lake.counters.deadLettered,
      warehouse: { replacedRows: 0, newRows: 0 },
    });
    expect(first.stderr).toMatch(/archive \(\d+ objects\) +\[#+\] 100% 3000 records/);
    expect(before).toMatchObject({ n: lake.sent.uniqueValid, requests: lake.sent.uniqueValid });
    expect(afterFirst).toEqual(before);
    expect(second.summary).toMatchObject({ warehouse: { replacedRows: 0, newRows: 0 } });
    expect(afterSecond).toEqual(before);
    expect(await store.list(`replays/requests/g=${first.summary.generation}/`)).not.toEqual([]);
  });

  it('replaces the rows a changed enrichment rule re-derives, and only those; resends still give one row', async () => {
    // Prepare: today's rule keeps only the host header's value.
    const config = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(lake.configFile, 'utf8')));
    const changedConfig = `${lake.configFile}.allowlist.json`;
    await writeFile(changedConfig, JSON.stringify({ ...config, redaction: { headerAllowlist: ['host'] } }));

    // Act
    const changed = await replay(changedConfig);
    const again = await replay(changedConfig);

    // Assess
    const figures = await warehouseFigures(lake.warehouseFile);
    expect(figures).toMatchObject({
      n: lake.sent.uniqueValid,
      requests: lake.sent.uniqueValid,
      keys: lake.sent.uniqueValid,
    });
    expect((changed.summary.warehouse as { replacedRows: number }).replacedRows).toBeGreaterThan(0);
    expect(again.summary).toMatchObject({ warehouse: { replacedRows: 0, newRows: 0 } });
    const warehouse = await DuckDbWarehouse.open(lake.warehouseFile);
    const [row] = await warehouse.query(
      `SELECT count(*) FILTER (WHERE headers LIKE '%"accept":"[REDACTED]"%') AS redacted,
              count(*) FILTER (WHERE generation = ${changed.summary.generation}) AS replayed,
              count(*) FILTER (WHERE headers LIKE '%"accept":"%' AND headers NOT LIKE '%"accept":"[REDACTED]"%') AS kept
       FROM requests`,
    );
    await warehouse.close();
    expect(row!.kept).toBe(0);
    expect(row!.redacted).toBeGreaterThan(0);
    expect(row!.replayed).toBe((changed.summary.warehouse as { replacedRows: number }).replacedRows);
    expect(lake.sent.duplicates).toBeGreaterThan(0);
  });

  it('--dry-run counts and writes nothing', async () => {
    // Prepare
    const store = new LocalDirStore(lake.config.lake.type === 'local' ? lake.config.lake.dir : '');
    const before = await store.list('');

    // Act
    const dry = await replay(lake.configFile, { dryRun: true });

    // Assess
    expect(dry.summary).toMatchObject({
      dryRun: true,
      records: lake.counters.records,
      landed: lake.counters.landed,
    });
    expect(await store.list('')).toEqual(before);
  });

  it('fails on an archive object it cannot read, and closes its pipeline (stage threads, geo-IP files) before it says so', async () => {
    // Prepare: a damaged object among the archived ones, and geo-IP on so that the run opens files.
    const store = new LocalDirStore(lake.config.lake.type === 'local' ? lake.config.lake.dir : '');
    const [first] = await store.list('raw/');
    const damaged = first!.replace(/shardId-\d{12}/, 'shardId-000000000099');
    await store.put(damaged, Buffer.from('not an archive'));
    const withGeo = `${lake.configFile}.geo.json`;
    const json = JSON.parse(await readFile(lake.configFile, 'utf8')) as { enrich?: object };
    await writeFile(withGeo, JSON.stringify({ ...json, enrich: { ...json.enrich, geoIp: true } }));
    const mmdbOpen = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).endsWith('.mmdb');
        } catch {
          return false;
        }
      }).length;
    const before = mmdbOpen();

    // Act
    const outcome = await replay(withGeo, { dryRun: true }).then(
      (r) => `exit ${r.code}`,
      (e: Error) => e.message,
    );
    await rm(join(lake.config.lake.type === 'local' ? lake.config.lake.dir : '', ...damaged.split('/')));

    // Assess
    expect(outcome).toMatch(/not gzip.*add --skip-damaged/);
    expect(mmdbOpen()).toBe(before);
  });

  it('with --skip-damaged, replays the other objects and lists the damaged one in its summary', async () => {
    // Prepare
    const dir = lake.config.lake.type === 'local' ? lake.config.lake.dir : '';
    const store = new LocalDirStore(dir);
    const [first] = await store.list('raw/');
    const damaged = first!.replace(/shardId-\d{12}/, 'shardId-000000000098');
    await store.put(damaged, Buffer.from('not an archive'));
    const whole = await replay(lake.configFile, { dryRun: true }).then(
      () => 'finished',
      (e: Error) => e.message,
    );

    // Act
    const skipping = await replay(lake.configFile, { dryRun: true, skipDamaged: true }).finally(() =>
      rm(join(dir, ...damaged.split('/'))),
    );
    const clean = await replay(lake.configFile, { dryRun: true });

    // Assess
    expect(whole).toMatch(/add --skip-damaged/);
    expect(skipping.code).toBe(0);
    expect(skipping.stderr).toContain(`warning: skipped ${damaged}: not gzip`);
    const summary = skipping.summary as { records: number; damagedObjects: { key: string }[] };
    expect(summary.damagedObjects.map((d) => d.key)).toEqual([damaged]);
    expect(summary.records).toBe((clean.summary as { records: number }).records);
  });
});
