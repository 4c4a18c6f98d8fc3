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

/** What one warehouse load lists: the whole lake, or only `within`. */
export interface ListingPlan {
  readonly full: boolean;
  /** The prefixes to list; undefined for the whole lake. */
  readonly within: readonly string[] | undefined;
  /** Files landed before this plan, which its listing covers. */
  readonly landed: number;
}

/**
 * Which part of the lake each warehouse load lists, and how many files wait to load.
 *
 * A listing of the whole lake grows with every file it ever held, so most loads list only the
 * recent partitions (`recentPartitions`). The whole lake is listed at least every
 * `FULL_LISTING_EVERY_MS`, for the last load, and whenever a file landed since the last load lies
 * outside the recent partitions (a shard catching up more than an hour behind, or an hour that
 * turned since it landed): every landed file is listed by the next load.
 */
export class WarehouseListing {
  #lastFullAt = Number.NEGATIVE_INFINITY;
  /** Parquet keys landed since the last listing, oldest first (at most MAX_LANDED_KEYS). */
  #landed: string[] = [];
  /** More keys landed than are kept (loads kept failing): the next listing is a full one. */
  #overflow = false;
  /** Keys the last full listing could not load; partial listings see only the recent ones. */
  #failedAtFull: readonly string[] = [];
  #waiting = 0;

  constructor(private readonly everyMs = FULL_LISTING_EVERY_MS) {}

  /** A batch landed `keys`. */
  landed(keys: readonly string[]): void {
    for (const key of keys) {
      if (!key.startsWith(`${REQUESTS_TABLE}/`)) continue;
      if (this.#landed.length < MAX_LANDED_KEYS) this.#landed.push(key);
      else this.#overflow = true;
    }
  }

  /** What the load starting at `now` lists; `force` for the whole lake. */
  plan(now: number, force = false): ListingPlan {
    const recent = recentPartitions(now);
    const full =
      force ||
      this.#overflow ||
      now - this.#lastFullAt >= this.everyMs ||
      this.#landed.some((key) => !within(key, recent));
    return { full, within: full ? undefined : recent, landed: this.#landed.length };
  }

  /** The load planned as `plan` at `now` listed its part and could not load `failed` of it. */
  listed(plan: ListingPlan, now: number, failed: readonly string[]): void {
    this.#landed = this.#landed.slice(plan.landed);
    if (plan.full) {
      // Keys dropped on overflow landed before this plan only if nothing landed since it.
      if (this.#landed.length === 0) this.#overflow = false;
      this.#lastFullAt = now;
      this.#failedAtFull = failed;
      this.#waiting = failed.length;
    } else {
      // Files stuck outside what this load listed were counted by the last full listing.
      const recent = recentPartitions(now);
      this.#waiting = this.#failedAtFull.filter((key) => !within(key, recent)).length + failed.length;
    }
  }

  /** Files the last load listed and could not load, those it did not list included. */
  get waiting(): number {
    return this.#waiting;
  }
}
