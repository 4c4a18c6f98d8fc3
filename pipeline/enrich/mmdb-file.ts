import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * A MaxMind DB (.mmdb) read from its file on demand, through a page cache of fixed size, rather
 * than held whole in memory.
 *
 * The bundled DB-IP Lite city files are 63 MB (IPv4) and 71 MB (IPv6); held in memory they were
 * ~134 MB of every worker's RSS, the largest single item of `bench:pipeline`'s peak. A lookup
 * only touches the ~32 tree nodes on its address's path (128 for IPv6) and one data record, and
 * the nodes near the root are shared by every path, so a few MB of 4 KiB pages serve it: pages
 * are read with `pread` (the operating system's page cache keeps the file warm for every thread
 * and process) into one buffer allocated up front, and evicted by the clock algorithm.
 *
 * Format: https://maxmind.github.io/MaxMind-DB/ (search tree of 24/28/32-bit records, then a
 * 16-byte separator, then the data section; metadata after `\xAB\xCD\xEFMaxMind.com` near the end).
 * Results are checked against the `maxmind` package's reader on the bundled files (mmdb-file.test.ts).
 *
 * The file is read while the pipeline runs: replace a database by writing the new one beside it
 * and renaming it over the old one (as geoipupdate does), never by rewriting it in place. An open
 * reader keeps reading the file it opened; a worker reads the new one when it next starts.
 */

const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE - 1;
/** Default pages kept per open file: 4 MiB. */
export const MMDB_CACHE_PAGES = 1024;
const METADATA_MARKER = Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');
/** The metadata is within the last 128 KiB of the file (the format's bound). */
const METADATA_MAX = 128 * 1024;
const DATA_SEPARATOR = 16;

export interface MmdbMetadata {
  readonly nodeCount: number;
  readonly recordSize: 24 | 28 | 32;
  readonly ipVersion: 4 | 6;
  readonly databaseType: string;
}

/** A damaged or unsupported .mmdb file, or a lookup that ran off its end. */
export class MmdbError extends Error {
  override readonly name = 'MmdbError';
}

/** Bytes at absolute offsets: the file through its pages, or a buffer (the metadata). */
interface ByteSource {
  u8(offset: number): number;
  /** `length` bytes from `offset` as UTF-8 text. */
  utf8(offset: number, length: number): string;
  /** `length` bytes from `offset`, copied. */
  bytes(offset: number, length: number): Buffer;
}

class BufferSource implements ByteSource {
  constructor(
    private readonly buffer: Buffer,
    /** Absolute offset of the buffer's first byte. */
    private readonly base: number,
  ) {}
  u8(offset: number): number {
    const v = this.buffer[offset - this.base];
    if (v === undefined) throw new MmdbError(`offset ${offset} is outside the metadata`);
    return v;
  }
  utf8(offset: number, length: number): string {
    return this.bytes(offset, length).toString('utf8');
  }
  bytes(offset: number, length: number): Buffer {
    const at = offset - this.base;
    if (at < 0 || at + length > this.buffer.byteLength)
      throw new MmdbError(`bytes ${offset}+${length} are outside the metadata`);
    return Buffer.from(this.buffer.subarray(at, at + length));
  }
}

