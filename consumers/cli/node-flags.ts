/**
 * The V8 flags a worker's Node runs with. They must be given when Node starts, so the same list is
 * written where a worker is started: `package.json`'s `start`, `shardline` and `bench:pipeline`
 * scripts and the `Dockerfile`'s ENTRYPOINT (`test/deploy/node-flags.test.ts` checks that they
 * agree); spawned workers (`consumers/testing/worker-process.ts`) take it from here. `bin.cjs` keeps
 * a plain `#!/usr/bin/env node` (`env -S` is missing from BusyBox and older coreutils), so
 * `npx shardline` runs without it: `node --single-threaded-gc node_modules/.bin/shardline …` adds it.
 *
 * `--single-threaded-gc`: each isolate (the event loop, every stage thread) collects its own garbage
 * on its own thread, instead of handing parts to V8's four helper threads. On a worker whose
 * threads already keep every core busy, the helpers only add coordination: bench:pipeline at 1M
 * records, 3 interleaved pairs, 26,262 / 27,033 / 29,399 records/s against 23,267 / 24,479 /
 * 27,645, CPU 74.8 / 72.8 / 67.0 µs a record against 83.4 / 79.3 / 70.2, peak RSS 14-31 MB more
 * (garbage is swept later). Marking stays incremental, so the event loop's pauses stay short.
 *
 * `--heap-growing-percent=20`: after a full collection, V8 lets an isolate's old generation grow to
 * 1.2 times what survived before the next one, instead of a factor it picks between 1.1 and 4 from
 * how fast it collects against how fast the thread allocates. A stage thread's rows live for their
 * batch (seconds), so they reach the old generation and die there: with V8's factor, each stage
 * thread carried 30-50 MB of such dead rows beside ~30 MB live. bench:pipeline at 1M records, 4
 * shards, 2 stage threads (2026-12-01): peak RSS 514 / 514 / 514 / 522 MB against 569 / 575, at
 * 15,781-17,969 records/s against 17,396 / 19,474 in the same minutes (a busy hour: the rate
 * within its noise; `--heap-growing-percent=10` held the same).
 *
 * `--max-semi-space-size=4`: every isolate's young generation at most 3 x 4 MB. V8 sizes the event
 * loop's by the machine's memory (semi-spaces of 16 MB on 24 GB), and grows it while much of what it
 * allocates survives a scavenge, as a worker's pages of records waiting for their shard do. The flag
 * also sets the stage threads' (their `maxYoungGenerationSizeMb` gives way to it: 12 MB instead of 8).
 * bench:pipeline at 1M records (2026-12-01, 2 interleaved pairs): peak RSS 461 / 458 MB against
 * 494 / 491, at 14,572 / 15,768 records/s against 13,933 / 17,205 (a busy hour). It costs the event
 * loop more full collections (GC at 300k records: 3.4 s against 2.6-2.9 s on the event loop, 2.3 s
 * against 2.3-2.9 s in each stage thread, `--trace-gc`).
 */
export const WORKER_NODE_FLAGS: readonly string[] = [
  '--single-threaded-gc',
  '--heap-growing-percent=20',
  '--max-semi-space-size=4',
];
