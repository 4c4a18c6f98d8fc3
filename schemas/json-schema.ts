import { z } from 'zod';
import { RequestLogV1, SCHEMA_VERSION } from './request-log.ts';
import { RequestRowSchema } from './request-row.ts';

/**
 * JSON Schemas generated from the zod schemas, for producers in other languages and for docs.
 * `npm run schemas:generate` writes them to schemas/generated/; a test fails when they are stale.
 */
export const generatedSchemas = (): Record<string, unknown> => ({
  [`request-log.v${SCHEMA_VERSION}.schema.json`]: {
    $id: `https://github.com/shardline/shardline/schemas/request-log.v${SCHEMA_VERSION}.json`,
    ...z.toJSONSchema(RequestLogV1, { io: 'input' }),
  },
  'request-row.schema.json': z.toJSONSchema(RequestRowSchema, { unrepresentable: 'any' }),
});

export const renderSchema = (schema: unknown): string => `${JSON.stringify(schema, null, 2)}\n`;
