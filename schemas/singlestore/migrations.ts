import { type ColumnDef, REQUEST_COLUMNS, REQUESTS_TABLE } from '../request-row.ts';
import { createApplyReplayProcedureSql } from './replays-pipeline.ts';
import { singlestoreColumnDdl } from './singlestore-type.ts';

/**
 * Versioned SingleStore migrations. A migration, once released, never changes: `shardline
 * warehouse init` records the versions it applied in MIGRATIONS_TABLE and applies only newer
 * ones. The row schema only ever appends columns (see request-row.ts), so a later column needs a
 * later migration (`ALTER TABLE requests ADD COLUMN …`); a test checks that the migrations
 * together create exactly REQUEST_COLUMNS.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Statements run in order; each is safe to run again (IF NOT EXISTS), in case init stopped halfway. */
  readonly statements: readonly string[];
  /** Row columns this migration adds to `requests`, in order. */
  readonly columns: readonly ColumnDef[];
}

export const MIGRATIONS_TABLE = '_shardline_migrations';

/** The columns of the first release, up to and including `sub_sequence`. */
const V1_COLUMNS = REQUEST_COLUMNS.slice(0, REQUEST_COLUMNS.findIndex((c) => c.name === 'sub_sequence') + 1);
/** Migration 2: `generation`, so that a replayed row replaces the row it re-derives. */
const V2_COLUMNS = REQUEST_COLUMNS.slice(
  V1_COLUMNS.length,
  REQUEST_COLUMNS.findIndex((c) => c.name === 'generation') + 1,
);

/*
 * Table design (https://docs.singlestore.com/cloud/create-a-database/understanding-keys-and-indexes-in-singlestore/):
 *
 * - Columnstore (the default table type): dashboards scan millions of rows of a few columns.
 * - SORT KEY (project_id, ts): every dashboard query filters one project and a time range. Rows
 *   of a segment are ordered by the sort key and each segment keeps min/max per column, so a
 *   query for one project's last hour reads only the segments whose (project_id, ts) range
 *   overlaps it; with SORT KEY (ts) alone a small project would read every project's segments of
 *   that hour. The Parquet files are sorted the same way, so a file's rows arrive in order.
 *   https://docs.singlestore.com/cloud/create-a-database/physical-database-schema-design/procedures-for-physical-database-schema-design/how-the-columnstore-works/
 * - SHARD KEY (request_id): a hash of a unique-ish id spreads rows evenly over partitions
 *   whatever the traffic mix; SHARD KEY (project_id) would put the biggest project (often most
 *   of the rows) on one partition, and every query on it would run on one core. A project's
 *   query fans out to all partitions, which is what makes it fast.
 *   https://docs.singlestore.com/cloud/create-a-database/physical-database-schema-design/concepts-of-physical-database-schema-design/shard-keys/
 * - UNIQUE KEY (project_id, request_id, ts) USING HASH: the same request landed twice (a resend
 *   the in-memory dedupe window missed, a file re-landed under another key) is kept out by the
 *   pipeline's SKIP DUPLICATE KEY ERRORS, which keeps the row already loaded, like the DuckDB
 *   warehouse does. The key is the pipeline's request identity (`dedupeKey`): with `ts` in it, two
 *   requests that reuse an id at different times are two rows here as in the pipeline, so no row
 *   is dropped by one and kept by the other. A unique key on a sharded table must contain the
 *   shard key columns, hence request_id as the shard key rather than anything else.
 *   https://docs.singlestore.com/cloud/reference/troubleshooting-reference/query-errors/why-do-i-get-errors-about-unique-keys/
 * - No secondary index on ts: segment elimination on the sort key already skips what a range
 *   filter would; an index would cost every load.
 */
const createRequests = (columns: readonly ColumnDef[]): string =>
  [
    `CREATE TABLE IF NOT EXISTS \`${REQUESTS_TABLE}\` (`,
    ...columns.map((c) => `  ${singlestoreColumnDdl(c)},`),
    '  SORT KEY (`project_id`, `ts`),',
    '  SHARD KEY (`request_id`),',
    '  UNIQUE KEY `request_key` (`project_id`, `request_id`, `ts`) USING HASH',
    ')',
  ].join('\n');

/*
 * No rollup tables. A per-minute rollup would answer requests-per-minute from fewer rows, but
 * percentiles cannot be added up from per-minute parts, top-N lists need the raw rows, and the
 * raw table with this sort key already reads only one project's time range. Add one (a second
 * pipeline INTO PROCEDURE that upserts counts) when a project's range holds billions of rows.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create requests',
    statements: [createRequests(V1_COLUMNS)],
    columns: V1_COLUMNS,
  },
  {
    version: 2,
    name: 'generation: replayed rows replace the rows they re-derive',
    // ALTER TABLE … ADD COLUMN has no IF NOT EXISTS in SingleStore: were init to stop between
    // it and recording version 2, drop the column (or record the version) before running it again.
    // Existing rows take the DEFAULT, 0: they came from live ingestion.
    // https://docs.singlestore.com/cloud/reference/sql-reference/data-definition-language-ddl/alter-table/
    statements: [
      ...V2_COLUMNS.map((c) => `ALTER TABLE \`${REQUESTS_TABLE}\` ADD COLUMN ${singlestoreColumnDdl(c)}`),
      createApplyReplayProcedureSql(),
    ],
    columns: V2_COLUMNS,
  },
];

/** A reference table (a copy on every node) is the right home for a few rows of metadata. */
export const createMigrationsTable = (): string =>
  `CREATE REFERENCE TABLE IF NOT EXISTS \`${MIGRATIONS_TABLE}\` (\n  \`version\` INT NOT NULL PRIMARY KEY,\n  \`name\` VARCHAR(200) NOT NULL,\n  \`applied_at\` DATETIME(6) NOT NULL\n)`;

/** Every migration's statements, as one reviewable SQL script. */
export const renderMigrations = (migrations: readonly Migration[] = MIGRATIONS): string =>
  [
    '-- Generated from schemas/request-row.ts by schemas/singlestore/migrations.ts: do not edit.',
    '-- `shardline warehouse init` applies these and records them in _shardline_migrations.',
    '',
    `${createMigrationsTable()};`,
    '',
    ...migrations.flatMap((m) => [`-- ${m.version}: ${m.name}`, ...m.statements.map((s) => `${s};`), '']),
  ].join('\n');
