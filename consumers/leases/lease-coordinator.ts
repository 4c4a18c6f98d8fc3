import { type ConsumerClock, systemClock } from '../consumer-clock.ts';
import { type ConsumerLogger, silentLogger } from '../consumer-logger.ts';
import { LeaseLostError } from '../errors.ts';
import type { Lease } from './lease.ts';
import type { LeaseHold, LeaseTable } from './lease-table.ts';

export interface LeaseCoordinatorOptions {
  readonly table: LeaseTable;
  readonly workerId: string;
  /** A lease whose counter did not move for this long is expired and may be taken. */
  readonly failoverTimeMs: number;
  /** How often held leases are renewed; the table is scanned for leases to take twice as often. */
  readonly renewalIntervalMs: number;
  /** Most leases stolen from the most loaded worker per scan. */
  readonly maxLeasesToStealAtOneTime: number;
  /** Called when this worker got a lease: start reading the shard. */
  readonly onAcquired: (lease: Lease) => void;
  /** Called when this worker lost a lease: stop reading the shard, land and store nothing more. */
  readonly onLost: (shardId: string, reason: string) => void;
  /** MillisBehindLatest of a held shard, written at renewal for `shardline leases`. */
  readonly lagOf?: (shardId: string) => number | undefined;
  readonly clock?: ConsumerClock;
  readonly random?: () => number;
  readonly logger?: ConsumerLogger;
}

export interface LeaseCoordinatorStats {
  readonly held: readonly string[];
  /** Leases this worker took: unowned, expired or stolen. */
  readonly taken: number;
  /** Of those, taken from a live worker to balance the load. */
  readonly stolen: number;
  readonly lost: number;
  readonly released: number;
  readonly renewals: number;
  /** Wall time of the last scan that completed, or undefined before the first. */
  readonly lastScanAt: number | undefined;
  readonly workers: number;
  /** DynamoDB calls on the lease table that were throttled (and retried after a back-off). */
  readonly throttled: number;
}

interface Held {
  counter: number;
  /** Local time of the last write that proved ownership (take, renewal). */
  confirmedAt: number;
  /** Every write on the lease runs after the previous one, so the counter it assumes is current. */
  queue: Promise<unknown>;
}

/**
 * Shares one stream's shards among workers through the lease table, as KCL's lease coordinator
 * does: every `renewalIntervalMs` it renews the leases it holds (a failed condition means the
 * lease moved: `onLost`); twice as often it scans the table, takes unowned and expired leases up to its fair
 * share, and when none are left steals at most `maxLeasesToStealAtOneTime` from the most
 * loaded worker. Expiry is judged by each observer's own clock (the counter did not move for
 * `failoverTimeMs`), helped by the owner's `renewedAt`; taking early is never unsafe, because
 * every write of the old owner is conditional on the counter the taker changed.
 */
export class LeaseCoordinator {
  readonly workerId: string;
  readonly #o: LeaseCoordinatorOptions;
  readonly #clock: ConsumerClock;
  readonly #log: ConsumerLogger;
  readonly #held = new Map<string, Held>();
  readonly #seen = new Map<string, { counter: number; owner: string | undefined; at: number }>();
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #leases: Lease[] = [];
  #workers = 1;
  #taken = 0;
  #stolen = 0;
  #lost = 0;
  #released = 0;
  #renewals = 0;
  #lastScanAt: number | undefined;

  constructor(options: LeaseCoordinatorOptions) {
    this.#o = options;
    this.workerId = options.workerId;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
  }

