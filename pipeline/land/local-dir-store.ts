import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LandError } from '../errors.ts';
import type { ObjectStore } from './object-store.ts';

/** Errors that retrying cannot fix: the directory is not writable, or a file sits where a folder should be. */
const PERMANENT_CODES = new Set(['EEXIST', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);

const code = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;

/**
 * Objects as files under `rootDir`, for development and tests. A put writes a dot-prefixed temp
 * file in the target directory, fsyncs it and renames it over the key: rename within one
 * directory is atomic, so readers never see a half-written file; `list` skips dot files.
 */
export class LocalDirStore implements ObjectStore {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
  }

  /** The file that holds `key`; the warehouse reads it in place. */
  pathOf(key: string): string {
    assertKey(key);
    return join(this.rootDir, ...key.split('/'));
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    const temp = join(dir, `.${key.slice(key.lastIndexOf('/') + 1)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(body);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
      await syncDir(dir);
    } catch (cause) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.landError(`could not write ${key}`, cause);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const bytes = await readFile(this.pathOf(key));
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (cause) {
      if (code(cause) === 'ENOENT') {
        throw new LandError(`no object ${key} in ${this.describe()}; list the store for existing keys`, {
          cause,
          retriable: false,
        });
      }
      throw this.landError(`could not read ${key}`, cause);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await rm(path, { force: true });
      await syncDir(dirname(path)).catch(() => undefined);
    } catch (cause) {
      throw this.landError(`could not delete ${key}`, cause);
    }
  }

  async list(prefix: string, startAfter?: string): Promise<string[]> {
    // Walk only the deepest directory the prefix names: `requests/dt=2025` starts at `requests/`.
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    try {
      await walk(base === '' ? this.rootDir : join(this.rootDir, ...base.split('/')), base, keys);
    } catch (cause) {
      throw this.landError(`could not list ${prefix}`, cause);
    }
    return keys.filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter)).sort();
  }

  describe(): string {
    return `file://${this.rootDir}`;
  }

  private landError(what: string, cause: unknown): LandError {
    const c = code(cause);
    const permanent = c !== undefined && PERMANENT_CODES.has(c);
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new LandError(
      permanent
        ? `${what} in ${this.describe()}: ${detail}; make the directory writable by this process or choose another one`
        : `${what} in ${this.describe()}: ${detail}; will retry (check free disk space if this persists)`,
      { cause, retriable: !permanent },
    );
  }
}

const assertKey = (key: string): void => {
  const parts = key.split('/');
  if (key === '' || key.includes('\\') || parts.some((p) => p === '' || p.startsWith('.'))) {
    throw new LandError(
      `invalid object key ${JSON.stringify(key)}: keys are relative, /-separated, with no empty or dot-prefixed segments`,
      { retriable: false },
    );
  }
};

/** Makes the rename itself durable: without it a crash can forget the new directory entry. */
const syncDir = async (dir: string): Promise<void> => {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

const walk = async (dir: string, keyPrefix: string, out: string[]): Promise<void> => {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (code(error) === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const key = keyPrefix === '' ? entry.name : `${keyPrefix}/${entry.name}`;
    if (entry.isDirectory()) await walk(join(dir, entry.name), key, out);
    else if (entry.isFile()) out.push(key);
  }
};
