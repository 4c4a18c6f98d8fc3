// Starts the local Kinesis in a worker thread (see kinesis-thread.ts): its sources bundled, as the
// CLI runs its own (pipeline/bundle/esm-bundle.mjs), or with tsx registered in the thread when no
// bundle can be kept. A worker thread does not inherit the process's TypeScript loader.
import { fileURLToPath } from 'node:url';
import { importBundled } from '../../pipeline/bundle/esm-bundle.mjs';

await importBundled(fileURLToPath(new URL('./kinesis-thread.ts', import.meta.url)), 'kinesis-thread');
