// Bundles Shardline's entry points ahead of time (see esm-bundle.mjs): the container images run it
// while their files are still writable, so that their read-only installations hold the bundles
// their processes and threads run. `node pipeline/bundle/prebuild.mjs [cli] [lambda] [stage-thread]`
// (all three without arguments) prints each bundle's path, or the reason there is none and exits 1.
import { fileURLToPath } from 'node:url';
import { bundleEntry } from './esm-bundle.mjs';

const ENTRIES = {
  cli: '../../consumers/cli/main.ts',
  lambda: '../../consumers/lambda/index.ts',
  'stage-thread': '../stages/stage-thread.ts',
};

const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(ENTRIES);
for (const name of names) {
  const entry = ENTRIES[name];
  if (entry === undefined) {
    console.error(`unknown entry point ${name}: give any of ${Object.keys(ENTRIES).join(', ')}`);
    process.exit(1);
  }
  const bundled = await bundleEntry(fileURLToPath(new URL(entry, import.meta.url)), { name });
  if (bundled.url === undefined) {
    console.error(bundled.fallbackReason);
    process.exit(1);
  }
  console.log(fileURLToPath(bundled.url));
}
