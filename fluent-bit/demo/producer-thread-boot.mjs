// Starts the demo producer in a worker thread (see producer-thread.ts): a worker thread does not
// inherit the process's TypeScript loader, so it registers tsx itself before loading the sources.
import { register } from 'tsx/esm/api';

register();
await import('./producer-thread-worker.ts');
