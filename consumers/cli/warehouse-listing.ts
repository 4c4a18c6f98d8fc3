import { LAKE } from '../../pipeline/land/lake-layout.ts';
import { hourPrefix } from '../../pipeline/land/object-key.ts';
import { REQUESTS_TABLE } from '../../schemas/request-row.ts';

/** How often a load lists the whole lake rather than the recent hours, at the least. */
export const FULL_LISTING_EVERY_MS = 60_000;

/**
 * The partitions live batches land in: the hours from one before `now` to one after (a batch's key
 * is dated by its newest Kinesis arrival; the hour after covers a clock a little ahead), and replays.
 */
export const recentPartitions = (now: number): string[] => [
  ...[-3_600_000, 0, 3_600_000].map((offset) => hourPrefix(REQUESTS_TABLE, new Date(now + offset))),
  LAKE.replays,
];

/** Landed keys kept between two loads; past it, the next load lists the whole lake. */
const MAX_LANDED_KEYS = 10_000;

const within = (key: string, prefixes: readonly string[]): boolean => prefixes.some((p) => key.startsWith(p));

/** `requests/dt=…/hr=HH/` of a landed key, or undefined for a key not laid out so. */
const partitionOf = (key: string): string | undefined => {
  const hour = key.indexOf('/hr=');
  const end = hour === -1 ? -1 : key.indexOf('/', hour + 1);
  return end === -1 ? undefined : key.slice(0, end + 1);
};

/** What one warehouse load lists: the whole lake, or only `within`. */
export interface ListingPlan {
  readonly full: boolean;
  /** The prefixes to list; undefined for the whole lake. */
  readonly within: readonly string[] | undefined;
  /** Keys landed before this plan, which its listing covers. */
  readonly landed: number;
  /** Keys dropped (past MAX_LANDED_KEYS) before this plan. */
  readonly dropped: number;
}

/**
 * Which part of the lake each warehouse load lists, and how many files wait to load.
 *
 * A listing of the whole lake grows with every file it ever held, so most loads list only the
 * recent partitions (`recentPartitions`) plus the partition of every file landed since the last
 * load (a shard catching up more than an hour behind lands into older hours): every landed file is
 * listed by the next load. The whole lake is listed at least every `FULL_LISTING_EVERY_MS` (files
 * another process landed late), for the last load, and when more files landed between two loads
 * than are kept.
 */
export class WarehouseListing {
  #lastFullAt = Number.NEGATIVE_INFINITY;
  /** Parquet keys landed since the last listing, oldest first (at most MAX_LANDED_KEYS). */
  #landed: string[] = [];
  /** Keys landed but not kept, in all; and how many of those a full listing covered. */
  #dropped = 0;
  #droppedListed = 0;
  /** Keys the last listing of their partition could not load. */
  #stuck: readonly string[] = [];

  constructor(private readonly everyMs = FULL_LISTING_EVERY_MS) {}

  /** A batch landed `keys`. */
  landed(keys: readonly string[]): void {
    for (const key of keys) {
      if (!key.startsWith(`${REQUESTS_TABLE}/`)) continue;
      if (this.#landed.length < MAX_LANDED_KEYS) this.#landed.push(key);
      else this.#dropped += 1;
    }
  }

  /** What the load starting at `now` lists; `force` for the whole lake. */
  plan(now: number, force = false): ListingPlan {
    const recent = recentPartitions(now);
    let full = force || this.#dropped > this.#droppedListed || now - this.#lastFullAt >= this.everyMs;
    const prefixes = new Set(recent);
    for (const key of full ? [] : this.#landed) {
      if (within(key, recent)) continue;
      const partition = partitionOf(key);
      if (partition === undefined) full = true;
      else prefixes.add(partition);
    }
    return {
      full,
      within: full ? undefined : [...prefixes],
      landed: this.#landed.length,
      dropped: this.#dropped,
    };
  }

  /** The load planned as `plan` at `now` listed its part and could not load `failed` of it. */
  listed(plan: ListingPlan, now: number, failed: readonly string[]): void {
    this.#landed = this.#landed.slice(plan.landed);
    if (plan.full) {
      this.#lastFullAt = now;
      this.#droppedListed = plan.dropped;
      this.#stuck = failed;
      return;
    }
    // Stuck files of the partitions this load listed are in `failed` if they still fail.
    const listed = plan.within ?? [];
    this.#stuck = [...this.#stuck.filter((key) => !within(key, listed)), ...failed];
  }

  /** Files the loads could not load, those of partitions the last one did not list included. */
  get waiting(): number {
    return this.#stuck.length;
  }
}
