import { ShardlineError } from './errors.ts';

export interface RetryOptions {
  /** First delay; doubles each attempt up to `maxDelayMs`, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Stop retrying (and rethrow) when this returns true, e.g. after a lease was lost. */
  cancelled?: () => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

const isRetriable = (e: unknown): boolean => (e instanceof ShardlineError ? e.retriable : true);

/**
 * Runs `fn` until it succeeds. Retriable failures back off exponentially with full jitter and are
 * retried without limit: a batch that cannot land must hold its checkpoint back, not be dropped.
 * Non-retriable failures (wrong bucket, no permission) are rethrown at once so a person can fix them.
 */
export const retryForever = async <T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> => {
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetriable(e) || options.cancelled?.()) throw e;
      const delay = Math.random() * Math.min(max, base * 2 ** Math.min(attempt, 20));
      options.onRetry?.(e, attempt, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
};
