/**
 * Structured logs: one JSON object per line on stderr, so stdout stays free for command output
 * (query results, the final JSON summary). Level from SHARDLINE_LOG_LEVEL (debug|info|warn|error|silent).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const serialiseError = (e: unknown): unknown =>
  e instanceof Error
    ? { name: e.name, message: e.message, cause: e.cause ? serialiseError(e.cause) : undefined }
    : e;

export const createLogger = (
  base: Record<string, unknown> = {},
  level: LogLevel = (process.env.SHARDLINE_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger => {
  const threshold = ORDER[level] ?? ORDER.info;
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < threshold) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = k === 'err' ? serialiseError(v) : v;
    write(`${JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, level, write),
  };
};

export const silentLogger: Logger = createLogger({}, 'silent');
