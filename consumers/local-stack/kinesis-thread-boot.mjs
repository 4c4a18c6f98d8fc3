// Starts the local Kinesis in a worker thread (see kinesis-thread.ts): a worker thread does not
// inherit the process's TypeScript loader, so it registers tsx itself before loading the sources.
import { register } from 'tsx/esm/api';

register();
await import('./kinesis-thread.ts');
