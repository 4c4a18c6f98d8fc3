import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { blocks, loadModule } from './hcl.ts';

/**
 * The Inputs and Outputs tables of terraform/README.md, rendered from variables.tf and outputs.tf
 * (as terraform-docs would), between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`.
 * `npm run terraform:docs` rewrites them; terraform-docs.test.ts fails when they drift.
 */
const DIR = resolve(import.meta.dirname, '../../terraform');
export const README = join(DIR, 'README.md');
const BEGIN = '<!-- BEGIN_TF_DOCS -->';
const END = '<!-- END_TF_DOCS -->';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const hcl = (value: unknown): string => {
  if (value === undefined) return 'n/a';
  if (value === null) return '`null`';
  const text =
    typeof value === 'string'
      ? value.startsWith('${')
        ? value.slice(2, -1)
        : `"${value}"`
      : JSON.stringify(value);
  return `\`${cell(text)}\``;
};

export const renderTables = async (): Promise<string> => {
  const mod = await loadModule(DIR);
  const inputs = Object.entries(mod.variable).map(([name, v]) => {
    const type = String(v.type).replace(/^\$\{|\}$/g, '');
    const required = !('default' in v);
    return `| ${name} | ${cell(String(v.description))} | \`${cell(type)}\` | ${required ? 'n/a' : hcl(v.default)} | ${required ? 'yes' : 'no'} |`;
  });
  const outputs = Object.entries(mod.output).map(
    ([name, o]) => `| ${name} | ${cell(String(o.description))} |`,
  );
  const validated = Object.values(mod.variable).filter((v) => blocks(v, 'validation').length > 0).length;
  return [
    BEGIN,
    '## Inputs',
    '',
    `${Object.keys(mod.variable).length} variables, ${validated} of them validated at plan time.`,
    '',
    '| Name | Description | Type | Default | Required |',
    '| --- | --- | --- | --- | :---: |',
    ...inputs,
    '',
    '## Outputs',
    '',
    '| Name | Description |',
    '| --- | --- |',
    ...outputs,
    END,
  ].join('\n');
};

/** The README with its tables replaced by freshly rendered ones. */
export const withTables = async (readme: string): Promise<string> => {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`terraform/README.md: no ${BEGIN} … ${END} section`);
  return `${readme.slice(0, start)}${await renderTables()}${readme.slice(end + END.length)}`;
};

if (process.argv[1] === import.meta.filename) {
  await writeFile(README, await withTables(await readFile(README, 'utf8')));
}
