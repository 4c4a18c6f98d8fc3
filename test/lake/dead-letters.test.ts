import { readFileSync } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  escapeControls,
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
    const err = sink();
    await runDeadLettersList({ dir: '', config: demo.configFile, format: 'json' }, out.stream, err.stream);

    // Assess: every stdout line is a group; the total is on stderr.
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(err.text()).toBe(`${demo.counters.deadLettered} dead letters\n`);
    const byReason: Record<string, number> = {};
    for (const l of lines)
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
    const err = sink();
    await runDeadLettersShow(ref, { dir: '', config: demo.configFile }, out.stream, err.stream);
    const redacted = sink();
    const quiet = sink();
    await runDeadLettersShow(
      ref,
      { dir: '', config: demo.configFile, redact: true },
      redacted.stream,
      quiet.stream,
    );

    // Assess
    expect(out.text()).toContain(`ref          ${ref}`);
    expect(out.text()).toMatch(/--- data ---\n.+/);
    expect(err.text()).toMatch(/may hold secrets.*--redact/);
    expect(redacted.text()).toMatch(/redacted {5}--redact: /);
    expect(quiet.text()).toBe('');
  });

  it('show escapes control characters a terminal would act on', () => {
    // Assess
    expect(escapeControls('a\u001b]0;pwned\u0007b\r\tc\nd\u009b')).toBe(
      'a\\x1b]0;pwned\\x07b\\x0d\tc\nd\\x9b',
    );
  });

  it('list --format json | head exits quietly when the reader goes away (EPIPE)', async () => {
    // Prepare: a stdout whose reader left after the first line.
    const { Writable } = await import('node:stream');
    let lines = 0;
    const closed = new Writable({
      write(_chunk, _enc, done) {
        lines += 1;
        done(lines > 1 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : undefined);
      },
    });

    // Act
    const code = await runDeadLettersList(
      { dir: '', config: demo.configFile, format: 'json', each: true },
      closed,
      sink().stream,
    );

    // Assess
    expect(code).toBe(0);
    expect(lines).toBeLessThan(demo.counters.deadLettered);
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
    await runDeadLettersList({ dir: '', config: fixed, format: 'json' }, sink().stream, list.stream);

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
    expect(list.text()).toBe(`${broken.sent.malformed} dead letters\n`);
  });
});
