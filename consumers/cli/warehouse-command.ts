import { readFileSync } from 'node:fs';
import { parseConfig } from '../../pipeline/config-errors.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { createMigrationsTable, MIGRATIONS, MIGRATIONS_TABLE } from '../../schemas/singlestore/migrations.ts';
import { PipelineConfig } from '../../schemas/singlestore/pipeline-config.ts';
import {
  createApplyReplayProcedureSql,
  createReplaysPipelineSql,
  replaysPipelineName,
} from '../../schemas/singlestore/replays-pipeline.ts';
import {
  createRequestsPipelineSql,
  credentialsJson,
  sqlString,
} from '../../schemas/singlestore/requests-pipeline.ts';
import { formatRows, type OutputFormat } from './query-command.ts';
import { openSingleStore, type SingleStoreSession } from './singlestore-session.ts';

export type WarehouseAction = 'init' | 'status' | 'pause' | 'resume' | 'errors';

export interface WarehouseCommandOptions {
  readonly url: string | undefined;
  /** JSON file with the PipelineConfig (init); other actions only need the pipeline name. */
  readonly config?: string;
  readonly pipeline: string;
  readonly format: OutputFormat;
  readonly limit: number;
}

export const loadPipelineConfig = (file: string): PipelineConfig => {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ConfigError('--config', `cannot read ${file} as JSON: ${(cause as Error).message}`, { cause });
  }
  return parseConfig(PipelineConfig, json, file);
};

const rows = async (db: SingleStoreSession, sql: string, values: unknown[] = []) =>
  (await db.query(sql, values)).rows;

/**
 * Applies the migrations not applied yet, creates the pipeline if it does not exist and starts
 * it if it is not running. Running it again changes nothing. Each migration statement is
 * idempotent itself, so an init that stopped halfway is finished by the next one.
 */
const init = async (db: SingleStoreSession, config: PipelineConfig, out: (line: string) => void) => {
  await db.exec(createMigrationsTable());
  const applied = new Set(
    (await rows(db, `SELECT version FROM ${MIGRATIONS_TABLE}`)).map((r) => Number(r.version)),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    for (const statement of m.statements) await db.exec(statement);
    await db.exec(
      `INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))`,
      [m.version, m.name],
    );
    out(`migration ${m.version} applied: ${m.name}`);
  }
  const credentials = credentialsJson(config.credentials);
  // The replay procedure is CREATE OR REPLACE: re-created on every init, so a warehouse whose
  // migration 2 created an older version gets today's (idempotent, like the rest of init).
  try {
    await db.exec(createApplyReplayProcedureSql());
  } catch (error) {
    // Not verified live: whether a procedure a running pipeline loads into can be replaced.
    out(
      `procedure not replaced (${(error as Error).message}); the one migration 2 created stays: STOP PIPELINE, run init, START PIPELINE to update it`,
    );
  }
  const replays = replaysPipelineName(config.name);
  for (const [name, sql] of [
    [config.name, createRequestsPipelineSql(config, credentials)],
    [replays, createReplaysPipelineSql(config, credentials)],
  ] as const) {
    await db.exec(sql);
    const [state] = await rows(db, STATE_SQL, [name]);
    if (String(state?.state ?? '').toLowerCase() !== 'running') {
      await db.exec(`START PIPELINE \`${name}\``);
      out(`pipeline ${name} started`);
    }
  }
  out(
    `warehouse ready: ${MIGRATIONS.length} migration(s), pipelines ${config.name} (live) and ${replays} (replayed rows) running`,
  );
};

/*
 * Status from the information_schema views, one simple query each (correlated subqueries on
 * these views are not needed and not worth the risk):
 * https://docs.singlestore.com/cloud/reference/information-schema-reference/pipelines/pipelines-files/
 * https://docs.singlestore.com/cloud/reference/information-schema-reference/pipelines/pipelines-batches/
 * PIPELINES_BATCHES forgets batches when the master aggregator restarts; the age is then NULL.
 */
export const STATE_SQL =
  'SELECT state FROM information_schema.PIPELINES WHERE database_name = DATABASE() AND pipeline_name = ?';
