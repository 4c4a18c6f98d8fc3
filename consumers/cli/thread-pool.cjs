'use strict';
// libuv's thread pool for a Shardline process, sized before anything starts it. Loading this file
// sets UV_THREADPOOL_SIZE for the process, unless it is set: the command (bin.cjs) requires it
// first thing, and `npm run bench:pipeline` gives it to Node (`--require`), since it measures what
// a worker runs.

const { availableParallelism } = require('node:os');

/** libuv's own bound on UV_THREADPOOL_SIZE. */
const MAX_THREADS = 1024;

/**
 * Threads for a machine of `cores` cores: two a core, and 2 more.
 *
 * A worker runs a stage thread per core (`stages.threads: "auto"`), and each stage's Parquet
 * encoder has two DuckDB connections (lanes, pipeline/encode/parquet-encoder.ts). A file's COPY
 * runs on a pool thread and holds it while it waits for the stage thread's JS to fill the next
 * chunk of rows, so with libuv's default of 4 two stage threads can hold every pool thread, and
 * the rest of the pool's work waits for a whole COPY: the raw archive's gzip, the lake's file
 * writes, the AWS SDK's DNS look-ups, the local warehouse's loads. Measured with 4 COPYs of 20,000
 * rows in flight (2 encoders, one process, 3 rounds): an `fs.stat` took up to 340-540 ms with 4
 * threads, up to 42-198 ms with 6 and 68-209 ms with 8 (the rest is the JS thread busy filling
 * chunks). Each thread that runs a COPY keeps a glibc malloc arena of its own (unless
 * MALLOC_ARENA_MAX is set, as the image sets it): bench:pipeline's peak RSS at 1M records was
 * 453-461 MB with 4, 467-476 with 6 and 471-488 with 8, hence 2 more rather than libuv's 4.
 *
 * @param {number} cores
 * @returns {number}
 */
const threadPoolSize = (cores) => Math.min(MAX_THREADS, 2 * Math.max(1, Math.floor(cores)) + 2);

/**
 * Sets UV_THREADPOOL_SIZE in `env` for this machine, unless it is set already (the operator's
 * choice is kept). Only a process whose pool has not started yet takes it: call it first thing.
 *
 * @param {Record<string, string | undefined>} env
 * @param {number} [cores]
 * @returns {number} the size `env` now asks for
 */
const sizeThreadPool = (env, cores = availableParallelism()) => {
  const given = env.UV_THREADPOOL_SIZE;
  if (given !== undefined && given.trim() !== '') return Number(given);
  const size = threadPoolSize(cores);
  env.UV_THREADPOOL_SIZE = String(size);
  return size;
};

sizeThreadPool(process.env);

module.exports = { threadPoolSize, sizeThreadPool, MAX_THREADS };
