// Starts the demo producer in a worker thread (see producer-thread.ts): its sources bundled, as the
// CLI runs its own (pipeline/bundle/esm-bundle.mjs), or with tsx registered in the thread when no
// bundle can be kept. A worker thread does not inherit the process's TypeScript loader.
import { fileURLToPath } from 'node:url';
import { importBundled } from '../../pipeline/bundle/esm-bundle.mjs';

await importBundled(
  fileURLToPath(new URL('./producer-thread-worker.ts', import.meta.url)),
  'producer-thread',
);
