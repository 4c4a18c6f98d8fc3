import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedSchemas, renderSchema } from './json-schema.ts';

describe('generated JSON Schemas', () => {
  it.each(Object.entries(generatedSchemas()))(
    '%s is up to date (run `npm run schemas:generate`)',
    (file, schema) => {
      const committed = readFileSync(join(import.meta.dirname, 'generated', file), 'utf8');
      expect(committed).toBe(renderSchema(schema));
    },
  );

  it('documents every field of the request log', () => {
    const schema = generatedSchemas()['request-log.v1.schema.json'] as {
      properties: Record<string, { description?: string }>;
    };
    const undocumented = Object.entries(schema.properties)
      .filter(([, p]) => !p.description)
      .map(([k]) => k);
    expect(undocumented).toEqual([]);
  });
});
