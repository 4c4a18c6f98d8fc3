#!/usr/bin/env node
// Runs the TypeScript CLI: Shardline ships its sources and runs them bundled by esbuild
// (pipeline/bundle/esm-bundle.mjs says why), or with tsx when no bundle can be kept.
import { fileURLToPath } from 'node:url';
import { importBundled } from '../../pipeline/bundle/esm-bundle.mjs';

// The lock file pins the AWS SDK; its notice that future releases need Node 22 is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await importBundled(fileURLToPath(new URL('./main.ts', import.meta.url)), 'cli');
