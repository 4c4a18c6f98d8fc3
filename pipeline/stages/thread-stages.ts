import { Worker } from 'node:worker_threads';
import type { RouteSnapshot } from '../enrich/routes/route-snapshot.ts';
import type { RouteUpdate } from '../enrich/routes/route-store.ts';
import { type Logger, silentLogger } from '../observability/logger.ts';
import type { DeadLetter, SourceRecord } from '../types.ts';
import type { EncodeOutcome, PreparedChunk, PrepareOptions } from './record-stage.ts';
import type { RecordStages } from './record-stages.ts';
import { packRecords, type StageReply, type StageRequest, type StageThreadInit } from './stage-protocol.ts';
import { stageThreadScript } from './stage-thread-script.ts';

const YOUNG_GENERATION_MB = 8;
/** A thread that dies within this long of its start is replaced after a pause that doubles. */
const RESPAWN_QUICK_MS = 10_000;
const RESPAWN_MAX_MS = 30_000;

/** A stage thread stopped (crashed, ran out of memory): its processors' rows are gone with it. */
export class StageThreadError extends Error {
  override readonly name = 'StageThreadError';
}

/** A request without its id (`call` numbers it), for each kind of request. */
type Call =
  Extract<StageRequest, { id: number }> extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** One worker thread and its calls under way. */
class StageThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Processors whose rows live in this thread. */
  readonly pids = new Set<number>();
  failure: Error | undefined;
  private readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly startedAt = Date.now();
  /** OS thread id, once ready (Linux). */
  tid: number | undefined;

  constructor(
    script: URL,
    init: StageThreadInit,
    private readonly onExit: (thread: StageThread) => void,
  ) {
    // The stage's sources bundled, or the boot script that registers tsx (stage-thread-script.ts).
    this.worker = new Worker(script, {
      workerData: init,
      resourceLimits: {
        // V8 sizes a thread's young generation by the machine's memory (up to 64 MB on 24 GB).
        // Most of a record's objects die within its chunk, and a batch's rows outlive any young
        // generation anyway. bench:pipeline at 1M records, 2 threads: 8 MB instead of 16 held
        // 34-45 MB less at the same rate; 4 MB held ~15 MB less again but cost 3-6 µs a record.
        // A worker started with its flags (consumers/cli/node-flags.ts) gets 12 MB instead: V8
        // takes `--max-semi-space-size=4` over this limit.
        maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
        maxOldGenerationSizeMb: init.heapLimitMb,
      },
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.pending.set(0, { resolve: () => resolve(), reject });
    });
    // Awaited by `start` only: a replacement that dies before it is ready is reported by 'exit'.
    this.ready.catch(() => undefined);
    this.worker.on('message', (reply: StageReply) => {
      const call = this.pending.get(reply.id);
      if (call === undefined) return;
      if (reply.id === 0 && 'tid' in reply) this.tid = reply.tid;
      this.pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(Object.assign(new Error(reply.message), { name: reply.name }));
    });
    this.worker.on('error', (error) => this.fail(error));
    // A reply that cannot be read would leave its call waiting for ever: the thread is ended
    // instead, so that its calls fail and it is replaced as when it dies (its shards re-read
    // from their checkpoints).
    this.worker.on('messageerror', (error) => {
      this.fail(error);
      void this.worker.terminate();
    });
    this.worker.on('exit', (code) => {
      this.fail(
        new StageThreadError(
          `a stage thread exited (code ${code}); its shards re-read from their checkpoints`,
        ),
      );
      this.onExit(this);
    });
  }

  private fail(cause: Error): void {
    if (this.failure !== undefined) return;
    this.failure =
      cause instanceof StageThreadError
        ? cause
        : new StageThreadError(
            `a stage thread failed: ${cause.message}; its shards re-read from their checkpoints`,
            {
              cause,
            },
          );
    for (const call of this.pending.values()) call.reject(this.failure);
    this.pending.clear();
  }

  call<T>(request: Call, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  send(request: Extract<StageRequest, { id?: undefined }>): void {
    if (this.failure === undefined) this.worker.postMessage(request);
  }

  /** Ends the thread at once, as a crash would. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  async close(): Promise<void> {
    if (this.failure !== undefined) return;
    await this.call({ op: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

/**
 * Decode → validate → enrich → encode on a pool of worker threads, while the calling thread keeps
 * reading shards, deduplicating, batching, landing and checkpointing. A processor is pinned to a
 * thread (the one with the fewest processors when it opens): its rows stay there until encoded.
 * A thread that dies fails its processors' calls with `StageThreadError` (their consumers drop
 * the batch and re-read from the checkpoint, as for any processor failure) and is replaced.
 */
export class ThreadStages implements RecordStages {
  private readonly slots: StageThread[] = [];
  private readonly threadOf = new Map<number, StageThread>();
  /** Per slot: threads in a row that died soon after they started (their replacements wait). */
  private readonly quickDeaths: number[] = [];
  private nextPid = 1;
  private closed = false;

  private constructor(
    private readonly script: URL,
    private readonly init: (slot: number) => StageThreadInit,
    private readonly logger: Logger,
  ) {}

  static async start(
    count: number,
    init: (slot: number) => StageThreadInit,
    logger: Logger = silentLogger,
  ): Promise<ThreadStages> {
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`stage threads must be >= 1, got ${count}`);
    const script = await stageThreadScript();
    if (script.fallbackReason !== undefined) logger.warn(script.fallbackReason);
    const pool = new ThreadStages(script.url, init, logger);
    for (let slot = 0; slot < count; slot++) pool.slots.push(pool.spawn(slot));
    try {
      await Promise.all(pool.slots.map((t) => t.ready));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get threads(): number {
    return this.slots.length;
  }

  /** OS thread ids of the live stage threads (Linux; empty elsewhere), for CPU accounting. */
  osThreadIds(): number[] {
    return this.slots.flatMap((t) => (t.tid === undefined ? [] : [t.tid]));
  }

  private spawn(slot: number, respawn = false): StageThread {
    // A replacement starts from the routes stored when the pool started, less its own learning:
    // that copy is older than what it stored since, which the next sync's load adds in.
    const base = this.init(slot);
    const init: StageThreadInit = respawn
      ? {
          ...base,
          routeUpdates:
            base.routeUpdates?.map((u) => ({
              ...u,
              learned: u.learned.filter((s) => s.worker !== base.routesWorker),
            })) ?? null,
          routesAwaitLoad: true,
        }
      : base;
    return new StageThread(this.script, init, (dead) => {
      if (this.closed || this.slots[slot] !== dead) return;
      // Replaced at once; but a thread that dies soon after it started, again (a start-up
      // failure, an input that kills every thread), after a pause that doubles, not in a loop.
      const quick = Date.now() - dead.startedAt < RESPAWN_QUICK_MS;
      const deaths = quick ? (this.quickDeaths[slot] ?? 0) + 1 : 0;
      this.quickDeaths[slot] = deaths;
      const delay = deaths <= 1 ? 0 : Math.min(RESPAWN_MAX_MS, 500 * 2 ** (deaths - 1));
      this.logger.error(
        'a stage thread stopped; its shards re-read from their checkpoints, a new thread starts',
        {
          slot,
          shards: dead.pids.size,
          inMs: delay,
          err: dead.failure,
        },
      );
      // Its processors keep failing until re-created; new ones go to a live thread meanwhile.
      const replace = () => {
        if (!this.closed && this.slots[slot] === dead) this.slots[slot] = this.spawn(slot, true);
      };
      if (delay === 0) replace();
      else setTimeout(replace, delay).unref();
    });
  }

  private thread(pid: number): StageThread {
    const thread = this.threadOf.get(pid);
    if (thread === undefined) throw new RangeError(`stage processor ${pid} is not open`);
    return thread;
  }

  open(): number {
    const pid = this.nextPid++;
    // The live thread with the fewest processors; a dead one only when none is alive (its calls
    // fail, and the reader retries with back-off until a replacement runs).
    const live = this.slots.filter((t) => t.failure === undefined);
    const candidates = live.length > 0 ? live : this.slots;
    let best = candidates[0]!;
    for (const t of candidates) if (t.pids.size < best.pids.size) best = t;
    best.pids.add(pid);
    this.threadOf.set(pid, best);
    return pid;
  }

  prepare(pid: number, records: readonly SourceRecord[], options: PrepareOptions): Promise<PreparedChunk> {
    const packed = packRecords(records);
    return this.thread(pid).call<PreparedChunk>({ op: 'prepare', pid, packed, options }, [packed.data]);
  }

  encode(pid: number, refs: readonly number[], through: number): Promise<EncodeOutcome> {
    const list = Int32Array.from(refs);
    return this.thread(pid).call<EncodeOutcome>({ op: 'encode', pid, refs: list, through }, [list.buffer]);
  }

  refused(
    pid: number,
    refs: readonly number[],
    because: string,
  ): Promise<{ positions: number[]; deadLetters: DeadLetter[] }> {
    const list = Int32Array.from(refs);
    return this.thread(pid).call({ op: 'refused', pid, refs: list, because }, [list.buffer]);
  }

  free(pid: number, through: number): void {
    this.threadOf.get(pid)?.send({ op: 'free', pid, through });
  }

  drop(pid: number): void {
    const thread = this.threadOf.get(pid);
    if (thread === undefined) return;
    thread.send({ op: 'drop', pid });
    thread.pids.delete(pid);
    this.threadOf.delete(pid);
  }

  /** What each thread learned of routes since it was last asked. */
  async takeRoutes(): Promise<RouteSnapshot[]> {
    const all = await Promise.all(
      this.slots.map((t) => t.call<RouteSnapshot[]>({ op: 'routes.take' }).catch(() => [])),
    );
    return all.flat();
  }

  /** Gives every thread the stored routes (the other workers' and threads' learning, declared routes). */
  applyRoutes(updates: readonly RouteUpdate[]): void {
    for (const t of this.slots) t.send({ op: 'routes.apply', updates });
  }

  /**
   * Stops thread `slot` as a crash would: its processors' calls fail with `StageThreadError`, and a
   * new thread takes the slot. For tests of that path, and for an operator's last resort.
   */
  async stopThread(slot: number): Promise<void> {
    const thread = this.slots[slot];
    if (thread === undefined) throw new RangeError(`no stage thread ${slot} (of ${this.slots.length})`);
    await thread.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((t) => t.close()));
  }
}
