import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { runDeadLettersList } from '../../consumers/cli/dead-letters-command.ts';
import { encodeDeadLetters } from '../../pipeline/dead-letter/dead-letter-sink.ts';
import { LocalDirStore } from '../../pipeline/land/local-dir-store.ts';
import { MemoryStore } from '../../pipeline/land/memory-store.ts';
import { letterFiles, readLetterFile, redrive } from '../../pipeline/replay/redrive.ts';
import type { DeadLetter } from '../../pipeline/types.ts';
import type { RequestRow } from '../../schemas/request-row.ts';

const seq = (n: number) => String(n).padStart(56, '0');
const KEY = `dead_letters/dt=2025-01-15/hr=10/20250115T100005000Z-shardId-000000000000-${seq(1)}-${seq(3)}.jsonl`;

const letter = (n: number, requestId: string): DeadLetter => ({
  reason: 'encode_failed',
  stage: 'encode',
  message: 'the Parquet encoder refuses this row on its own (Error); the log is kept for a replay once fixed',
  shardId: 'shardId-000000000000',
  sequenceNumber: String(n),
  partitionKey: 'pk',
  arrivedAt: new Date('2025-01-15T10:00:05Z'),
  data: Buffer.from(
    `${JSON.stringify({
      timestamp: '2025-01-15T10:00:00.000Z',
      request_id: requestId,
      project_id: 'proj_alpha',
      method: 'GET',
      path: `/v1/users/${n}`,
      status: 200,
      latency_ms: 12.7,
      bytes_in: 0,
      bytes_out: 512,
      ip: '203.0.113.9',
      user_agent: 'curl/8.5.0',
      headers: { host: 'api.example.com' },
    })}\n`,
  ),
});

/** An encoder that refuses any batch holding the poison request, as a broken column value would. */
const poisonedEncoder = () => {
  const encoded: RequestRow[][] = [];
  return {
    encoded,
    async encode(rows: readonly RequestRow[]): Promise<Uint8Array> {
      if (rows.some((r) => r.request_id === 'req-poison')) throw new RangeError('value out of range');
      encoded.push([...rows]);
      return Buffer.from(`${rows.length} rows`);
    },
    async close() {},
  };
};

/** A stream that keeps what is written to it. */
const sinkStream = () => {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
};

const config = parseConsumeConfig(
  {
    stream: { name: 'redrive-encode' },
    lake: { type: 'local', dir: '/nonexistent' },
    warehouse: { type: 'none' },
    enrich: { geoIp: false },
  },
  'test',
);

