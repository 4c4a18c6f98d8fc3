// Starts a stage thread: a worker thread does not inherit the process's TypeScript loader, so it
// registers tsx itself (as consumers/cli/bin.cjs does) before loading the stage's sources.
import { register } from 'tsx/esm/api';

register();
await import('./stage-thread.ts');
