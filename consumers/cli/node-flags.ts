/**
 * The V8 flags a worker's Node runs with. They must be given when Node starts, so the same list is
 * written where a worker is started: `package.json`'s `start`, `shardline` and `bench:pipeline`
 * scripts and the `Dockerfile`'s ENTRYPOINT (`test/deploy/node-flags.test.ts` checks that they
 * agree); spawned workers (`consumers/testing/worker-process.ts`) take it from here. `bin.mjs` keeps
 * a plain `#!/usr/bin/env node` (`env -S` is missing from BusyBox and older coreutils), so
 * `npx shardline` runs without it: `node --single-threaded-gc node_modules/.bin/shardline …` adds it.
 *
 * `--single-threaded-gc`: each isolate (the event loop, every stage thread) collects its own garbage
 * on its own thread, instead of handing parts to V8's four helper threads. On a worker whose
 * threads already keep every core busy, the helpers only add coordination: bench:pipeline at 1M
 * records, 3 interleaved pairs, 26,262 / 27,033 / 29,399 records/s against 23,267 / 24,479 /
 * 27,645, CPU 74.8 / 72.8 / 67.0 µs a record against 83.4 / 79.3 / 70.2, peak RSS 14-31 MB more
 * (garbage is swept later). Marking stays incremental, so the event loop's pauses stay short.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
