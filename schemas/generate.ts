import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedSchemas, renderSchema } from './json-schema.ts';

const dir = join(import.meta.dirname, 'generated');
for (const [file, schema] of Object.entries(generatedSchemas())) {
  writeFileSync(join(dir, file), renderSchema(schema));
  process.stdout.write(`wrote schemas/generated/${file}\n`);
}
