/** What a consumer reports about itself. Structurally compatible with pino's `(fields, message)` order. */
export interface ConsumerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: ConsumerLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
