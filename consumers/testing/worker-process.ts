import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { WORKER_NODE_FLAGS } from '../cli/node-flags.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'consumers/cli/bin.cjs');

/** A `shardline consume` worker running as its own process, for tests and the chaos run. */
export interface WorkerProcess {
  readonly workerId: string;
  readonly child: ChildProcess;
  /** Settles with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** The last 64 KiB of its stderr (structured logs), for failure messages. */
  stderr(): string;
}

export interface SpawnWorkerOptions {
  readonly configFile: string;
  readonly workerId: string;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly extraArgs?: readonly string[];
}

export function spawnWorker(options: SpawnWorkerOptions): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      ...WORKER_NODE_FLAGS,
      BIN,
      'consume',
      '--config',
      options.configFile,
      '--worker-id',
      options.workerId,
      ...(options.extraArgs ?? []),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SHARDLINE_LOG_LEVEL: options.logLevel ?? 'warn' },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-65_536);
  });
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code) => resolveExit(code));
  });
  return { workerId: options.workerId, child, exited, stderr: () => stderr };
}
