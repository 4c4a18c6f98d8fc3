import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderExamplePipeline } from './example-pipeline.ts';
import { renderMigrations } from './migrations.ts';

/** Writes the reviewable SQL that the golden tests pin (`npm run schemas:singlestore`). */
const dir = join(import.meta.dirname, 'generated');
const files: Record<string, string> = {
  'migrations.sql': renderMigrations(),
  'requests-pipeline.example.sql': renderExamplePipeline(),
};
for (const [file, sql] of Object.entries(files)) {
  writeFileSync(join(dir, file), sql);
  process.stdout.write(`wrote schemas/singlestore/generated/${file}\n`);
}
