#!/usr/bin/env node
// The `shardline` command: runs the TypeScript CLI (main.ts) bundled by esbuild
// (pipeline/bundle/esm-bundle.mjs says why), or with tsx when no bundle can be kept.
//
// CommonJS, so that it runs before Node's ES module loader: the loader's first file read starts
// libuv's thread pool, and libuv reads UV_THREADPOOL_SIZE only then (thread-pool.cjs says what
// size a Shardline process takes, and why).
'use strict';
require('./thread-pool.cjs');
const { join } = require('node:path');

// The lock file pins the AWS SDK; its notice that future releases need Node 22 is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import('../../pipeline/bundle/esm-bundle.mjs').then(({ importBundled }) =>
  importBundled(join(__dirname, 'main.ts'), 'cli'),
);
