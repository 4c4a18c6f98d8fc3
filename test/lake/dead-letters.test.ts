import { readFileSync } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runDeadLettersList,
  runDeadLettersRedrive,
  runDeadLettersShow,
} from '../../consumers/cli/dead-letters-command.ts';
import type { LocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { type DemoLake, demoLake, sink, warehouseFigures } from './demo-lake.ts';

const snapshot = async (store: LocalDirStore) =>
  Promise.all((await store.list('')).map(async (k) => [k, (await stat(store.pathOf(k))).mtimeMs] as const));

describe('shardline dead-letters', () => {
  let kinesis: LocalKinesis;
  let demo: DemoLake;
  let broken: DemoLake;

  beforeAll(async () => {
    kinesis = await startLocalKinesis({ httpPort: 0, httpsPort: 0 });
    demo = await demoLake(kinesis, { stream: 'letters-demo', events: 2_000 });
    // A deployment whose validation was misconfigured: every request time looks implausible.
    broken = await demoLake(kinesis, {
      stream: 'letters-broken',
      events: 500,
      seed: 3,
      pipeline: { validate: { time: { earliest: '2099-01-01T00:00:00Z' } } },
    });
  }, 180_000);

  afterAll(async () => {
    await kinesis?.close();
    for (const d of [demo, broken]) if (d) await rm(d.dir, { recursive: true, force: true });
  });

  it("list counts equal the run's deadLettered, by reason", async () => {
    // Act
    const out = sink();
    await runDeadLettersList({ dir: '', config: demo.configFile, format: 'json' }, out.stream);

    // Assess
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(lines.at(-1)).toEqual({ total: demo.counters.deadLettered });
    const byReason: Record<string, number> = {};
    for (const l of lines.slice(0, -1))
      byReason[l.reason as string] = (byReason[l.reason as string] ?? 0) + (l.count as number);
    expect(byReason).toEqual(demo.counters.deadLetteredByReason);
  });

  it('shows one letter with its original bytes decoded', async () => {
    // Prepare
    const each = sink();
    await runDeadLettersList({ dir: '', config: demo.configFile, format: 'json', each: true }, each.stream);
    const ref = (JSON.parse(each.text().split('\n')[0]!) as { ref: string }).ref;

    // Act
    const out = sink();
    await runDeadLettersShow(ref, { dir: '', config: demo.configFile }, out.stream);

    // Assess
    expect(out.text()).toContain(`ref          ${ref}`);
    expect(out.text()).toMatch(/--- data ---\n.+/);
  });

  it('a re-drive of letters that are still bad changes nothing', async () => {
    // Prepare
    const store = new LocalDirStore(demo.config.lake.type === 'local' ? demo.config.lake.dir : '');
    const before = await snapshot(store);

    // Act
    const out = sink();
    await runDeadLettersRedrive(
      { dir: '', config: demo.configFile, dryRun: false, load: true },
      out.stream,
      sink().stream,
    );

    // Assess
    expect(out.last()).toMatchObject({
      selected: demo.counters.deadLettered,
      passed: 0,
      changed: 0,
      parquetFiles: [],
      letterFilesRewritten: [],
    });
    expect(await snapshot(store)).toEqual(before);
  });

  it('a re-drive after the fix lands the letters once, however often it runs', async () => {
    // Prepare: the fixed config (default validation).
    const fixed = `${broken.configFile}.fixed.json`;
    const json = JSON.parse(readFileSync(broken.configFile, 'utf8'));
    delete json.validate;
    await writeFile(fixed, JSON.stringify(json));
    const before = await warehouseFigures(broken.warehouseFile);

    // Act
    const first = sink();
    await runDeadLettersRedrive(
      { dir: '', config: fixed, dryRun: false, load: true },
      first.stream,
      sink().stream,
    );
    const second = sink();
    await runDeadLettersRedrive(
      { dir: '', config: fixed, dryRun: false, load: true },
      second.stream,
      sink().stream,
    );
    const list = sink();
    await runDeadLettersList({ dir: '', config: fixed, format: 'json' }, list.stream);

    // Assess
    expect(before).toMatchObject({ n: 0 });
    expect(first.last()).toMatchObject({
      passed: broken.sent.uniqueValid + broken.sent.duplicates,
      rows: broken.sent.uniqueValid,
    });
    expect(second.last()).toMatchObject({ selected: broken.sent.malformed, passed: 0, parquetFiles: [] });
    expect(await warehouseFigures(broken.warehouseFile)).toMatchObject({
      n: broken.sent.uniqueValid,
      keys: broken.sent.uniqueValid,
    });
    expect(JSON.parse(list.text().trim().split('\n').at(-1)!)).toEqual({ total: broken.sent.malformed });
  });
});
