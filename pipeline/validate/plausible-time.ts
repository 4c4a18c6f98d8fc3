import { z } from 'zod';

/**
 * Request times a log may carry. Anything outside is a bug at the source (a zero epoch, seconds
 * read as milliseconds, a clock years off), and landing it would put the row in a partition no
 * dashboard ever looks at; such logs are dead-lettered with the reason, to be fixed and replayed.
 */
export const TimeWindowConfig = z
  .object({
    earliest: z.iso
      .datetime({ offset: true })
      .default('2000-01-01T00:00:00Z')
      .describe(
        'Oldest accepted request time. No API request log predates 2000; an epoch-zero or year-0000 time is a bug at the source.',
      ),
    maxAheadOfArrivalMs: z
      .number()
      .int()
      .min(0)
      .default(24 * 3_600_000)
      .describe(
        'How far a request time may be ahead of its Kinesis arrival. A request cannot happen after its log arrived; one day allows for badly set clocks and zone mistakes, not for milliseconds read as microseconds.',
      ),
  })
  .strict();

export type TimeWindowConfig = z.infer<typeof TimeWindowConfig>;

/** Why `tsMicros` is implausible for a log that arrived at `arrivedMs`, or undefined when it is fine. */
export function implausibleTime(
  tsMicros: bigint,
  arrivedMs: number,
  window: TimeWindowConfig,
): string | undefined {
  if (tsMicros < earliestMicrosOf(window)) {
    return `request time is before ${window.earliest} (validate.time.earliest): a zero or truncated timestamp at the source`;
  }
  const latestMicros = BigInt(arrivedMs + window.maxAheadOfArrivalMs) * 1000n;
  if (tsMicros > latestMicros) {
    return `request time is more than ${Math.round(window.maxAheadOfArrivalMs / 60_000)} min after the log arrived (validate.time.maxAheadOfArrivalMs): a wrong clock or unit at the source`;
  }
  return undefined;
}

/** The window's earliest time in µs, parsed once per config rather than once per log. */
const earliestMicros = new WeakMap<TimeWindowConfig, bigint>();
function earliestMicrosOf(window: TimeWindowConfig): bigint {
  let micros = earliestMicros.get(window);
  if (micros === undefined) {
    micros = BigInt(Date.parse(window.earliest)) * 1000n;
    earliestMicros.set(window, micros);
  }
  return micros;
}
