import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WORKER_NODE_FLAGS } from '../../consumers/cli/node-flags.ts';
import { parseDockerfile } from './dockerfile.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

/** The arguments Node is given before the script in a command line, as words. */
const nodeArgsOf = (words: readonly string[]): string[] => {
  const node = words.findIndex((w) => w === 'node' || w.endsWith('/node'));
  const script = words.findIndex((w, i) => i > node && !w.startsWith('-'));
  return node === -1 ? [] : words.slice(node + 1, script === -1 ? undefined : script);
};

describe("a worker's Node flags (consumers/cli/node-flags.ts)", () => {
  it('are given wherever a worker is started: the npm scripts and the image', () => {
    // Prepare: every command line that starts a worker.
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    const stages = parseDockerfile(join(ROOT, 'Dockerfile'));
    const image = stages[stages.length - 1]!;
    const commands: Record<string, string[]> = {
      'npm start': (scripts.start ?? '').split(/\s+/),
      'npm run shardline': (scripts.shardline ?? '').split(/\s+/),
      'npm run bench:pipeline': (scripts['bench:pipeline'] ?? '').split(/\s+/),
      'Dockerfile ENTRYPOINT': [...(image.entrypoint ?? [])],
    };

    // Act
    const missing = Object.entries(commands).flatMap(([where, words]) =>
      WORKER_NODE_FLAGS.filter((f) => !nodeArgsOf(words).includes(f)).map((f) => `${where}: ${f}`),
    );

    // Assess
    expect(missing).toEqual([]);
  });

  it("and size libuv's thread pool before it starts: the command (bin.cjs), or thread-pool.cjs given to the benchmark", () => {
    // Prepare
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      bin: Record<string, string>;
    };
    const stages = parseDockerfile(join(ROOT, 'Dockerfile'));
    const image = stages[stages.length - 1]!;
    const scriptOf = (words: readonly string[]): string | undefined => {
      const node = words.findIndex((w) => w === 'node' || w.endsWith('/node'));
      return words.slice(node + 1).find((w) => !w.startsWith('-'));
    };

    // Assess: the worker's commands run bin.cjs, which requires thread-pool.cjs first thing; the
    // benchmark of a worker gives it to Node.
    expect(pkg.bin.shardline).toBe('consumers/cli/bin.cjs');
    expect(scriptOf((pkg.scripts.start ?? '').split(/\s+/))).toBe('consumers/cli/bin.cjs');
    expect(scriptOf((pkg.scripts.shardline ?? '').split(/\s+/))).toBe('consumers/cli/bin.cjs');
    expect(scriptOf([...(image.entrypoint ?? [])])).toBe('consumers/cli/bin.cjs');
    expect(nodeArgsOf((pkg.scripts['bench:pipeline'] ?? '').split(/\s+/))).toContain(
      '--require=./consumers/cli/thread-pool.cjs',
    );
    expect(readFileSync(join(ROOT, 'consumers/cli/bin.cjs'), 'utf8')).toMatch(
      /^'use strict';\nrequire\('\.\/thread-pool\.cjs'\);$/m,
    );
  });

  it('are accepted by this Node, in the main thread and in a worker thread', async () => {
    // Act: an unknown V8 flag makes Node exit with "bad option".
    const { stdout } = await exec(process.execPath, [
      ...WORKER_NODE_FLAGS,
      '-e',
      "const { Worker } = require('node:worker_threads'); new Worker('require(\"node:worker_threads\").parentPort.postMessage(1)', { eval: true }).on('message', (m) => console.log('ok', m))",
    ]);

    // Assess
    expect(stdout.trim()).toBe('ok 1');
  });
});