export const FILES_SQL = `SELECT file_state, COUNT(*) AS files
FROM information_schema.PIPELINES_FILES
WHERE database_name = DATABASE() AND pipeline_name = ?
GROUP BY file_state`;
export const NEWEST_FILE_SQL = `SELECT batch_source_partition_id AS file, UNIX_TIMESTAMP() - batch_start_unix_timestamp AS age_s
FROM information_schema.PIPELINES_BATCHES
WHERE database_name = DATABASE() AND pipeline_name = ? AND batch_partition_state = 'Succeeded'
ORDER BY batch_start_unix_timestamp DESC
LIMIT 1`;

const status = async (
  db: SingleStoreSession,
  pipeline: string,
): Promise<Record<string, unknown> | undefined> => {
  const [state] = await rows(db, STATE_SQL, [pipeline]);
  if (state === undefined) return undefined;
  const files = new Map(
    (await rows(db, FILES_SQL, [pipeline])).map((r) => [String(r.file_state), Number(r.files)]),
  );
  const [newest] = await rows(db, NEWEST_FILE_SQL, [pipeline]);
  return {
    pipeline,
    state: state.state,
    loaded: files.get('Loaded') ?? 0,
    unloaded: files.get('Unloaded') ?? 0,
    skipped: files.get('Skipped') ?? 0,
    newest_loaded_file: newest?.file ?? null,
    newest_loaded_age_s: newest?.age_s === undefined ? null : Math.round(Number(newest.age_s)),
  };
};

/** The newest errors of the pipeline, with the file each came from. */
export const ERRORS_SQL = `SELECT error_unix_timestamp, error_type, error_code, error_message, batch_source_partition_id AS file
FROM information_schema.PIPELINES_ERRORS
WHERE database_name = DATABASE() AND pipeline_name = ?
ORDER BY error_unix_timestamp DESC
LIMIT ?`;

export const runWarehouseCommand = async (
  action: WarehouseAction,
  options: WarehouseCommandOptions,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> => {
  const config = action === 'init' ? loadConfigFor(options) : undefined;
  const db = await openSingleStore(options.url);
  try {
    switch (action) {
      case 'init':
        await init(db, config as PipelineConfig, out);
        return 0;
      case 'status': {
        const row = await status(db, options.pipeline);
        if (row === undefined) {
          out(`no pipeline ${options.pipeline} in this database; run shardline warehouse init`);
          return 1;
        }
        const replays = await status(db, replaysPipelineName(options.pipeline));
        const found = replays === undefined ? [row] : [row, replays];
        // JSON: one line per pipeline, the live one first.
        if (options.format === 'json') for (const r of found) out(formatRows([r], 'json'));
        else out(formatRows(found, options.format));
        if (replays === undefined) {
          out(
            `no pipeline ${replaysPipelineName(options.pipeline)}: replayed rows do not reach SingleStore; run shardline warehouse init`,
          );
          return 1;
        }
        return found.every((r) => r.skipped === 0) ? 0 : 1;
      }
      case 'pause':
        await db.exec(`STOP PIPELINE ${identifier(options.pipeline)}`);
        out(`pipeline ${options.pipeline} stopped; files landed meanwhile load after resume`);
        return 0;
      case 'resume':
        await db.exec(`START PIPELINE ${identifier(options.pipeline)}`);
        out(`pipeline ${options.pipeline} started`);
        return 0;
      case 'errors': {
        const errors = await rows(db, ERRORS_SQL, [options.pipeline, options.limit]);
        out(
          errors.length === 0
            ? `no errors recorded for ${options.pipeline}`
            : formatRows(errors, options.format),
        );
        if (errors.length > 0) {
          out(
            `after fixing a file, load it again with: ALTER PIPELINE ${options.pipeline} DROP FILE ${sqlString('<file>')};`,
          );
        }
        return 0;
      }
    }
  } finally {
    await db.end();
  }
};

const identifier = (name: string): string => {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) {
    throw new ConfigError('--pipeline', `"${name}" is not a pipeline name (lower-case letters, digits, _)`);
  }
  return `\`${name}\``;
};

const loadConfigFor = (options: WarehouseCommandOptions): PipelineConfig => {
  if (options.config === undefined) {
    throw new ConfigError(
      '--config',
      'init needs the lake to load: a JSON file like {"bucket":"acme-api-logs","prefix":"shardline/","region":"eu-west-1","credentials":{"type":"role","roleArn":"arn:aws:iam::123456789012:role/shardline-singlestore"}}',
    );
  }
  return loadPipelineConfig(options.config);
};
