# syntax=docker/dockerfile:1
# Shardline's container images. Build and push: see terraform/README.md ("Build and push the image").
#
#   docker build -t shardline:$(git rev-parse --short HEAD) .                  # `shardline consume` (ECS)
#   docker build --target lambda -t shardline-lambda:$(git rev-parse --short HEAD) .   # the Lambda consumer
#
# Shardline ships its TypeScript sources and runs them with tsx (a runtime dependency), so there is
# no compile step: the image is the production dependencies plus the three source folders, and the
# bundles that esbuild (also a runtime dependency) makes of them for the processes and threads.
# test/deploy/container-steps.test.ts reads this file and runs the same install and start steps.

ARG NODE_VERSION=20

# Production dependencies only, exactly as the lock file says. No install scripts: every native
# module used at runtime (DuckDB, esbuild for tsx) ships prebuilt binaries as optional packages.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# The Lambda consumer (`docker build --target lambda`): AWS's Node base image brings the runtime
# interface client; the handler is consumers/lambda/index.mjs.
FROM public.ecr.aws/lambda/nodejs:${NODE_VERSION} AS lambda
COPY --from=deps /app/node_modules ${LAMBDA_TASK_ROOT}/node_modules
COPY package.json package-lock.json ${LAMBDA_TASK_ROOT}/
COPY consumers ${LAMBDA_TASK_ROOT}/consumers
COPY pipeline ${LAMBDA_TASK_ROOT}/pipeline
COPY schemas ${LAMBDA_TASK_ROOT}/schemas
# The handler's and the stage threads' sources bundled while the files are writable
# (pipeline/bundle/esm-bundle.mjs).
RUN node ${LAMBDA_TASK_ROOT}/pipeline/bundle/prebuild.mjs lambda stage-thread
# libuv's thread pool for the stage threads' Parquet writes: 2 a core and 2 more
# (consumers/cli/thread-pool.cjs), for the 6 vCPUs Lambda gives a function at most. The runtime
# starts Node, so the image sets it: the handler loads after the pool has started.
ENV UV_THREADPOOL_SIZE=14
CMD ["consumers/lambda/index.handler"]

# `shardline consume` (the default target). tini is PID 1 and forwards SIGTERM to Node, which
# lands what it holds and releases its leases before exiting 0 (ECS sends SIGTERM, then SIGKILL
# after the task's stopTimeout).
FROM node:${NODE_VERSION}-bookworm-slim AS consumer
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# Two glibc malloc arenas instead of 8 a core: memory freed by one thread (stage threads, zlib on
# libuv's pool) serves the others. bench:pipeline, 1M records, 2 pairs: peak RSS 588 / 594 MB
# against 616 / 614, at the same rate (README, "A worker in 512 MB").
ENV MALLOC_ARENA_MAX=2
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY consumers ./consumers
COPY pipeline ./pipeline
COPY schemas ./schemas
# The CLI and the stage threads run their sources bundled into one module each, built here while
# the files are writable: no TypeScript loader thread beside the process and each stage thread
# (~33 and ~20 MB; pipeline/bundle/esm-bundle.mjs).
RUN node pipeline/bundle/prebuild.mjs cli stage-thread
# The official image's unprivileged user (uid 1000); the app's files stay root-owned, read-only to it.
USER node
# /metrics and /health (`--metrics-port`); the config's `metrics.host` must be 0.0.0.0 for scrapers.
EXPOSE 9400
STOPSIGNAL SIGTERM
# No curl or wget in the image: Node's fetch asks /health (503 = landing, Kinesis or leases failing).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9400/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# V8 flags of a worker: consumers/cli/node-flags.ts says why.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--single-threaded-gc", "--heap-growing-percent=20", "--max-semi-space-size=4", "consumers/cli/bin.cjs"]
# The config: `--config <file>` or, without it, the JSON itself in $SHARDLINE_CONFIG.
CMD ["consume", "--metrics-port", "9400"]
