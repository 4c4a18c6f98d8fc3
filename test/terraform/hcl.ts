import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/** A block as hcl2json gives it: attributes, nested blocks as arrays, `dynamic` blocks by name. */
export type Block = Record<string, unknown>;

/** Every top-level block of a module's `.tf` files, by kind (`resource`, `variable`, …). */
export interface Module {
  readonly files: readonly string[];
  /** `resource` and `data`: type → name → body. */
  readonly resource: Record<string, Record<string, Block>>;
  readonly data: Record<string, Record<string, Block>>;
  readonly variable: Record<string, Block>;
  readonly output: Record<string, Block>;
  readonly module: Record<string, Block>;
  readonly terraform: Block[];
}

const first = (value: unknown): Block => (Array.isArray(value) ? (value[0] as Block) : (value as Block));

/** Parses the `.tf` files of one directory (not its subdirectories) with hcl2json (WASM, offline). */
export const loadModule = async (dir: string): Promise<Module> => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort();
  const mod: Module = { files, resource: {}, data: {}, variable: {}, output: {}, module: {}, terraform: [] };
  for (const file of files) {
    const json = (await parse(file, await readFile(join(dir, file), 'utf8'))) as Record<string, unknown>;
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, byName] of Object.entries(
        (json[kind] ?? {}) as Record<string, Record<string, unknown>>,
      )) {
        mod[kind][type] ??= {};
        for (const [name, body] of Object.entries(byName)) mod[kind][type]![name] = first(body);
      }
    }
    for (const kind of ['variable', 'output', 'module'] as const) {
      for (const [name, body] of Object.entries((json[kind] ?? {}) as Record<string, unknown>)) {
        mod[kind][name] = first(body);
      }
    }
    for (const body of (json.terraform ?? []) as Block[]) mod.terraform.push(body);
  }
  return mod;
};

/** The nested blocks `name` of a block, static and `dynamic` (their `content`) alike. */
export const blocks = (block: Block | undefined, name: string): Block[] => {
  if (block === undefined) return [];
  const own = (block[name] ?? []) as Block[];
  const dynamic = ((first(block.dynamic ?? {}) ?? {}) as Record<string, Block[]>)[name] ?? [];
  return [...(Array.isArray(own) ? own : [own]), ...dynamic.flatMap((d) => (d.content ?? []) as Block[])];
};

/** An attribute as a list of strings (hcl2json keeps single values as they are). */
export const strings = (value: unknown): string[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as string[]) : [value as string];