/** The file's pages: a fixed pool of `capacity` page slots in one buffer, evicted by the clock algorithm. */
class PagedFile implements ByteSource {
  private readonly pool: Buffer;
  /** Page number → slot + 1 (0: not resident). */
  private readonly slotOf: Int32Array;
  /** Slot → page number held (-1: free). */
  private readonly pageIn: Int32Array;
  private readonly referenced: Uint8Array;
  private hand = 0;
  private used = 0;
  /** Pages read from the file (misses), for tests and figures. */
  reads = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly capacity: number,
  ) {
    this.pool = Buffer.alloc(capacity * PAGE);
    this.slotOf = new Int32Array(Math.ceil(size / PAGE));
    this.pageIn = new Int32Array(capacity).fill(-1);
    this.referenced = new Uint8Array(capacity);
  }

  get residentPages(): number {
    return this.used;
  }

  /** Offset in `pool` of the page holding `offset`, reading it in if needed. */
  at(offset: number): number {
    if (offset < 0 || offset >= this.size) throw new MmdbError(`offset ${offset} is outside the file`);
    const page = offset >>> PAGE_BITS;
    let slot = this.slotOf[page]! - 1;
    if (slot < 0) slot = this.load(page);
    else this.referenced[slot] = 1;
    return slot * PAGE + (offset & PAGE_MASK);
  }

  private load(page: number): number {
    let slot: number;
    if (this.used < this.capacity) slot = this.used++;
    else {
      while (this.referenced[this.hand] === 1) {
        this.referenced[this.hand] = 0;
        this.hand = (this.hand + 1) % this.capacity;
      }
      slot = this.hand;
      this.hand = (this.hand + 1) % this.capacity;
      this.slotOf[this.pageIn[slot]!] = 0;
    }
    const start = page * PAGE;
    const length = Math.min(PAGE, this.size - start);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, this.pool, slot * PAGE + got, length - got, start + got);
      if (n === 0) throw new MmdbError(`the file ended at byte ${start + got}; was it truncated?`);
      got += n;
    }
    this.reads += 1;
    this.pageIn[slot] = page;
    this.slotOf[page] = slot + 1;
    this.referenced[slot] = 1;
    return slot;
  }

  u8(offset: number): number {
    return this.pool[this.at(offset)]!;
  }

  /** Big-endian unsigned integer of `length` (≤ 4) bytes at `offset`. */
  uint(offset: number, length: number): number {
    if ((offset & PAGE_MASK) + length <= PAGE && offset + length <= this.size) {
      const p = this.at(offset);
      let v = 0;
      for (let i = 0; i < length; i++) v = v * 256 + this.pool[p + i]!;
      return v;
    }
    let v = 0;
    for (let i = 0; i < length; i++) v = v * 256 + this.u8(offset + i);
    return v;
  }

  utf8(offset: number, length: number): string {
    // Within one page and within the file (the last page is partly filled): else byte by byte,
    // which refuses to read past the end.
    if ((offset & PAGE_MASK) + length <= PAGE && length > 0 && offset + length <= this.size) {
      const p = this.at(offset);
      return this.pool.toString('utf8', p, p + length);
    }
    return this.bytes(offset, length).toString('utf8');
  }

  bytes(offset: number, length: number): Buffer {
    if (offset + length > this.size) throw new MmdbError(`bytes ${offset}+${length} run past the file's end`);
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const p = this.at(offset + done);
      const n = Math.min(length - done, PAGE - ((offset + done) & PAGE_MASK));
      this.pool.copy(out, done, p, p + n);
      done += n;
    }
    return out;
  }
}

/**
 * Decodes the MaxMind DB data format at `offset` of `src`; `pointerBase` is where pointers count
 * from (the data section). Returns the value and the offset after it.
 */
const decode = (src: ByteSource, pointerBase: number, offset: number, depth = 0): [unknown, number] => {
  if (depth > 32) throw new MmdbError('data nested more than 32 deep');
  const ctrl = src.u8(offset++);
  let type = ctrl >> 5;
  if (type === 1) {
    // Pointer: the value is elsewhere; decoding goes on after the pointer itself.
    const ss = (ctrl >> 3) & 3;
    const vvv = ctrl & 7;
    let target: number;
    if (ss === 0) target = vvv * 256 + src.u8(offset);
    else if (ss === 1) target = (vvv * 256 + src.u8(offset)) * 256 + src.u8(offset + 1) + 2048;
    else if (ss === 2)
      target = ((vvv * 256 + src.u8(offset)) * 256 + src.u8(offset + 1)) * 256 + src.u8(offset + 2) + 526_336;
    else
      target =
        ((src.u8(offset) * 256 + src.u8(offset + 1)) * 256 + src.u8(offset + 2)) * 256 + src.u8(offset + 3);
    const [value] = decode(src, pointerBase, pointerBase + target, depth + 1);
    return [value, offset + ss + 1];
  }
  if (type === 0) type = 7 + src.u8(offset++);
  let size = ctrl & 0x1f;
  if (size === 29) size = 29 + src.u8(offset++);
  else if (size === 30) {
    size = 285 + src.u8(offset) * 256 + src.u8(offset + 1);
    offset += 2;
  } else if (size === 31) {
    size = 65_821 + (src.u8(offset) * 256 + src.u8(offset + 1)) * 256 + src.u8(offset + 2);
    offset += 3;
  }
  switch (type) {
    case 2:
      return [src.utf8(offset, size), offset + size];
    case 3:
      if (size !== 8) throw new MmdbError(`a double of ${size} bytes`);
      return [src.bytes(offset, 8).readDoubleBE(0), offset + 8];
    case 4:
      return [src.bytes(offset, size), offset + size];
    case 5:
    case 6: {
      if (size > 4) throw new MmdbError(`an unsigned ${type === 5 ? 16 : 32}-bit integer of ${size} bytes`);
      let v = 0;
      for (let i = 0; i < size; i++) v = v * 256 + src.u8(offset + i);
      return [v, offset + size];
    }
    case 9:
    case 10: {
      // As the maxmind package gives them: 64- and 128-bit integers are bigints.
      if (size > 16) throw new MmdbError(`an unsigned integer of ${size} bytes`);
      let v = 0n;
      for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(src.u8(offset + i));
      return [v, offset + size];
    }
    case 7: {
      const map: Record<string, unknown> = {};
      let at = offset;
      for (let i = 0; i < size; i++) {
        const [key, afterKey] = decode(src, pointerBase, at, depth + 1);
        if (typeof key !== 'string') throw new MmdbError('a map key that is not a string');
        const [value, afterValue] = decode(src, pointerBase, afterKey, depth + 1);
        map[key] = value;
        at = afterValue;
      }
      return [map, at];
    }
    case 8: {
      const bytes = Buffer.alloc(4);
      src.bytes(offset, size).copy(bytes, 4 - size);
      return [bytes.readInt32BE(0), offset + size];
    }
    case 11: {
      const list: unknown[] = [];
      let at = offset;
      for (let i = 0; i < size; i++) {
        const [value, after] = decode(src, pointerBase, at, depth + 1);
        list.push(value);
        at = after;
      }
      return [list, at];
    }
    case 14:
      return [size !== 0, offset];
    case 15:
      if (size !== 4) throw new MmdbError(`a float of ${size} bytes`);
      return [src.bytes(offset, 4).readFloatBE(0), offset + 4];
    default:
      throw new MmdbError(`data of unknown type ${type}`);
  }
};

