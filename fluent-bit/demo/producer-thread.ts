import { Worker } from 'node:worker_threads';
import { ConfigError } from '../../pipeline/errors.ts';
import type { DemoProducerOptions, DemoProducerResult } from './demo-producer.ts';

/**
 * The demo producer in a worker thread of its own, as the apps and their sidecars are processes of
 * their own beside a real consumer. In the event loop of `shardline dev` it took that loop from the
 * consumer for as long as it generated and sent a burst (~1.2 s of its CPU for `--demo-events
 * 20000`): shards were read late and the stage thread waited for work while the second core idled.
 */
export interface ProducerThreadOptions {
  readonly region: string;
  /** The Kinesis endpoint to send to (the local Kinesis's HTTP endpoint). */
  readonly endpoint: string;
}

/**
 * How much the producer's thread lowers its priority (its nice value goes up by this much, to 19
 * at most), on Linux. The producer stands in for the apps and their sidecars, which a deployment
 * runs on machines of their own: here they share the pipeline's cores, and the CPU they take is
 * CPU the pipeline being measured waits for. At a lower priority the producer still gets every
 * idle moment, and gives way to the pipeline when both want a core. Linux keeps a nice value per
 * thread, so only the producer's thread is affected; elsewhere it is the whole process's, and
 * the producer is left as it is.
 *
 * `npm start -- --demo-events 20000 --exit`, 6 interleaved pairs (2026-12-02): p95 arrival →
 * queryable 2,120 / 2,244 / 2,250 / 2,180 / 2,299 / 2,048 ms against 2,819 / 2,464 / 2,377 /
 * 3,144 / 2,628 / 3,034 at the same priority as the pipeline, every count the same (19,340 rows
 * landed and loaded, 600 duplicates, 60 dead letters), 10-14 Parquet files against 10-12.
 */
export const PRODUCER_NICE_INCREMENT = 10;

/** The nice value the producer's thread takes when its own is `current`. */
export const producerNice = (current: number): number => Math.min(19, current + PRODUCER_NICE_INCREMENT);

/** What a run may be given across the thread: plain data (no client, no callbacks). */
export type ProducerRunOptions = Omit<DemoProducerOptions, 'client' | 'stop' | 'onProgress'>;

export type ProducerRequest =
  | { readonly op: 'run'; readonly id: number; readonly options: ProducerRunOptions }
  | { readonly op: 'stop'; readonly id?: undefined }
  | { readonly op: 'close'; readonly id: number };

export type ProducerReply =
  | { readonly id: number; readonly ok: true; readonly result?: DemoProducerResult }
  | {
      readonly id: number;
      readonly ok: false;
      readonly name: string;
      readonly message: string;
      readonly field?: string;
    };

export interface DemoProducerThread {
  /** Sends `options.events` lines (see `runDemoProducer`); runs one after another. */
  run(options: ProducerRunOptions): Promise<DemoProducerResult>;
  /** Ends the run under way after its current chunk, and every later one at once (Ctrl-C). */
  stop(): void;
  /** Stops the run under way after its current chunk (as `stop`), then ends the thread. */
  close(): Promise<void>;
}

/** The error a run failed with, as the in-process producer would have thrown it. */
const errorOf = (reply: Extract<ProducerReply, { ok: false }>): Error => {
  if (reply.name === 'ConfigError' && reply.field !== undefined) {
    const error = new ConfigError(reply.field, reply.message);
    error.message = reply.message;
    return error;
  }
  return Object.assign(new Error(reply.message), { name: reply.name });
};

export async function startDemoProducerThread(options: ProducerThreadOptions): Promise<DemoProducerThread> {
  const worker = new Worker(new URL('./producer-thread-boot.mjs', import.meta.url), { workerData: options });
  const pending = new Map<number, { resolve: (reply: ProducerReply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let ended: Error | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  const fail = (error: Error) => {
    ended ??= error;
    for (const call of pending.values()) call.reject(ended);
    pending.clear();
  };
  worker.on('message', (reply: ProducerReply) => {
    const call = pending.get(reply.id);
    pending.delete(reply.id);
    call?.resolve(reply);
  });
  worker.on('error', (error) => fail(new Error(`the demo producer thread failed: ${error.message}`)));
  worker.on('exit', (code) => fail(new Error(`the demo producer thread exited (code ${code})`)));
  await ready;
  const call = (request: { op: 'run'; options: ProducerRunOptions } | { op: 'close' }) =>
    new Promise<ProducerReply>((resolve, reject) => {
      if (ended !== undefined) return reject(ended);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  return {
    run: async (runOptions) => {
      const reply = await call({ op: 'run', options: runOptions });
      if (!reply.ok) throw errorOf(reply);
      if (reply.result === undefined)
        throw new Error('the demo producer thread answered a run without its result');
      return reply.result;
    },
    stop: () => {
      if (ended === undefined) worker.postMessage({ op: 'stop' } satisfies ProducerRequest);
    },
    close: async () => {
      if (ended === undefined) {
        worker.postMessage({ op: 'stop' } satisfies ProducerRequest);
        await call({ op: 'close' }).catch(() => undefined);
      }
      await worker.terminate();
    },
  };
}
