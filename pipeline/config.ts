import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ArchiveConfig } from './archive/raw-archive.ts';
import { AwsRegion, S3BucketName } from './aws/aws-names.ts';
import { DeadLetterConfig } from './dead-letter/dead-letter-sink.ts';
import { DecodeConfig } from './decode/decode-limits.ts';
import { TimeWindowConfig } from './validate/plausible-time.ts';

/**
 * Pipeline configuration: one strict zod schema per component, with defaults and the reason for
 * each default in its description (the reference docs are generated from these descriptions).
 */

export const BatchConfig = z
  .object({
    maxRows: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(100_000)
      .describe(
        'Flush a shard batch at this many rows. 100k rows of ~35 columns encode to a few MiB of Parquet: large enough for efficient columnar files, small enough to keep memory per shard bounded.',
      ),
    maxBytes: z
      .number()
      .int()
      .min(1_024)
      .default(32 * 1024 * 1024)
      .describe(
        'Flush at this many bytes of received record Data. A shard takes at most 1 MiB/s of writes, so 32 MiB is ~30 s of a saturated shard; it bounds memory, not freshness.',
      ),
    maxAgeMs: z
      .number()
      .int()
      .min(100)
      .max(15 * 60_000)
      .default(5_000)
      .describe(
        'Flush a batch this long after its first record, at the latest. With `freshAgeMs` it sets how many small files a quiet shard writes: at most 3600 s / maxAgeMs an hour (720 at 5 s), plus one burst of `freshBurst`.',
      ),
    freshAgeMs: z
      .number()
      .int()
      .min(100)
      .max(15 * 60_000)
      .default(1_000)
      .describe(
        "Flush a batch, between two reads of its shard, once its oldest record arrived in the stream this long ago, while the shard's file budget allows: `freshBurst` early files, one more each `maxAgeMs`. Traffic that comes and goes lands ~1 s after it arrives; a steady trickle spends the budget and lands every `maxAgeMs`, so a shard never writes more small files an hour than without early files (3600 s / maxAgeMs, plus one burst). Set `freshBurst` to 0 to turn early files off.",
      ),
    freshBurst: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(12)
      .describe(
        'Early files (at `freshAgeMs`) a shard may write in a row before it falls back to one per `maxAgeMs`; 0 turns early files off.',
      ),
    maxWorkerBytes: z
      .number()
      .int()
      .min(1_024)
      .default(64 * 1024 * 1024)
      .describe(
        "Bound on what the open batches of all of a worker's shards hold in memory together: rows are counted at ~3x their log line (held packed, ~0.9x, plus room for DuckDB's staging of a batch being encoded), duplicates held until their batch lands included, plus dead letters. The processor whose record passes it lands its batch early (reason `memory`) before reading on, so batches open or landing hold at most this plus one record a shard; each stage thread's heap is capped at 256 MB plus twice this. Live traffic (at most 1 MiB/s a shard) meets `maxAgeMs` long before it; it governs a worker catching up on a backlog, where it trades file size for memory: 64 MiB over 4 shards lands files of ~6,500 rows. bench:pipeline (1M records, 4 shards, 2 stage threads, geo-IP on) peaks at ~0.50-0.52 GB RSS with 64 MiB (2026-12-01, rows held packed); 16 MiB saved ~40-80 MB when rows were held as objects: below that the worker's fixed memory (code, V8 heaps, DuckDB) dominates; `stages.threads` 1 is the larger lever (README: a worker in 512 MB).",
      ),
  })
  .strict();

export const DedupeConfig = z
  .object({
    windowMs: z
      .number()
      .int()
      .min(0)
      .default(15 * 60_000)
      .describe(
        'A request id seen again within this window is a duplicate. Fluent Bit resends a whole chunk after a failed call, usually within seconds to minutes of the first send; 15 minutes covers its back-off.',
      ),
    maxKeys: z
      .number()
      .int()
      .min(1_000)
      .default(2_000_000)
      .describe('Upper bound on remembered request ids (~100 bytes each); the oldest are forgotten first.'),
  })
  .strict();

