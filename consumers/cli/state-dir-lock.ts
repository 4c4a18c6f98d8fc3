import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../pipeline/errors.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One `shardline dev` per state directory: the stream's LevelDB, the checkpoint file and the
 * warehouse each allow one writer. A lock left by a killed run (its pid is gone) is taken over.
 * Returns the release function.
 */
export const lockStateDir = (dir: string): (() => void) => {
  const file = join(dir, 'dev.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
        throw new ConfigError(
          '--dir',
          `${dir} is in use by another shardline dev (pid ${pid}): stop it first, or pass another --dir`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new ConfigError('--dir', `cannot lock ${dir}: remove ${file} and start again`);
};
