import { createHash } from 'node:crypto';
import { z } from 'zod';
import { decompress } from '../decode/decompress.ts';
import { redactSecretsInText } from '../enrich/secret-text.ts';
import { ShardlineError } from '../errors.ts';
import { type DeadLetter, DEAD_LETTER_REASONS as REASONS } from '../types.ts';

/**
 * One line of a dead-letter file. `data_base64` holds the original bytes (the log line, or the
 * whole record's Data when `subSequence` is null), so a replay tool can rebuild the record.
 *
 * @example
 * {"reason":"invalid_json","message":"Unexpected token } at 14","stage":"decode",
 *  "shardId":"shardId-000000000001","sequenceNumber":"4959…","subSequence":null,
 *  "partitionKey":"a1b2c3","arrivedAt":"2025-01-15T10:00:00.123Z","data_base64":"eyJiYWQiOn0="}
 */
export const DeadLetterLine = z
  .object({
    reason: z.enum(REASONS),
    message: z.string(),
    stage: z.enum(['decode', 'validate', 'enrich', 'encode']),
    shardId: z.string(),
    sequenceNumber: z.string(),
    subSequence: z.number().int().nonnegative().nullable(),
    partitionKey: z.string(),
    arrivedAt: z.iso.datetime(),
    data_base64: z.base64(),
    /**
     * Set when `deadLetters.originalBytes` is `redact`: `redacted` means `data_base64` is the
     * (decompressed) text with secrets replaced; `omitted` means the bytes were not text and were
     * dropped. `data_sha256` and `data_bytes` then describe the original.
     */
    data_scrubbed: z.enum(['redacted', 'omitted']).optional(),
    data_sha256: z.string().optional(),
    data_bytes: z.number().int().nonnegative().optional(),
  })
  .strict();

/**
 * What dead letters keep of the original bytes. `keep` (the default): exactly what arrived, so
 * a replay can rebuild the record; they may hold secrets (see README, "Dead letters"). `redact`:
 * text is decompressed and passed through the same secret scanner as rows; bytes that are not
 * text are dropped, and a replay of those letters is no longer possible.
 */
export const DeadLetterConfig = z
  .object({
    originalBytes: z
      .enum(['keep', 'redact'])
      .default('keep')
      .describe(
        '`keep`: dead letters hold the original bytes, for replay; restrict and encrypt their prefix. `redact`: secrets are scrubbed from them (and non-text bytes dropped) at the cost of exact replay.',
      ),
  })
  .strict();

export type DeadLetterConfig = z.infer<typeof DeadLetterConfig>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes a dead letter stores under `redact`, and how they were scrubbed. */
export function scrub(data: Uint8Array): {
  data: Uint8Array;
  scrubbed: 'redacted' | 'omitted';
} {
  try {
    const text = utf8.decode(decompress(data).data);
    return { data: Buffer.from(redactSecretsInText(text, 'dead_letter', [])), scrubbed: 'redacted' };
  } catch {
    return { data: new Uint8Array(0), scrubbed: 'omitted' };
  }
}

/** Dead letters as JSON lines (UTF-8, one letter per line, each line ending in `\n`). */
export const encodeDeadLetters = (
  letters: readonly DeadLetter[],
  originalBytes: DeadLetterConfig['originalBytes'] = 'keep',
): Uint8Array => {
  // One buffer per line, never one string of all: a batch of millions of letters would pass V8's
  // maximum string length (the batch's byte bound keeps the sum itself in check).
  const lines = letters.map((l) => {
    const kept = originalBytes === 'keep' ? undefined : scrub(l.data);
    const data = kept?.data ?? l.data;
    return Buffer.from(
      `${JSON.stringify({
        reason: l.reason,
        message: l.message,
        stage: l.stage,
        shardId: l.shardId,
        sequenceNumber: l.sequenceNumber,
        subSequence: l.subSequence ?? null,
        partitionKey: l.partitionKey,
        arrivedAt: l.arrivedAt.toISOString(),
        data_base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
        ...(kept === undefined
          ? {}
          : {
              data_scrubbed: kept.scrubbed,
              data_sha256: createHash('sha256').update(l.data).digest('hex'),
              data_bytes: l.data.byteLength,
            }),
      } satisfies z.input<typeof DeadLetterLine>)}\n`,
    );
  });
  return Buffer.concat(lines);
};

/** One line of a dead-letter file read back: the letter, the line as stored, and how it was scrubbed. */
export interface StoredDeadLetterLine {
  readonly letter: DeadLetter;
  readonly line: string;
  readonly scrubbed?: 'redacted' | 'omitted';
}

/** A dead-letter file with a line that is not a dead letter: damaged, or not a dead-letter file. */
export class DamagedLetterFile extends ShardlineError {}

/** The fields a zod error is about (`subSequence, reason`), without their values. */
const issuePaths = (cause: unknown): string => {
  const issues = (cause as { issues?: { path?: PropertyKey[] }[] }).issues;
  if (!Array.isArray(issues)) return 'unknown';
  return [...new Set(issues.map((i) => (i.path ?? []).map(String).join('.') || '(line)'))]
    .slice(0, 5)
    .join(', ');
};

/** Reads a dead-letter file back line by line. Throws on a line that is not a dead letter, naming the file. */
export const decodeDeadLetterLines = (
  bytes: Uint8Array,
  key = 'dead-letter file',
): StoredDeadLetterLine[] => {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const out: StoredDeadLetterLine[] = [];
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    let parsed: z.output<typeof DeadLetterLine>;
    try {
      parsed = DeadLetterLine.parse(JSON.parse(line));
    } catch (cause) {
      // JSON.parse quotes the text around the error, and a dead letter's bytes may hold secrets:
      // the message says only what kind of failure it was; `cause` keeps the detail for a debugger.
      // Zod's issues name the fields (never their values).
      const kind =
        cause instanceof SyntaxError
          ? 'not JSON'
          : `JSON without the dead-letter fields: ${issuePaths(cause)}`;
      throw new DamagedLetterFile(
        `${key}: line ${lineNumber} is not a dead letter (${kind}, ${line.length} characters); the file is damaged or not a dead-letter file`,
        { cause },
      );
    }
    const data = Buffer.from(parsed.data_base64, 'base64');
    out.push({
      letter: {
        reason: parsed.reason,
        message: parsed.message,
        stage: parsed.stage,
        shardId: parsed.shardId,
        sequenceNumber: parsed.sequenceNumber,
        ...(parsed.subSequence === null ? {} : { subSequence: parsed.subSequence }),
        partitionKey: parsed.partitionKey,
        arrivedAt: new Date(parsed.arrivedAt),
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      },
      line,
      ...(parsed.data_scrubbed === undefined ? {} : { scrubbed: parsed.data_scrubbed }),
    });
  }
  return out;
};

/** Reads a dead-letter file back (replay, tests). Throws on a line that is not a dead letter. */
export const decodeDeadLetters = (bytes: Uint8Array, key?: string): DeadLetter[] =>
  decodeDeadLetterLines(bytes, key).map((l) => l.letter);