export const EnrichConfig = z
  .object({
    geoIp: z
      .union([z.literal(true), z.literal(false), z.string().min(1)])
      .default(true)
      .describe(
        'true: the bundled DB-IP Lite city databases; a path: your own .mmdb file (read from disk through a 4 MiB page cache per file and thread; replace it by renaming a new file over it, never by rewriting it in place); false: no geo-IP.',
      ),
    bodyCapChars: z
      .number()
      .int()
      .min(0)
      .max(1_048_576)
      .default(16_384)
      .describe('Request and response bodies are truncated to this many characters before storage.'),
  })
  .strict();

export const StagesConfig = z
  .object({
    threads: z
      .union([z.literal('auto'), z.number().int().min(0).max(64)])
      .default('auto')
      .describe(
        'Worker threads that decode, validate, enrich and encode (the main thread keeps reading shards, deduplicating, landing and checkpointing). "auto": one per core the process may use (os.availableParallelism(), at most 8), or 0 on a single core; 0 runs every stage in the main thread.',
      ),
  })
  .strict();

/** Stage threads for `stages.threads` on this machine. */
export const stageThreads = (threads: StagesConfig['threads'], cores = availableParallelism()): number =>
  threads === 'auto' ? (cores >= 2 ? Math.min(cores, 8) : 0) : threads;

/**
 * Redaction settings. Secrets are always redacted by name, shape and randomness; these settings
 * only make it stricter.
 *
 * @example
 * {"headerAllowlist":["host","accept","content-type","user-agent","x-request-id"]}
 */
export const RedactionConfig = z
  .object({
    headerAllowlist: z
      .array(z.string().min(1).max(256))
      .max(256)
      .optional()
      .describe(
        'When set, only these headers (any case) are stored with their values; every other header is stored by name with the value `[REDACTED]`. Unset: all headers are stored, redacted by name, shape and randomness. An allowlist suits APIs whose clients send custom headers nobody has reviewed.',
      ),
  })
  .strict();

export const LakeConfig = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('local'),
        dir: z
          .string()
          .min(1)
          .default('.shardline/lake')
          .describe('Directory that receives the Parquet files.'),
      })
      .strict(),
    z
      .object({
        type: z.literal('s3'),
        bucket: S3BucketName.describe('S3 bucket that receives the Parquet files, e.g. `acme-api-logs`.'),
        prefix: z.string().default('').describe('Key prefix inside the bucket, e.g. `shardline/`.'),
        region: AwsRegion.default('us-east-1').describe('AWS region of the bucket, e.g. `eu-west-1`.'),
        endpoint: z
          .string()
          .url()
          .optional()
          .describe('S3 API endpoint for S3-compatible stores (s3rver, MinIO); omit for AWS.'),
        forcePathStyle: z
          .boolean()
          .optional()
          .describe('Path-style addressing; defaults to true when `endpoint` is set.'),
      })
      .strict(),
  ])
  .describe('Where Parquet and dead letters land.');

export const PipelineConfig = z
  .object({
    batch: BatchConfig.default(BatchConfig.parse({})),
    decode: DecodeConfig.default(DecodeConfig.parse({})),
    deadLetters: DeadLetterConfig.default(DeadLetterConfig.parse({})),
    validate: z
      .object({ time: TimeWindowConfig.default(TimeWindowConfig.parse({})) })
      .strict()
      .default({ time: TimeWindowConfig.parse({}) }),
    dedupe: DedupeConfig.default(DedupeConfig.parse({})),
    enrich: EnrichConfig.default(EnrichConfig.parse({})),
    redaction: RedactionConfig.default(RedactionConfig.parse({})),
    lake: LakeConfig.default({ type: 'local', dir: '.shardline/lake' }),
    archive: ArchiveConfig.default(ArchiveConfig.parse({})),
    stages: StagesConfig.default(StagesConfig.parse({})),
  })
  .strict();

export type PipelineConfig = z.infer<typeof PipelineConfig>;
export type BatchConfig = z.infer<typeof BatchConfig>;
export type LakeConfig = z.infer<typeof LakeConfig>;
export type RedactionConfig = z.infer<typeof RedactionConfig>;
export type StagesConfig = z.infer<typeof StagesConfig>;
