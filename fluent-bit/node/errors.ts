import { ShardlineError } from '../../pipeline/errors.ts';

/**
 * Errors of the request-log middleware. They never reach the request being served: they go to
 * the logger's `onError` option (a process warning by default), with the lines they cost counted.
 */

/**
 * Opening, writing, renaming or closing the log file failed. The lines of the failed write are
 * dropped (and counted in `RequestLogger.dropped()`); the next line reopens the file, so a
 * recreated directory or freed disk space recovers without a restart.
 */
export class RequestLogFileError extends ShardlineError {
  readonly file: string;
  readonly droppedLines: number;
  constructor(file: string, step: string, droppedLines: number, options: { cause?: unknown } = {}) {
    const cause = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      `request log: ${step} ${file} failed${cause}; ${droppedLines} line(s) dropped. ` +
        'Check that the directory exists, is writable and has free space; the next line retries.',
      { ...options, retriable: true },
    );
    this.name = 'RequestLogFileError';
    this.file = file;
    this.droppedLines = droppedLines;
  }
}
