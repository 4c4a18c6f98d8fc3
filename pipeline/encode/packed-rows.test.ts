import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestRow } from '../../schemas/request-row.ts';
import { PackedRows, PackedStrings } from './packed-rows.ts';
import { ParquetEncoder } from './parquet-encoder.ts';
import { sampleRequestRows } from './sample-request-rows.ts';

/** Sample rows with what a plain sample does not hit: nulls, non-ASCII, empty and long strings. */
const edgeRows = (n: number, seed: number): RequestRow[] => {
  const rows = sampleRequestRows(n, { seed });
  const [a, b, c] = rows as [RequestRow, RequestRow, RequestRow];
  a.path = '/v1/o\'reilly/"quoted"/ünïcödé/😀';
  a.bytes_in = null;
  a.project_id = 'proj-😀';
  b.host = null;
  b.headers = null;
  b.query = '';
  b.project_id = 'proj-\uffff';
  c.request_body = 'x'.repeat(20_000);
  c.bytes_out = 5_000_000_000;
  c.ts = -5n;
  return rows;
};

/** A row as packed rows give it back: `generation`, when missing, as its column's default. */
const asHeld = (r: RequestRow): RequestRow => ({ ...r, generation: r.generation ?? 0 });

let encoder: ParquetEncoder;

beforeAll(async () => {
  encoder = await ParquetEncoder.create();
});

afterAll(async () => {
  await encoder.close();
});

describe('PackedRows', () => {
  it('gives back every row as it was appended, nulls, non-ASCII and all', () => {
    // Prepare
    const rows = edgeRows(3_000, 5);
    const packed = new PackedRows();

    // Act
    for (const row of rows) packed.append(row);

    // Assess
    expect(packed.length).toBe(3_000);
    expect(Array.from({ length: packed.length }, (_, i) => packed.row(i))).toEqual(rows.map(asHeld));
  });

  it('writes the same Parquet file as the rows given as objects', async () => {
    // Prepare: two batches, the second a subset in another order (a batch without duplicates).
    const rows = edgeRows(5_000, 11);
    const packed = new PackedRows();
    for (const row of rows) packed.append(row);
    const subset = Array.from({ length: 2_500 }, (_, i) => 4_999 - 2 * i);

    // Act
    const all = await encoder.encodePacked(
      packed,
      Array.from({ length: 5_000 }, (_, i) => i),
    );
    const some = await encoder.encodePacked(packed, subset);

    // Assess
    expect(Buffer.from(all).equals(Buffer.from(await encoder.encode(rows)))).toBe(true);
    expect(Buffer.from(some).equals(Buffer.from(await encoder.encode(subset.map((i) => rows[i]!))))).toBe(
      true,
    );
  });

  it('refuses a value its column cannot hold, naming the column and the type, and holds nothing of that row', () => {
    // Prepare
    const [good, bad, next] = sampleRequestRows(3, { seed: 2 }) as [RequestRow, RequestRow, RequestRow];
    const packed = new PackedRows();
    packed.append(good);
    const refusals: string[] = [];
    const cases: Partial<Record<keyof RequestRow, unknown>>[] = [
      { status: 70_000 },
      { bytes_out: 2 ** 60 },
      { latency_ms: 'slow' },
      { method: null },
      { user_agent: 42 },
      { ts: 2n ** 64n },
      { is_bot: 1 },
    ];

    // Act
    for (const change of cases) {
      try {
        packed.append({ ...bad, ...change } as RequestRow);
      } catch (e) {
        refusals.push((e as Error).message);
      }
    }
    packed.append(next);

    // Assess
    expect(refusals).toEqual([
      'column status (int16) of row 1: got number, which it cannot hold',
      'column bytes_out (int64, nullable) of row 1: got number, which it cannot hold',
      'column latency_ms (float64) of row 1: got string, which it cannot hold',
      'column method (string) of row 1: got null, which it cannot hold',
      'column user_agent (string, nullable) of row 1: got number, which it cannot hold',
      'column ts (timestamp) of row 1: got bigint, which it cannot hold',
      'column is_bot (bool) of row 1: got number, which it cannot hold',
    ]);
    expect([packed.length, packed.row(0), packed.row(1)]).toEqual([2, asHeld(good), asHeld(next)]);
  });

  it('drops encoded rows from the front and truncates undone ones, keeping the rest intact', () => {
    // Prepare
    const rows = edgeRows(1_000, 3);
    const packed = new PackedRows();
    for (const row of rows.slice(0, 700)) packed.append(row);

    // Act
    packed.dropHead(400);
    packed.truncate(250);
    for (const row of rows.slice(650)) packed.append(row);

    // Assess
    const held = Array.from({ length: packed.length }, (_, i) => packed.row(i));
    expect(held).toEqual([...rows.slice(400, 650), ...rows.slice(650)].map(asHeld));
  });

  it('reuses its buffers batch after batch, and gives capacity back after a large batch', () => {
    // Prepare
    const rows = sampleRequestRows(2_000, { seed: 4 });
    const packed = new PackedRows();
    const batch = (n: number) => {
      for (let i = 0; i < n; i++) packed.append(rows[i % rows.length]!);
      packed.dropHead(n);
    };

    // Act
    batch(2_000);
    const afterFirst = packed.bytes;
    for (let i = 0; i < 5; i++) batch(2_000);
    const steady = packed.bytes;
    batch(50_000);
    batch(100);
    batch(100);

    // Assess: the same buffers while batches are alike; a burst's capacity is not kept.
    expect(steady).toBe(afterFirst);
    expect(packed.bytes).toBeLessThan(afterFirst);
    expect(packed.length).toBe(0);
  });

  it('forgets the projects of dropped rows (a project id per request held nothing for ever)', () => {
    // Prepare
    const [row] = sampleRequestRows(1, { seed: 8 }) as [RequestRow];
    const packed = new PackedRows();

    // Act: 10,000 projects, each seen once, with batches of 100 dropped as they land.
    for (let i = 0; i < 10_000; i++) {
      packed.append({ ...row, project_id: `p-${i}` });
      if (packed.length === 100) packed.dropHead(100);
    }
    packed.append({ ...row, project_id: 'last' });

    // Assess
    expect((packed as unknown as { names: string[] }).names.length).toBeLessThanOrEqual(65);
    expect(packed.row(0).project_id).toBe('last');
  });
});

describe('PackedStrings', () => {
  it('holds strings by position through drops and truncations', () => {
    // Prepare
    const strings = new PackedStrings();
    const values = Array.from({ length: 600 }, (_, i) => (i % 7 === 0 ? '' : `pk-${i}-ü😀`));

    // Act
    for (const v of values.slice(0, 500)) strings.push(v);
    strings.dropHead(300);
    strings.truncate(150);
    for (const v of values.slice(450)) strings.push(v);

    // Assess
    expect(Array.from({ length: strings.length }, (_, i) => strings.get(i))).toEqual([
      ...values.slice(300, 450),
      ...values.slice(450),
    ]);
  });
});
