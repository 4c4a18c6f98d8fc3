import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../pipeline/errors.ts';
import { type NamedQuery, parseNamedQuery } from './named-query.ts';

/** The folder of the dashboard queries: one `<name>.sql` file each. */
export const QUERIES_DIR = import.meta.dirname;

/** Every named query of `dir`, by name, parsed and checked. */
export const loadQueryLibrary = (dir: string = QUERIES_DIR): ReadonlyMap<string, NamedQuery> => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  return new Map(
    files.map((f) => {
      const name = f.slice(0, -'.sql'.length);
      return [name, parseNamedQuery(name, readFileSync(join(dir, f), 'utf8'))] as const;
    }),
  );
};

/** One query of the library, or an error that lists the ones there are. */
export const namedQuery = (name: string, library = loadQueryLibrary()): NamedQuery => {
  const query = library.get(name);
  if (query === undefined) {
    throw new ConfigError('--named', `no query "${name}"; choose one of: ${[...library.keys()].join(', ')}`);
  }
  return query;
};