const readMetadata = (fd: number, size: number): { metadata: MmdbMetadata; treeSize: number } => {
  const tailLength = Math.min(size, METADATA_MAX);
  const tail = Buffer.alloc(tailLength);
  let got = 0;
  while (got < tailLength) {
    const n = readSync(fd, tail, got, tailLength - got, size - tailLength + got);
    if (n === 0) break;
    got += n;
  }
  const marker = tail.lastIndexOf(METADATA_MARKER);
  if (marker < 0)
    throw new MmdbError('no MaxMind DB metadata found; is this an .mmdb file (not gzip or CSV)?');
  const start = size - tailLength + marker + METADATA_MARKER.byteLength;
  const [raw] = decode(new BufferSource(tail, size - tailLength), start, start);
  const m = raw as Record<string, unknown>;
  const nodeCount = m.node_count;
  const recordSize = m.record_size;
  const ipVersion = m.ip_version;
  if (typeof nodeCount !== 'number' || nodeCount < 1) throw new MmdbError('metadata without a node_count');
  if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32)
    throw new MmdbError(`record_size ${String(recordSize)} is not 24, 28 or 32`);
  if (ipVersion !== 4 && ipVersion !== 6)
    throw new MmdbError(`ip_version ${String(ipVersion)} is not 4 or 6`);
  const treeSize = (nodeCount * recordSize * 2) / 8;
  if (treeSize + DATA_SEPARATOR > size) throw new MmdbError('the search tree is larger than the file');
  return {
    metadata: {
      nodeCount,
      recordSize,
      ipVersion,
      databaseType: typeof m.database_type === 'string' ? m.database_type : '',
    },
    treeSize,
  };
};