describe('dead-letters redrive of encode_failed letters', () => {
  it('keeps the letters whose rows the encoder still refuses, lands the rest, and does not abort the run', async () => {
    // Prepare
    const store = new MemoryStore({ keepBodies: true });
    const letters = [letter(1, 'req-1'), letter(2, 'req-poison'), letter(3, 'req-3')];
    await store.put(KEY, encodeDeadLetters(letters, 'keep'));
    const poisonLine = (await readLetterFile(store, KEY))[1]!.line;
    const encoder = poisonedEncoder();

    // Act
    const result = await redrive(store, config, {}, { encoder });
    const after = await readLetterFile(store, KEY);

    // Assess
    expect(result).toMatchObject({
      selected: 3,
      passed: 2,
      rows: 2,
      stillBad: 1,
      encodeFailed: 1,
      filesFailed: [],
    });
    expect(result.parquetFiles).toHaveLength(1);
    expect(Buffer.from(await store.get(result.parquetFiles[0]!)).toString()).toBe('2 rows');
    expect(
      encoder.encoded
        .at(-1)!
        .map((r) => r.request_id)
        .sort(),
    ).toEqual(['req-1', 'req-3']);
    expect(after.map((l) => l.line)).toEqual([poisonLine]);
  });

  it('re-drives and lists the other files when one holds a line that is not a dead letter, naming it', async () => {
    // Prepare: a good file, and a damaged one (a line cut short) an hour later.
    const dir = await mkdtemp(join(tmpdir(), 'redrive-damaged-'));
    try {
      const store = new LocalDirStore(join(dir, 'lake'));
      const damaged = KEY.replace('/hr=10/20250115T10', '/hr=11/20250115T11');
      await store.put(KEY, encodeDeadLetters([letter(1, 'req-1')], 'keep'));
      const good = Buffer.from(encodeDeadLetters([letter(2, 'req-2')], 'keep')).toString();
      const bytes = Buffer.from(`${good}{"reason":"encode_failed","stage":\n`);
      await store.put(damaged, bytes);
      const configFile = join(dir, 'shardline.json');
      await writeFile(
        configFile,
        JSON.stringify({
          stream: { name: 'redrive-damaged' },
          lake: { type: 'local', dir: join(dir, 'lake') },
          warehouse: { type: 'none' },
          enrich: { geoIp: false },
        }),
      );
      const out = sinkStream();
      const err = sinkStream();

      // Act
      await runDeadLettersList(
        { dir, config: configFile, format: 'json', each: true },
        out.stream,
        err.stream,
      );
      const result = await redrive(store, config, {}, { encoder: poisonedEncoder() });

      // Assess
      expect(out.text().trim().split('\n')).toHaveLength(1);
      expect(err.text()).toContain(`warning: ${damaged}: line 2 is not a dead letter`);
      expect(result.passed).toBe(1);
      expect(result.filesDamaged.map((f) => f.key)).toEqual([damaged]);
      expect(Buffer.from(await store.get(damaged)).equals(bytes)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists, for --from/--to, a file keyed hours later that holds letters that arrived in the range', async () => {
    // Prepare: a shard caught up after an outage: its batch holds arrivals from 10:00 to the next
    // day's 03:00, keyed by the newest.
    const store = new MemoryStore({ keepBodies: true });
    const late = KEY.replace('dt=2025-01-15/hr=10/20250115T10', 'dt=2025-01-16/hr=03/20250116T03');
    await store.put(
      late,
      encodeDeadLetters(
        [letter(1, 'req-1'), { ...letter(2, 'req-2'), arrivedAt: new Date('2025-01-16T03:00:05Z') }],
        'keep',
      ),
    );

    // Act
    const byRange = await letterFiles(store, {
      from: new Date('2025-01-15T09:30:00Z'),
      to: new Date('2025-01-15T11:00:00Z'),
    });

    // Assess
    expect(byRange).toEqual([late]);
  });

  it('reads only the file of --ref, and only the hours of --from/--to', async () => {
    // Prepare
    const store = new MemoryStore({ keepBodies: true });
    const other = KEY.replace('dt=2025-01-15/hr=10/20250115T10', 'dt=2025-01-16/hr=03/20250116T03');
    await store.put(KEY, encodeDeadLetters([letter(1, 'req-1')], 'keep'));
    // Letters that arrived when the other file says (a file keyed later can hold earlier
    // arrivals: a shard read far behind; see the next test).
    await store.put(
      other,
      encodeDeadLetters([{ ...letter(1, 'req-1'), arrivedAt: new Date('2025-01-16T03:00:05Z') }], 'keep'),
    );
    const listed: string[] = [];
    const list = store.list.bind(store);
    store.list = async (prefix: string) => {
      listed.push(prefix);
      return list(prefix);
    };

    // Act
    const byRef = await letterFiles(store, { ref: `${KEY}#0` });
    const missing = await letterFiles(store, { ref: `${KEY.replace('T1000', 'T1001')}#0` });
    const byRange = await letterFiles(store, {
      from: new Date('2025-01-15T09:30:00Z'),
      to: new Date('2025-01-15T11:00:00Z'),
    });

    // Assess
    expect(byRef).toEqual([KEY]);
    expect(missing).toEqual([]);
    expect(byRange).toEqual([KEY]);
    expect(listed).not.toContain('dead_letters/');
    expect(listed.filter((p) => p.includes('hr='))).toEqual([
      'dead_letters/dt=2025-01-15/hr=10/',
      'dead_letters/dt=2025-01-15/hr=10/',
      'dead_letters/dt=2025-01-15/hr=09/',
      'dead_letters/dt=2025-01-15/hr=10/',
      'dead_letters/dt=2025-01-15/hr=11/',
      'dead_letters/dt=2025-01-15/hr=12/',
      'dead_letters/dt=2025-01-15/hr=13/',
    ]);
  });

  it('closes the geo-IP files it opened, even when closing the encoder fails', async () => {
    // Prepare: geo-IP on (the bundled files), and an encoder whose close fails.
    const withGeo = parseConsumeConfig(
      {
        stream: { name: 'redrive-encode' },
        lake: { type: 'local', dir: '/nonexistent' },
        warehouse: { type: 'none' },
      },
      'test',
    );
    const store = new MemoryStore({ keepBodies: true });
    await store.put(KEY, encodeDeadLetters([letter(1, 'req-1')], 'keep'));
    const encoder = {
      ...poisonedEncoder(),
      async close() {
        throw new Error('disk gone');
      },
    };
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();

    // Act
    const outcome = await redrive(store, withGeo, {}, { encoder }).then(
      () => 'done',
      (e: Error) => e.message,
    );

    // Assess
    expect(outcome).toBe('disk gone');
    expect(fds()).toBe(before);
  });
});
