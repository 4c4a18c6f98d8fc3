import type { ObjectStore } from '../land/object-store.ts';

/** State the live workers own: a replay reads it (learned routes) and never writes it. */
const LIVE_STATE = '_shardline/routes/';

/**
 * The lake as a replay, re-drive or dry run sees it: reads go to the lake; writes of the live
 * workers' state are dropped; with `dryRun` no write reaches the lake, each is only counted.
 */
export class ReplayStore implements ObjectStore {
  /** Objects (and their bytes) the run put, or would have put in a dry run. */
  puts = 0;
  bytes = 0;
  readonly keys: string[] = [];

  constructor(
    private readonly lake: ObjectStore,
    private readonly options: { readonly dryRun?: boolean } = {},
  ) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    if (key.startsWith(LIVE_STATE)) return;
    this.puts += 1;
    this.bytes += body.byteLength;
    this.keys.push(key);
    if (this.options.dryRun !== true) await this.lake.put(key, body);
  }

  get(key: string): Promise<Uint8Array> {
    return this.lake.get(key);
  }

  list(prefix: string, startAfter?: string): Promise<string[]> {
    return this.lake.list(prefix, startAfter);
  }

  describe(): string {
    return `${this.lake.describe()}${this.options.dryRun === true ? ' (dry run: nothing is written)' : ''}`;
  }
}
