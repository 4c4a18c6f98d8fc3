import { LAKE } from '../../pipeline/land/lake-layout.ts';
import { DERIVED_COLUMNS, REQUEST_COLUMNS, REQUEST_KEY_COLUMNS, REQUESTS_TABLE } from '../request-row.ts';
import type { PipelineConfig } from './pipeline-config.ts';
import { pipelineMappingSql, sqlString } from './requests-pipeline.ts';
import { singlestoreType } from './singlestore-type.ts';

/** The procedure the replays pipeline loads into (migration 2 creates it). */
export const APPLY_REPLAY_PROCEDURE = 'shardline_apply_replay';
/** Lake prefix of replayed rows: `replays/requests/g=<generation>/dt=…/hr=…/<batch>.parquet`. */
export const REPLAYS_PREFIX = LAKE.replays;

const q = (name: string) => `\`${name}\``;

/*
 * Replayed rows replace the rows they re-derive; resends do not (schemas/README.md, "Backfills").
 *
 * `ON DUPLICATE KEY UPDATE` on the unique key (project_id, request_id, ts): the first assignment
 * moves `generation` only when the incoming row is of a newer generation AND differs in a derived
 * column (a replay that re-derives the same values leaves the row, and its generation, alone, as
 * the embedded warehouse does); every later assignment takes the incoming value only when
 * `generation` now equals the incoming one. MySQL evaluates the assignments left to right, each
 * seeing the ones before; SingleStore documents the same clause (performing upserts), which may not
 * update key columns of a columnstore table: none of these is one.
 * https://docs.singlestore.com/cloud/query-data/advanced-query-topics/performing-upserts/
 * https://docs.singlestore.com/cloud/reference/sql-reference/pipelines-commands/create-pipeline-into-procedure/
 */
export const createApplyReplayProcedureSql = (): string => {
  const fields = REQUEST_COLUMNS.map((c) => `  ${q(c.name)} ${singlestoreType(c)}`).join(',\n');
  const columns = REQUEST_COLUMNS.map((c) => q(c.name)).join(', ');
  const differs = DERIVED_COLUMNS.map((c) => `${q(c.name)} <=> VALUES(${q(c.name)})`).join('\n      AND ');
  const keys = new Set<string>(REQUEST_KEY_COLUMNS);
  const rest = REQUEST_COLUMNS.filter((c) => !keys.has(c.name) && c.name !== 'generation').map(
    (c) =>
      `    ${q(c.name)} = IF(${q('generation')} = VALUES(${q('generation')}), VALUES(${q(c.name)}), ${q(c.name)})`,
  );
  return [
    `CREATE OR REPLACE PROCEDURE ${q(APPLY_REPLAY_PROCEDURE)}(batch QUERY(`,
    fields,
    ')) AS',
    'BEGIN',
    `  INSERT INTO ${q(REQUESTS_TABLE)} (${columns})`,
    `  SELECT ${columns} FROM batch`,
    '  ON DUPLICATE KEY UPDATE',
    `    ${q('generation')} = IF(VALUES(${q('generation')}) > ${q('generation')} AND NOT (${differs}), VALUES(${q('generation')}), ${q('generation')}),`,
    rest.join(',\n'),
    ';',
    'END',
  ].join('\n');
};

/**
 * The second pipeline: `replays/requests/` of the lake into the procedure above. A separate
 * pipeline because the live one must keep SKIP DUPLICATE KEY ERRORS (a resend never replaces the
 * row already loaded) while a replay must replace; each pipeline loads each of its files once.
 */
export const createReplaysPipelineSql = (config: PipelineConfig, credentials: string): string => {
  const s3Config: Record<string, string> = { region: config.region };
  if (config.endpoint !== undefined) s3Config.endpoint_url = config.endpoint;
  const { mapping, sets } = pipelineMappingSql(REQUEST_COLUMNS);
  return [
    `CREATE PIPELINE IF NOT EXISTS \`${config.name}_replays\` AS`,
    `LOAD DATA S3 ${sqlString(`${config.bucket}/${config.prefix}${REPLAYS_PREFIX}`)}`,
    `CONFIG ${sqlString(JSON.stringify(s3Config))}`,
    `CREDENTIALS ${sqlString(credentials)}`,
    `BATCH_INTERVAL ${config.batchIntervalMs}`,
    `MAX_RETRIES_PER_BATCH_PARTITION ${config.maxRetriesPerBatchPartition}`,
    'STOP_ON_ERROR OFF',
    `INTO PROCEDURE ${q(APPLY_REPLAY_PROCEDURE)}`,
    'FORMAT PARQUET',
    '(',
    mapping,
    ')',
    `SET\n  ${sets}`,
  ].join('\n');
};
