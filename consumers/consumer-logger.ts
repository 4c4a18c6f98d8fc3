/** What a consumer reports about itself; the pipeline's `Logger` satisfies it. Errors go in `err`. */
export interface ConsumerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: ConsumerLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
