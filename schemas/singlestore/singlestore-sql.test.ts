import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REQUEST_COLUMNS } from '../request-row.ts';
import { EXAMPLE_PIPELINE_CONFIG, renderExamplePipeline } from './example-pipeline.ts';
import { MIGRATIONS, renderMigrations } from './migrations.ts';
import { PipelineConfig } from './pipeline-config.ts';
import { createApplyReplayProcedureSql, createReplaysPipelineSql } from './replays-pipeline.ts';
import { createRequestsPipelineSql, credentialsJson, sqlString } from './requests-pipeline.ts';

const generated = (file: string) => readFileSync(join(import.meta.dirname, 'generated', file), 'utf8');

describe('SingleStore DDL and pipeline SQL', () => {
  it('matches the reviewed migrations in generated/migrations.sql (run npm run schemas:singlestore after a deliberate change)', () => {
    // Assess
    expect(renderMigrations()).toBe(generated('migrations.sql'));
  });

  it('matches the reviewed pipeline in generated/requests-pipeline.example.sql', () => {
    // Assess
    expect(renderExamplePipeline()).toBe(generated('requests-pipeline.example.sql'));
  });

  it('creates, over all migrations, exactly the row columns, in order, each once', () => {
    // Act
    const created = MIGRATIONS.flatMap((m) => m.columns.map((c) => c.name));

    // Assess
    expect(created).toEqual(REQUEST_COLUMNS.map((c) => c.name));
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('maps every Parquet column explicitly and converts times and booleans in SET', () => {
    // Act
    const sql = createRequestsPipelineSql(EXAMPLE_PIPELINE_CONFIG, '{}');

    // Assess: every column but `generation`, which live files leave to its DEFAULT 0.
    expect(sql).not.toContain('`generation`');
    for (const c of REQUEST_COLUMNS.filter((c) => c.name !== 'generation')) {
      const target = c.type === 'timestamp' || c.type === 'bool' ? `@${c.name}` : `\`${c.name}\``;
      expect(sql).toContain(`  ${target} <- \`${c.name}\``);
    }
    expect(sql).toMatch(/`ts` = DATE_ADD\('1970-01-01 00:00:00', INTERVAL @ts MICROSECOND\)/);
    expect(sql).toMatch(/LOAD DATA S3 'acme-api-logs\/shardline\/requests\/'/);
  });

  it('loads replayed files through a procedure that replaces a row only with a newer, different one', () => {
    // Act
    const sql = createReplaysPipelineSql(EXAMPLE_PIPELINE_CONFIG, '{}');
    const procedure = createApplyReplayProcedureSql();

    // Assess
    expect(sql).toMatch(/LOAD DATA S3 'acme-api-logs\/shardline\/replays\/requests\/'/);
    expect(sql).toContain('INTO PROCEDURE `shardline_apply_replay`');
    expect(sql).toContain('  `generation` <- `generation`');
    expect(sql).not.toContain('SKIP DUPLICATE KEY ERRORS');
    // The SELECT decides; the assignments do not depend on their evaluation order.
    expect(procedure).toContain('LEFT JOIN `requests` r ON r.`project_id` = b.`project_id`');
    expect(procedure).toMatch(
      /WHERE b\.`_newest` = 1\s+AND \(r\.`request_id` IS NULL\s+OR \(b\.`generation` > r\.`generation` AND NOT \(/,
    );
    expect(procedure).toContain('b.`status` <=> r.`status`');
    expect(procedure).toMatch(/PARTITION BY `project_id`, `request_id`, `ts`\s+ORDER BY `generation` DESC/);
    const assignments = procedure
      .slice(procedure.indexOf('ON DUPLICATE KEY UPDATE'))
      .split('\n')
      .slice(1, -2);
    expect(assignments.length).toBe(REQUEST_COLUMNS.length - 3);
    for (const line of assignments) expect(line).toMatch(/^ {4}`(\w+)` = VALUES\(`\1`\),?$/);
    expect(assignments.join('\n')).not.toMatch(/IF\(|`(project_id|request_id|ts)` =/);
  });

  it('reads keys for `env` credentials from the environment, and names the variables when they are missing', () => {
    // Prepare
    const credentials = PipelineConfig.shape.credentials.parse({ type: 'env' });

    // Act
    const json = credentialsJson(credentials, {
      SHARDLINE_S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      SHARDLINE_S3_SECRET_ACCESS_KEY: "se'cret\\",
    });
    const missing = () => credentialsJson(credentials, {});

    // Assess
    expect(JSON.parse(json)).toEqual({
      aws_access_key_id: 'AKIDEXAMPLE',
      aws_secret_access_key: "se'cret\\",
    });
    expect(sqlString(json)).toContain("se\\'cret\\\\\\\\");
    expect(missing).toThrow(/SHARDLINE_S3_ACCESS_KEY_ID and SHARDLINE_S3_SECRET_ACCESS_KEY/);
  });

  it('refuses a config with an unknown key or a malformed role, naming the field', () => {
    // Act
    const unknown = PipelineConfig.safeParse({ ...EXAMPLE_PIPELINE_CONFIG, secretKey: 'x' });
    const badRole = PipelineConfig.safeParse({
      ...EXAMPLE_PIPELINE_CONFIG,
      credentials: { type: 'role', roleArn: 'shardline' },
    });

    // Assess
    expect(unknown.success).toBe(false);
    expect(badRole.error?.issues[0]?.path).toEqual(['credentials', 'roleArn']);
  });
});
