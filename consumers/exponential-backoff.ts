export interface ExponentialBackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Uniform in [0, 1); injectable so tests can pin the jitter. */
  readonly random?: () => number;
}

/**
 * Exponential back-off with full jitter: each delay is drawn uniformly from
 * [0, min(maxMs, baseMs * 2^attempt)], so many readers throttled at once do not retry in step.
 */
export class ExponentialBackoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: ExponentialBackoffOptions) {
    this.#baseMs = options.baseMs;
    this.#maxMs = options.maxMs;
    this.#random = options.random ?? Math.random;
  }

  /** Failures since the last success. */
  get attempts(): number {
    return this.#attempt;
  }

  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.floor(this.#random() * ceiling);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