  /** Takes a first share at once, then renews and rebalances until stop(). */
  async start(): Promise<void> {
    await this.#scanAndTake().catch((error: unknown) =>
      this.#log.warn('first lease scan failed; retrying at the next interval', { err: error }),
    );
    this.#loop ??= this.#run();
  }

  /** Ends renewing and taking. Leases still held are released when `release` is true. */
  async stop(release: boolean): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    if (!release) return;
    await Promise.all([...this.#held.keys()].map((shardId) => this.release(shardId)));
  }

  /** The last table scan: every lease of the stream. */
  leases(): readonly Lease[] {
    return this.#leases;
  }

  isHeld(shardId: string): boolean {
    return this.#held.has(shardId);
  }

  stats(): LeaseCoordinatorStats {
    return {
      held: [...this.#held.keys()].sort(),
      taken: this.#taken,
      stolen: this.#stolen,
      lost: this.#lost,
      released: this.#released,
      renewals: this.#renewals,
      lastScanAt: this.#lastScanAt,
      workers: this.#workers,
      throttled: this.#o.table.throttled,
    };
  }

  /** Creates a lease for every listed shard that has none (conditional: creating twice is harmless). */
  async ensureLeases(
    shards: readonly { shardId: string; parentShardIds: readonly string[] }[],
  ): Promise<void> {
    const known = new Set(this.#leases.map((lease) => lease.leaseKey));
    let created = 0;
    for (const shard of shards) {
      if (known.has(shard.shardId)) continue;
      if (await this.#o.table.create(shard.shardId, shard.parentShardIds)) created++;
    }
    if (created > 0) {
      this.#log.info('created leases for new shards', { created });
      await this.#scanAndTake();
    }
  }

  /**
   * Runs `write` with this worker's hold on the lease, after any write already running on it. A
   * LeaseLostError from it (or a lease no longer held) drops the lease and calls `onLost`.
   */
  withLease<T>(shardId: string, write: (hold: LeaseHold) => Promise<T>): Promise<T> {
    const held = this.#held.get(shardId);
    if (!held) {
      return Promise.reject(
        new LeaseLostError(shardId, `${this.workerId} does not hold the lease of ${shardId}`),
      );
    }
    const run = held.queue.then(async () => {
      if (this.#held.get(shardId) !== held) {
        throw new LeaseLostError(shardId, `${this.workerId} lost the lease of ${shardId}`);
      }
      try {
        return await write({ owner: this.workerId, counter: held.counter });
      } catch (error) {
        if (error instanceof LeaseLostError) this.#drop(shardId, held, error.message);
        throw error;
      }
    });
    held.queue = run.catch(() => undefined);
    return run;
  }

  /** The shard reached SHARD_END and the checkpoint gave the lease up: forget it without `onLost`. */
  finished(shardId: string): void {
    this.#held.delete(shardId);
  }

  /** Gives one lease up (graceful shutdown of its reader done): others may take it at once. */
  async release(shardId: string): Promise<void> {
    const held = this.#held.get(shardId);
    if (!held) return;
    try {
      await this.withLease(shardId, (hold) => this.#o.table.release(shardId, hold));
      this.#released++;
    } catch (error) {
      if (!(error instanceof LeaseLostError)) {
        this.#log.warn('could not release a lease; it will expire instead', { shardId, err: error });
      }
    } finally {
      if (this.#held.get(shardId) === held) this.#held.delete(shardId);
    }
  }

  /**
   * Scans twice per renewal interval: an expired lease is then noticed within half an interval,
   * which keeps the takeover of a dead worker's shards within failover time plus one renewal
   * interval even when this worker's event loop is busy landing batches.
   */
  async #run(): Promise<void> {
    for (let tick = 1; !this.#abort.signal.aborted; tick++) {
      await this.#clock.sleep(this.#o.renewalIntervalMs / 2, this.#abort.signal);
      if (this.#abort.signal.aborted) return;
      if (tick % 2 === 0) await this.#renewAll();
      try {
        await this.#scanAndTake();
      } catch (error) {
        this.#log.warn('lease scan failed; retrying at the next interval', { err: error });
      }
    }
  }

  async #renewAll(): Promise<void> {
    await Promise.all(
      [...this.#held.entries()].map(async ([shardId, held]) => {
        try {
          await this.withLease(shardId, async (hold) => {
            await this.#o.table.renew(shardId, hold, this.#o.lagOf?.(shardId));
            held.counter = hold.counter + 1;
            held.confirmedAt = this.#clock.now();
          });
          this.#renewals++;
        } catch (error) {
          if (error instanceof LeaseLostError) return;
          // DynamoDB unreachable: once others may consider the lease expired, stop using it.
          if (this.#clock.now() - held.confirmedAt >= this.#o.failoverTimeMs) {
            this.#drop(shardId, held, `no renewal for ${this.#o.failoverTimeMs} ms`);
          } else {
            this.#log.warn('lease renewal failed; retrying', { shardId, err: error });
          }
        }
      }),
    );
  }

  #drop(shardId: string, held: Held, reason: string): void {
    if (this.#held.get(shardId) !== held) return;
    this.#held.delete(shardId);
    this.#lost++;
    this.#log.warn('lease lost', { shardId, reason });
    this.#o.onLost(shardId, reason);
  }

  async #scanAndTake(): Promise<void> {
    const leases = await this.#o.table.list();
    const now = this.#clock.now();
    this.#leases = leases;
    this.#lastScanAt = Date.now();
    for (const lease of leases) {
      const seen = this.#seen.get(lease.leaseKey);
      if (!seen || seen.counter !== lease.leaseCounter || seen.owner !== lease.leaseOwner) {
        this.#seen.set(lease.leaseKey, { counter: lease.leaseCounter, owner: lease.leaseOwner, at: now });
      }
    }
    if (this.#abort.signal.aborted) return;

    const open = leases.filter((lease) => lease.checkpoint?.sequenceNumber !== 'SHARD_END');
    const available: Lease[] = [];
    const load = new Map<string, Lease[]>([[this.workerId, []]]);
    for (const lease of open) {
      if (this.#held.has(lease.leaseKey)) {
        load.get(this.workerId)!.push(lease);
      } else if (
        lease.leaseOwner === undefined ||
        lease.leaseOwner === this.workerId ||
        this.#expired(lease, now)
      ) {
        // Owned by this worker id but not held: an earlier run of it, killed. Take it back.
        available.push(lease);
      } else {
        const owned = load.get(lease.leaseOwner) ?? [];
        owned.push(lease);
        load.set(lease.leaseOwner, owned);
      }
    }
    this.#workers = load.size;
    const target = Math.ceil(open.length / load.size);
    let missing = target - this.#held.size;
    if (missing <= 0) return;

    for (const lease of shuffle(available, this.#o.random)) {
      if (missing <= 0) break;
      if (await this.#take(lease, false)) missing--;
    }
    if (missing <= 0 || available.length > 0) return;

    let victim: Lease[] = [];
    for (const [owner, owned] of load) {
      if (owner !== this.workerId && owned.length > victim.length) victim = owned;
    }
    const excess = victim.length - target;
    if (excess <= 0) return;
    const steal = Math.min(this.#o.maxLeasesToStealAtOneTime, excess, missing);
    for (const lease of shuffle(victim, this.#o.random).slice(0, steal)) await this.#take(lease, true);
  }

  /** Expired when its counter has not moved for the failover time, by our clock or the owner's. */
  #expired(lease: Lease, now: number): boolean {
    const seenAt = this.#seen.get(lease.leaseKey)?.at ?? now;
    const wall = Date.now();
    const renewedAgo = lease.renewedAt !== undefined && lease.renewedAt <= wall ? wall - lease.renewedAt : 0;
    return Math.max(now - seenAt, renewedAgo) >= this.#o.failoverTimeMs;
  }

  async #take(lease: Lease, steal: boolean): Promise<boolean> {
    let taken: Lease | undefined;
    try {
      taken = await this.#o.table.take(lease, this.workerId);
    } catch (error) {
      this.#log.warn('could not take a lease', { shardId: lease.leaseKey, err: error });
      return false;
    }
    if (!taken) return false;
    this.#held.set(lease.leaseKey, {
      counter: taken.leaseCounter,
      confirmedAt: this.#clock.now(),
      queue: Promise.resolve(),
    });
    this.#taken++;
    if (steal) this.#stolen++;
    this.#log.info(steal ? 'lease stolen to balance the load' : 'lease taken', {
      shardId: lease.leaseKey,
      from: lease.leaseOwner,
      counter: taken.leaseCounter,
    });
    this.#o.onAcquired(taken);
    return true;
  }
}

function shuffle<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
