import { LandError } from '../errors.ts';
import type { ObjectStore } from './object-store.ts';

/**
 * Objects in memory, for benchmarks and tests of the pipeline's pure logic. With
 * `keepBodies: false` it only counts what it is given, so a benchmark's memory figure is the
 * pipeline's, not the store's.
 */
export class MemoryStore implements ObjectStore {
  /** Every key put, in order; a key put twice appears twice. */
  readonly puts: string[] = [];
  /** Bytes put, in all. */
  bytes = 0;
  private readonly objects = new Map<string, Uint8Array>();

  constructor(private readonly options: { readonly keepBodies?: boolean } = {}) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    this.puts.push(key);
    this.bytes += body.byteLength;
    if (this.options.keepBodies !== false) this.objects.set(key, body);
  }

  async get(key: string): Promise<Uint8Array> {
    const body = this.objects.get(key);
    if (body === undefined) {
      throw new LandError(`no object ${key} in memory (bodies kept: ${this.options.keepBodies !== false})`, {
        retriable: false,
      });
    }
    return body;
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async list(prefix: string, startAfter?: string): Promise<string[]> {
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter))
      .sort();
  }

  describe(): string {
    return 'memory';
  }
}
