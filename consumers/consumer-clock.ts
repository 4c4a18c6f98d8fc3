import { setTimeout as delay } from 'node:timers/promises';

/** Time as a consumer sees it; tests inject a virtual one so that back-off needs no real waiting. */
export interface ConsumerClock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: ConsumerClock = {
  now: () => Date.now(),
  async sleep(ms, signal) {
    if (ms <= 0 || signal?.aborted) return;
    await delay(ms, undefined, { signal }).catch(() => undefined);
  },
};
