import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { README, withTables } from './terraform-docs.ts';

describe('terraform/README.md', () => {
  it('lists every input and output as variables.tf and outputs.tf declare them (npm run terraform:docs)', async () => {
    const readme = await readFile(README, 'utf8');
    expect(readme).toBe(await withTables(readme));
  });
});
