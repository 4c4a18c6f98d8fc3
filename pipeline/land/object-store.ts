/**
 * Where batches land: a local directory in development, an S3 bucket in production. Keys are
 * `/`-separated relative paths (see `batchObjectKey`).
 *
 * Every implementation guarantees that `put` is atomic: a reader (`get`, `list`, a warehouse
 * loader) sees either no object or the whole object, never a partial one. Putting an existing
 * key replaces it; landing is idempotent because keys are deterministic.
 * Failures throw `LandError`, retriable unless retrying cannot help (permissions, missing bucket).
 */
export interface ObjectStore {
  put(key: string, body: Uint8Array): Promise<void>;
  /** The object's bytes; a missing key throws a non-retriable `LandError`. */
  get(key: string): Promise<Uint8Array>;
  /** Keys starting with `prefix` and sorting after `startAfter`, sorted ascending. */
  list(prefix: string, startAfter?: string): Promise<string[]>;
  /**
   * Removes an object; a missing key is not an error. Only maintenance deletes (compaction, after
   * its replacement and manifest are stored); landing never does.
   */
  delete?(key: string): Promise<void>;
  /** Where objects go, for logs and errors: `s3://bucket/prefix`, `file:///dir`. */
  describe(): string;
}
