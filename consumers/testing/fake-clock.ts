import type { ConsumerClock } from '../consumer-clock.ts';

/**
 * Virtual time: sleep() advances it at once and yields to the event loop, so a test runs a
 * reader through minutes of back-off in milliseconds and can read every pause it took.
 */
export class FakeClock implements ConsumerClock {
  time = 0;
  readonly sleeps: number[] = [];

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal?.aborted && ms > 0) {
      this.sleeps.push(ms);
      this.time += ms;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}
