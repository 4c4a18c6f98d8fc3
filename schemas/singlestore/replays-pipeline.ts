import { LAKE } from '../../pipeline/land/lake-layout.ts';
import { DERIVED_COLUMNS, REQUEST_COLUMNS, REQUEST_KEY_COLUMNS, REQUESTS_TABLE } from '../request-row.ts';
import type { PipelineConfig } from './pipeline-config.ts';
import { s3ParquetPipelineSql } from './requests-pipeline.ts';
import { singlestoreType } from './singlestore-type.ts';

/** The procedure the replays pipeline loads into (migration 2 creates it). */
export const APPLY_REPLAY_PROCEDURE = 'shardline_apply_replay';
/** Lake prefix of replayed rows: `replays/requests/g=<generation>/dt=…/hr=…/<batch>.parquet`. */
export const REPLAYS_PREFIX = LAKE.replays;

/** The replays pipeline's name: the live pipeline's, with `_replays`. */
export const replaysPipelineName = (pipeline: string): string => `${pipeline}_replays`;

const q = (name: string) => `\`${name}\``;

/*
 * Replayed rows replace the rows they re-derive; resends do not (schemas/README.md, "Backfills").
 *
 * The decision is made in the SELECT, never in the assignments: a batch row goes in only when no
 * row has its key yet (`r.request_id IS NULL`), or when it is of a newer generation AND differs in
 * a derived column (a replay that re-derives the same values leaves the row, and its generation,
 * alone, as the embedded warehouse does). Within the batch, only the newest generation of each
 * key is kept (`ROW_NUMBER()`, ties broken as the lake's `requests_latest` view does), so two
 * replays loaded in one batch cannot apply in the wrong order. Every row that reaches `ON
 * DUPLICATE KEY UPDATE` must replace the stored one, so each non-key column is set to
 * `VALUES(col)` unconditionally: nothing depends on the order in which the assignments are
 * evaluated (left to right in MySQL; not documented by SingleStore). No key column is assigned,
 * as columnstore upserts require.
 * https://docs.singlestore.com/cloud/query-data/advanced-query-topics/performing-upserts/
 * https://docs.singlestore.com/cloud/reference/sql-reference/pipelines-commands/create-pipeline-into-procedure/
 * https://docs.singlestore.com/cloud/reference/sql-reference/procedural-sql-reference/query/
 */
export const createApplyReplayProcedureSql = (): string => {
  const fields = REQUEST_COLUMNS.map((c) => `  ${q(c.name)} ${singlestoreType(c)}`).join(',\n');
  const columns = REQUEST_COLUMNS.map((c) => q(c.name)).join(', ');
  const bColumns = REQUEST_COLUMNS.map((c) => `b.${q(c.name)}`).join(', ');
  const keyJoin = REQUEST_KEY_COLUMNS.map((k) => `r.${q(k)} = b.${q(k)}`).join(' AND ');
  const partition = REQUEST_KEY_COLUMNS.map(q).join(', ');
  const same = DERIVED_COLUMNS.map((c) => `b.${q(c.name)} <=> r.${q(c.name)}`).join('\n      AND ');
  const keys = new Set<string>(REQUEST_KEY_COLUMNS);
  const assignments = REQUEST_COLUMNS.filter((c) => !keys.has(c.name)).map(
    (c) => `    ${q(c.name)} = VALUES(${q(c.name)})`,
  );
  return [
    `CREATE OR REPLACE PROCEDURE ${q(APPLY_REPLAY_PROCEDURE)}(batch QUERY(`,
    fields,
    ')) AS',
    'BEGIN',
    `  INSERT INTO ${q(REQUESTS_TABLE)} (${columns})`,
    `  SELECT ${bColumns}`,
    `  FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${partition}`,
    `          ORDER BY ${q('generation')} DESC, ${q('ingest_ts')}, ${q('sequence_number')}, ${q('sub_sequence')}) AS ${q('_newest')}`,
    '        FROM batch) b',
    `  LEFT JOIN ${q(REQUESTS_TABLE)} r ON ${keyJoin}`,
    `  WHERE b.${q('_newest')} = 1`,
    `    AND (r.${q('request_id')} IS NULL`,
    `      OR (b.${q('generation')} > r.${q('generation')} AND NOT (${same})))`,
    '  ON DUPLICATE KEY UPDATE',
    assignments.join(',\n'),
    ';',
    'END',
  ].join('\n');
};

/**
 * The second pipeline: `replays/requests/` of the lake into the procedure above. A separate
 * pipeline because the live one must keep SKIP DUPLICATE KEY ERRORS (a resend never replaces the
 * row already loaded) while a replay must replace; each pipeline loads each of its files once.
 */
export const createReplaysPipelineSql = (config: PipelineConfig, credentials: string): string =>
  s3ParquetPipelineSql(config, credentials, {
    name: q(replaysPipelineName(config.name)),
    folder: REPLAYS_PREFIX,
    columns: REQUEST_COLUMNS,
    options: [],
    into: `INTO PROCEDURE ${q(APPLY_REPLAY_PROCEDURE)}`,
  });
