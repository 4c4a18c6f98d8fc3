import { ConfigError } from '../../pipeline/errors.ts';
import { type ColumnDef, REQUEST_COLUMNS, REQUESTS_TABLE } from '../request-row.ts';
import type { PipelineConfig, PipelineCredentials } from './pipeline-config.ts';

/** A MySQL string literal: quotes and backslashes escaped (backslash is an escape character there). */
export const sqlString = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** The CREDENTIALS JSON; `env` keys are read now, sent to SingleStore, and never written to a file. */
export const credentialsJson = (
  credentials: PipelineCredentials,
  env: NodeJS.ProcessEnv = process.env,
): string => {
  switch (credentials.type) {
    case 'role':
      return JSON.stringify({ role_arn: credentials.roleArn });
    case 'instance':
      return '{}';
    case 'env': {
      const id = env[credentials.accessKeyIdVar];
      const secret = env[credentials.secretAccessKeyVar];
      if (!id || !secret) {
        throw new ConfigError(
          'credentials',
          `type "env" needs ${credentials.accessKeyIdVar} and ${credentials.secretAccessKeyVar} set in the environment; set them, or use an IAM role ({"type":"role","roleArn":…})`,
        );
      }
      const token = env[credentials.sessionTokenVar];
      return JSON.stringify({
        aws_access_key_id: id,
        aws_secret_access_key: secret,
        ...(token ? { aws_session_token: token } : {}),
      });
    }
  }
};

/**
 * Parquet values that need converting on the way in (the SET clause). Parquet TIMESTAMP(MICROS)
 * is an INT64 of microseconds since the epoch; adding it to a literal epoch keeps it in UTC
 * whatever the session time zone (FROM_UNIXTIME would shift it). BOOLEAN is compared as text so
 * that the conversion holds whether the reader hands over 1/0 or true/false.
 */
const conversion = (c: ColumnDef): string | undefined => {
  switch (c.type) {
    case 'timestamp':
      return `\`${c.name}\` = DATE_ADD('1970-01-01 00:00:00', INTERVAL @${c.name} MICROSECOND)`;
    case 'bool':
      return `\`${c.name}\` = IF(CAST(@${c.name} AS CHAR) IN ('1', 'true'), 1, 0)`;
    default:
      return undefined;
  }
};

/** The `field <- parquet_field` mapping and the SET conversions of a Parquet pipeline over `columns`. */
export const pipelineMappingSql = (columns: readonly ColumnDef[]): { mapping: string; sets: string } => ({
  mapping: columns
    .map((c) => `  ${conversion(c) === undefined ? `\`${c.name}\`` : `@${c.name}`} <- \`${c.name}\``)
    .join(',\n'),
  sets: columns
    .map(conversion)
    .filter((s): s is string => s !== undefined)
    .join(',\n  '),
});

/**
 * `CREATE PIPELINE … LOAD DATA S3 … FORMAT PARQUET` for the `requests/` folder of the lake.
 *
 * - Explicit `column <- parquet_field` mapping for every column, so a column added to the files
 *   later does not shift anything, and values that need converting go through @variables.
 *   https://docs.singlestore.com/cloud/load-data/load-data-from-files/load-data-from-parquet-files/create-a-parquet-pipeline/
 * - SKIP DUPLICATE KEY ERRORS: a row whose (project_id, request_id) is already in the table is
 *   dropped and the first one kept (the unique key of migration 1).
 *   https://docs.singlestore.com/cloud/reference/sql-reference/pipelines-commands/create-pipeline/
 * - Errors: a file that cannot be read is retried MAX_RETRIES_PER_BATCH_PARTITION times; with
 *   STOP_ON_ERROR OFF it is then marked `Skipped` in information_schema.PIPELINES_FILES, its
 *   error recorded in information_schema.PIPELINES_ERRORS, and later files keep loading (one bad
 *   file must not freeze the dashboards). `shardline warehouse status|errors` shows both; after
 *   fixing the file, `ALTER PIPELINE … DROP FILE '<key>'` makes the pipeline load it again.
 *   https://docs.singlestore.com/cloud/reference/information-schema-reference/pipelines/pipelines-files/
 * - Freshness: S3 pipelines load a new key that sorts after every key seen at the next batch
 *   (BATCH_INTERVAL); a key that sorts earlier (a lagging shard's file) is found by the gradual
 *   rescan of the folder, later but never lost. Keys are tracked by name and never repeat.
 *   https://docs.singlestore.com/cloud/load-data/data-sources/load-data-from-amazon-web-services-aws-s-3/scanning-and-loading-files-in-aws-s-3/
 */
export const createRequestsPipelineSql = (config: PipelineConfig, credentials: string): string =>
  s3ParquetPipelineSql(config, credentials, {
    name: `\`${config.name}\``,
    folder: `${REQUESTS_TABLE}/`,
    // `generation` is left to its DEFAULT 0: live files are generation 0, and files landed before
    // the column existed do not have it (replayed files go to the replays pipeline).
    columns: REQUEST_COLUMNS.filter((c) => c.name !== 'generation'),
    options: ['SKIP DUPLICATE KEY ERRORS'],
    into: `INTO TABLE \`${REQUESTS_TABLE}\``,
  });

/**
 * A Parquet S3 pipeline over one folder of the lake: the statement the live and replays
 * pipelines share, with their own name, folder, columns, options and target.
 */
export const s3ParquetPipelineSql = (
  config: PipelineConfig,
  credentials: string,
  p: {
    readonly name: string;
    readonly folder: string;
    readonly columns: readonly ColumnDef[];
    readonly options: readonly string[];
    readonly into: string;
  },
): string => {
  const s3Config: Record<string, string> = { region: config.region };
  if (config.endpoint !== undefined) s3Config.endpoint_url = config.endpoint;
  const { mapping, sets } = pipelineMappingSql(p.columns);
  return [
    `CREATE PIPELINE IF NOT EXISTS ${p.name} AS`,
    `LOAD DATA S3 ${sqlString(`${config.bucket}/${config.prefix}${p.folder}`)}`,
    `CONFIG ${sqlString(JSON.stringify(s3Config))}`,
    `CREDENTIALS ${sqlString(credentials)}`,
    `BATCH_INTERVAL ${config.batchIntervalMs}`,
    `MAX_RETRIES_PER_BATCH_PARTITION ${config.maxRetriesPerBatchPartition}`,
    ...p.options,
    'STOP_ON_ERROR OFF',
    p.into,
    // Pipelines take the sub-value mapping after FORMAT PARQUET (the Parquet pipeline syntax);
    // the mapping-before-FORMAT order is LOAD DATA's.
    'FORMAT PARQUET',
    '(',
    mapping,
    ')',
    `SET\n  ${sets}`,
  ].join('\n');
};
