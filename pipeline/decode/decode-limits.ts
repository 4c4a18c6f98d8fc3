import { z } from 'zod';

/**
 * Bounds on the work one Kinesis record may cause. A record is at most 1 MiB on the wire, but
 * compression and many short lines can multiply it: 8 KB of gzip can hold millions of `{}` lines.
 * Past a bound the record becomes ONE dead letter holding its original (compressed) bytes, so
 * the cost of a hostile record is one small dead letter, not millions.
 */
export const DecodeConfig = z
  .object({
    maxDecompressedBytes: z
      .number()
      .int()
      .min(1_024)
      .max(256 * 1024 * 1024)
      .default(8 * 1024 * 1024)
      .describe(
        'Largest Data of one record once decompressed (all its KPL sub-records together). Fluent Bit aggregates at most ~1 MiB of lines per record before compressing, and request logs compress 5-20x; 8 MiB leaves room for that and refuses zip bombs.',
      ),
    maxLinesPerRecord: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .default(20_000)
      .describe(
        'Most request-log lines one record may hold (KPL sub-records included). The smallest useful request log is ~60 bytes, so 1 MiB of aggregated lines is ~17,000 of them; 20,000 admits any real Fluent Bit or KPL record and caps what one record can cost.',
      ),
    maxLineBytes: z
      .number()
      .int()
      .min(1_024)
      .max(8 * 1024 * 1024)
      .default(1_048_576)
      .describe(
        'Largest single line. A line longer than a Kinesis record cannot have come from one request log; its dead letter holds the original record, not the inflated line.',
      ),
  })
  .strict();

export type DecodeConfig = z.infer<typeof DecodeConfig>;

export const DEFAULT_DECODE_LIMITS: DecodeConfig = DecodeConfig.parse({});
