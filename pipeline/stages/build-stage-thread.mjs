// Builds the stage threads' bundle ahead of time (see stage-thread-script.ts). The container image
// runs it while its files are still writable, so that its read-only installation holds the bundle
// its threads run: `node pipeline/stages/build-stage-thread.mjs` prints the bundle's path, or the
// reason there is none and exits 1.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const { buildStageThreadScript } = await import('./stage-thread-script.ts');
const script = await buildStageThreadScript();
if (script.fallbackReason !== undefined) {
  console.error(script.fallbackReason);
  process.exit(1);
}
console.log(fileURLToPath(script.url));
