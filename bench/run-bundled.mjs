// Runs a benchmark as a worker runs Shardline: its sources bundled (pipeline/bundle/esm-bundle.mjs),
// with no TypeScript loader thread beside it, so that its memory figures are a worker's.
// `node [flags] bench/run-bundled.mjs bench/<name>.bench.ts [options]`: the script sees its own path
// as process.argv[1] and the options after it, as when Node runs it directly.
import { basename, resolve } from 'node:path';
import { importBundled } from '../pipeline/bundle/esm-bundle.mjs';

const entry = process.argv[2];
if (entry === undefined) {
  console.error('usage: node bench/run-bundled.mjs bench/<name>.bench.ts [options]');
  process.exit(1);
}
const path = resolve(entry);
process.argv.splice(1, 2, path);
await importBundled(path, `bench-${basename(path, '.ts').replaceAll('.', '-')}`);
