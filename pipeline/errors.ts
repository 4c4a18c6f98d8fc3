/**
 * Errors of the pipeline. Every error says what happened and what to do, carries its `cause`,
 * and says whether retrying can help. Retriable errors back off and are retried by the caller;
 * a record that can never succeed is not an error here: it becomes a dead letter.
 */

export class ShardlineError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ShardlineError';
    this.retriable = options.retriable ?? false;
  }
}

/** A record's Data could not be turned into request logs (bad compression, corrupt KPL, …). */
export class DecodeError extends ShardlineError {
  readonly reason: string;
  constructor(reason: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: false });
    this.name = 'DecodeError';
    this.reason = reason;
  }
}

/** Writing Parquet failed; the batch is kept and retried. */
export class EncodeError extends ShardlineError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: true });
    this.name = 'EncodeError';
  }
}

/** The object store refused or failed a write; retried with back-off. */
export class LandError extends ShardlineError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { retriable: true, ...options });
    this.name = 'LandError';
  }
}

/** A configuration value is wrong. The message names the field and how to fix it. */
export class ConfigError extends ShardlineError {
  readonly field: string;
  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super(`config: ${field}: ${message}`, { ...options, retriable: false });
    this.name = 'ConfigError';
    this.field = field;
  }
}
