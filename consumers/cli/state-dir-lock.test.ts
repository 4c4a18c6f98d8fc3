import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockStateDir } from './state-dir-lock.ts';

describe('lockStateDir', () => {
  it('refuses a directory held by a live process, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    writeFileSync(join(dir, 'dev.pid'), String(process.ppid));
    expect(() => lockStateDir(dir)).toThrow(new RegExp(`pid ${process.ppid}`));
  });

  it('takes over a lock left by a process that is gone, and releases it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    writeFileSync(join(dir, 'dev.pid'), '999999999');
    const release = lockStateDir(dir);
    expect(existsSync(join(dir, 'dev.pid'))).toBe(true);
    release();
    expect(existsSync(join(dir, 'dev.pid'))).toBe(false);
  });
});
