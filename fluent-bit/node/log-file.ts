import { type FileHandle, open, rename } from 'node:fs/promises';
import { RequestLogFileError } from './errors.ts';

export interface LogFileOptions {
  /** Rotate before a line would take the file past this many bytes; undefined: never rotate. */
  maxBytes?: number | undefined;
  /** Rotated files kept: `<file>.1` (newest) … `<file>.<maxFiles>` (oldest). */
  maxFiles: number;
  onError: (error: RequestLogFileError) => void;
}

export interface LogFile {
  /** Queues one whole line, ending in `\n`. */
  write(line: string): void;
  /** Closes the file and opens `path` again (after an outside rename); resolves once it is open. */
  reopen(): Promise<void>;
  /** Writes every queued line, then closes the file. Lines written after this are dropped. */
  close(): Promise<void>;
  /** Lines lost so far (write errors, or written after `close()`). */
  dropped(): number;
}

/** One write call never carries more than this, so a burst does not become one huge Buffer. */
const MAX_WRITE_BYTES = 1 << 20;

/**
 * An append-only JSON-lines file that can be reopened and rotated while the app keeps writing.
 *
 * Invariant: one loop (`drain`) does every file operation, in order. `write()` only queues, so a
 * line written while the file is being closed, renamed or opened waits in memory and lands, whole
 * and in order, in the file that is open next. A line never straddles two files: a batch is cut at
 * line boundaries and rotation happens between batches.
 *
 * Rotation renames `<file>.<i>` to `<file>.<i+1>` from the oldest down (the rename onto
 * `<file>.<maxFiles>` replaces the oldest), then `<file>` to `<file>.1`, then opens a new `<file>`.
 * Each file holds at most `maxBytes` (a single line longer than that gets a file of its own), so
 * the files on disk never exceed (maxFiles + 1) × maxBytes. Renaming rather than copying is what
 * Fluent Bit's tail input expects: it follows the open file by inode and finishes reading it.
 * Only one process may write a given file.
 */
export function openLogFile(path: string, options: LogFileOptions): LogFile {
  let queue: Buffer[] = [];
  let handle: FileHandle | undefined;
  let size = 0;
  /** A failed write may have left half a line at the end of the file: start the next with `\n`. */
  let torn = false;
  let reopenWaiters: (() => void)[] = [];
  let running: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let dropped = 0;

  const fail = (step: string, lines: number, cause: unknown): void => {
    dropped += lines;
    options.onError(new RequestLogFileError(path, step, lines, { cause }));
  };

  const closeHandle = async (): Promise<void> => {
    const h = handle;
    handle = undefined;
    if (h !== undefined) await h.close();
  };

  const openHandle = async (): Promise<void> => {
    handle = await open(path, 'a');
    size = (await handle.stat()).size;
  };

  const rotate = async (): Promise<void> => {
    await closeHandle();
    for (let i = options.maxFiles - 1; i >= 1; i--) await renameIfExists(`${path}.${i}`, `${path}.${i + 1}`);
    await renameIfExists(path, `${path}.1`);
  };

  /** Takes the lines that fit in the open file; none when the file must rotate first. */
  const takeBatch = (): Buffer[] => {
    const room = options.maxBytes === undefined ? Number.POSITIVE_INFINITY : options.maxBytes - size;
    let bytes = 0;
    let n = 0;
    while (n < queue.length) {
      const next = bytes + queue[n]!.byteLength;
      const fits = next <= room || (n === 0 && size === 0);
      if (!fits || (n > 0 && next > MAX_WRITE_BYTES)) break;
      bytes = next;
      n++;
    }
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    return batch;
  };

  const writeBatch = async (batch: Buffer[]): Promise<void> => {
    const data = Buffer.concat(torn ? [Buffer.from('\n'), ...batch] : batch);
    let written = 0;
    try {
      while (written < data.byteLength) {
        const { bytesWritten } = await handle!.write(data, written, data.byteLength - written);
        written += bytesWritten;
      }
      torn = false;
    } catch (error) {
      torn = written > 0 && data[written - 1] !== 0x0a;
      await closeHandle().catch(() => {});
      fail('writing', batch.length, error);
    } finally {
      size += written;
    }
  };

  const step = async (): Promise<void> => {
    if (reopenWaiters.length > 0) {
      const waiters = reopenWaiters;
      reopenWaiters = [];
      try {
        await closeHandle();
        await openHandle();
      } catch (error) {
        fail('reopening', 0, error);
      }
      for (const resolve of waiters) resolve();
      return;
    }
    if (handle === undefined) {
      try {
        await openHandle();
      } catch (error) {
        // Nowhere to put them now; keeping them would grow memory for as long as the disk is gone.
        const lost = queue.length;
        queue = [];
        fail('opening', lost, error);
        return;
      }
    }
    const batch = takeBatch();
    if (batch.length > 0) return writeBatch(batch);
    try {
      await rotate();
      await openHandle();
    } catch (error) {
      fail('rotating', 0, error);
      // Keep writing to the unrotated file rather than losing lines: the size bound is exceeded
      // only for as long as renames keep failing, and each failure is reported.
      try {
        if (handle === undefined) await openHandle();
      } catch (again) {
        const lost = queue.length;
        queue = [];
        fail('opening', lost, again);
        return;
      }
      const everything = queue;
      queue = [];
      await writeBatch(everything);
    }
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0 || reopenWaiters.length > 0) await step();
  };

  const kick = (): void => {
    if (running !== undefined) return;
    running = drain().finally(() => {
      running = undefined;
      if (queue.length > 0 || reopenWaiters.length > 0) kick();
    });
  };

  return {
    write(line) {
      if (closing !== undefined) {
        dropped++;
        return;
      }
      queue.push(Buffer.from(line));
      kick();
    },
    reopen() {
      if (closing !== undefined) return closing;
      const reopened = new Promise<void>((resolve) => reopenWaiters.push(resolve));
      kick();
      return reopened;
    },
    close() {
      closing ??= (async () => {
        while (running !== undefined) await running;
        try {
          await closeHandle();
        } catch (error) {
          fail('closing', 0, error);
        }
      })();
      return closing;
    },
    dropped: () => dropped,
  };
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