/** The 4 or 16 bytes of a valid, bare IP address (as `net.isIP` accepts, without a zone). */
export const addressBytes = (ip: string, family: 4 | 6): Uint8Array => {
  if (family === 4) return Uint8Array.from(ip.split('.'), Number);
  const out = new Uint8Array(16);
  const halves = ip.split('::');
  const groups = (s: string | undefined): number[] => {
    if (s === undefined || s === '') return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
        out.push(a * 256 + b, c * 256 + d);
      } else out.push(Number.parseInt(part, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (all[i] ?? 0) >> 8;
    out[2 * i + 1] = (all[i] ?? 0) & 0xff;
  }
  return out;
};

/** A valid dotted-quad IPv4 address (`net.isIP` gave 4) as an unsigned 32-bit number. */
const ipv4Number = (ip: string): number => {
  let address = 0;
  let part = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      address = address * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return address * 256 + part;
};

export class MmdbFile {
  private readonly pages: PagedFile;
  private readonly nodeBytes: number;
  private readonly ipv4Start: number;

  private constructor(
    private readonly fd: number,
    private readonly ownsFd: boolean,
    size: number,
    readonly metadata: MmdbMetadata,
    private readonly treeSize: number,
    cachePages: number,
  ) {
    this.pages = new PagedFile(fd, size, cachePages);
    this.nodeBytes = (metadata.recordSize * 2) / 8;
    // IPv4 addresses in an IPv6 tree are under ::/96: the node after 96 zero bits.
    let node = 0;
    if (metadata.ipVersion === 6) {
      for (let i = 0; i < 96 && node < metadata.nodeCount; i++) node = this.record(node, 0);
    }
    this.ipv4Start = node;
  }

  /** Opens `path` (this reader closes it), checking its metadata; throws `MmdbError` or the file system's error. */
  static open(path: string, options: { cachePages?: number } = {}): MmdbFile {
    const fd = openSync(path, 'r');
    try {
      return MmdbFile.overFd(fd, options, true);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /**
   * A reader over a descriptor opened elsewhere (file descriptors belong to the process, so
   * threads can share one: reads are positional). The caller closes it, after every reader is done.
   */
  static overFd(fd: number, options: { cachePages?: number } = {}, ownsFd = false): MmdbFile {
    const cachePages = options.cachePages ?? MMDB_CACHE_PAGES;
    if (!Number.isInteger(cachePages) || cachePages < 1) {
      throw new RangeError(`MmdbFile: cachePages must be a whole number >= 1, got ${cachePages}`);
    }
    const { size } = fstatSync(fd);
    const { metadata, treeSize } = readMetadata(fd, size);
    return new MmdbFile(fd, ownsFd, size, metadata, treeSize, cachePages);
  }

  /** Pages in memory now (at most `cachePages`). */
  get residentPages(): number {
    return this.pages.residentPages;
  }

  /** Pages read from the file so far. */
  get pageReads(): number {
    return this.pages.reads;
  }

  private record(node: number, bit: number): number {
    const offset = node * this.nodeBytes;
    switch (this.metadata.recordSize) {
      case 24:
        return this.pages.uint(offset + bit * 3, 3);
      case 28: {
        const middle = this.pages.u8(offset + 3);
        return bit === 0
          ? (middle >> 4) * 0x1000000 + this.pages.uint(offset, 3)
          : (middle & 0x0f) * 0x1000000 + this.pages.uint(offset + 4, 3);
      }
      case 32:
        return this.pages.uint(offset + bit * 4, 4);
    }
  }

  /**
   * The record for a bare, valid address of `family` (`net.isIP`), or null when the database has
   * none. An IPv6 address in an IPv4 database has none.
   */
  get(ip: string, family: 4 | 6): unknown {
    const offset = this.dataOffset(ip, family);
    return offset < 0 ? null : this.dataAt(offset);
  }

  /**
   * Where the record of a bare, valid address of `family` starts in the file, or -1 when the
   * database has none. Many addresses share a record (one per network and place), so a caller
   * can keep what it made of a record by this offset (`dataAt` decodes it).
   */
  dataOffset(ip: string, family: 4 | 6): number {
    if (family === 6 && this.metadata.ipVersion === 4) return -1;
    const { nodeCount } = this.metadata;
    let node: number;
    if (family === 4) {
      // The dotted quad as a number, walked from its top bit: no bytes to allocate per look-up.
      const address = ipv4Number(ip);
      node = this.ipv4Start;
      for (let i = 31; i >= 0 && node < nodeCount; i--) node = this.record(node, (address >>> i) & 1);
    } else {
      const bytes = addressBytes(ip, family);
      node = 0;
      for (let i = 0; i < 128 && node < nodeCount; i++) {
        node = this.record(node, (bytes[i >> 3]! >> (7 - (i & 7))) & 1);
      }
    }
    // nodeCount: no data for the address; below it: the tree ended before the address did.
    if (node <= nodeCount) return -1;
    return this.treeSize + DATA_SEPARATOR + (node - nodeCount - DATA_SEPARATOR);
  }

  /** Decodes the record at `offset`, as `dataOffset` gave it. */
  dataAt(offset: number): unknown {
    return decode(this.pages, this.treeSize + DATA_SEPARATOR, offset)[0];
  }

  close(): void {
    if (this.ownsFd) closeSync(this.fd);
  }
}
