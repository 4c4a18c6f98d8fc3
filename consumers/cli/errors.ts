import { ShardlineError } from '../../pipeline/errors.ts';

/**
 * The warehouse refused a query (syntax, unknown column, type). The message is the warehouse's
 * own, with its position (DuckDB's `LINE 1: …` and caret, SingleStore's `near '…' at line 1`);
 * retrying the same SQL cannot help.
 */
export class QueryError extends ShardlineError {
  readonly warehouse: 'duckdb' | 'singlestore';
  constructor(warehouse: 'duckdb' | 'singlestore', message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: false });
    this.name = 'QueryError';
    this.warehouse = warehouse;
  }
}

/** The SingleStore Data API answered with an HTTP error other than a SQL error. */
export class DataApiError extends ShardlineError {
  readonly status: number;
  constructor(status: number, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { retriable: status >= 500 || status === 429, ...options });
    this.name = 'DataApiError';
    this.status = status;
  }
}
