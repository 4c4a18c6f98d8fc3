import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * Checks a Fluent Bit YAML config the way Fluent Bit 5.1 does at start-up, and a little stricter:
 * every key of every plugin must be an option of that plugin in `fluent-bit -J` (the schema
 * captured from a real 5.1.1 build) or a property the engine itself handles for every instance;
 * required keys must be set; typed values must parse; parsers, Lua functions and files referred
 * to must exist; every tag an input can produce must reach an output. `--dry-run` checks none of
 * the last two lines: a real start logs "parser … is not registered" and runs on, or exits 255
 * on a missing Lua function or CA file, and a record no output matches is dropped in silence.
 * Returns one message per problem, naming the file, section and key.
 */

type Option = { name: string; type: string };
type Plugin = { name: string; properties: Record<string, Option[] | undefined> };
export type PluginSchema = { inputs: Plugin[]; filters: Plugin[]; outputs: Plugin[] };

/** `flb_output_set_property` (src/flb_output.c) handles these for every output, before the plugin's own map. */
const OUTPUT_CORE = [
  'name',
  'match',
  'match_regex',
  'alias',
  'log_level',
  'log_suppress_interval',
  'host',
  'port',
  'ipv6',
  'retry_limit',
  'tls',
  'tls.verify',
  'tls.verify_hostname',
  'tls.debug',
  'tls.vhost',
  'tls.ca_path',
  'tls.ca_file',
  'tls.crt_file',
  'tls.key_file',
  'tls.key_passwd',
  'tls.min_version',
  'tls.max_version',
  'tls.ciphers',
  'storage.total_limit_size',
  'workers',
];

/** `service_configs` in src/flb_config.c (names compared case-insensitively, as Fluent Bit does). */
const SERVICE_KEYS = [
  'flush',
  'grace',
  'json.convert_nan_to_null',
  'daemon',
  'log_file',
  'parsers_file',
  'plugins_file',
  'log_level',
  'http_server',
  'http_listen',
  'http_port',
  'health_check',
  'hc_errors_count',
  'hc_retry_failure_count',
  'hc_period',
  'dns.mode',
  'dns.resolver',
  'dns.prefer_ipv4',
  'dns.prefer_ipv6',
  'storage.path',
  'storage.sync',
  'storage.metrics',
  'storage.checksum',
  'storage.backlog.mem_limit',
  'storage.backlog.flush_on_shutdown',
  'storage.max_chunks_up',
  'storage.delete_irrecoverable_chunks',
  'storage.trim_files',
  'storage.type',
  'storage.inherit',
  'coro_stack_size',
  'multiline_buffer_limit',
  'scheduler.cap',
  'scheduler.base',
  'json.escape_unicode',
  'streams_file',
  'hot_reload',
];

/** Keys read by the parser loader (src/flb_parser.c); Fluent Bit ignores others, this check does not. */
const PARSER_KEYS = [
  'name',
  'format',
  'regex',
  'time_key',
  'time_format',
  'time_keep',
  'time_strict',
  'time_system_timezone',
  'time_offset',
  'types',
  'decode_field',
  'decode_field_as',
  'skip_empty_values',
  'logfmt_no_bare_keys',
];
const PARSER_FORMATS = ['json', 'regex', 'ltsv', 'logfmt'];
const PARSER_TYPES = ['string', 'integer', 'bool', 'float', 'hex'];
const BUILTIN_MULTILINE = ['docker', 'cri', 'go', 'python', 'java', 'ruby'];

/** Keys without which the plugin refuses to start (its init callback), or the engine routes nothing. */
const REQUIRED: Record<string, string[][]> = {
  'input:tail': [['path']],
  'input:http': [['port']],
  'input:forward': [['port', 'unix_path']],
  'filter:*': [['match', 'match_regex']],
  'filter:lua': [['script', 'code'], ['call']],
  'filter:parser': [['key_name'], ['parser']],
  'filter:grep': [['regex', 'exclude']],
  'output:*': [['match', 'match_regex']],
  'output:kinesis_streams': [['region'], ['stream']],
};

const ENV_REF = /^\$\{[A-Z0-9_]+\}$/;
const BOOLEAN = /^(true|false|on|off|yes|no)$/i;
const SIZE = /^\d+(\.\d+)?\s*[kKmMgG]?[bB]?$/;
const INTEGER = /^-?\d+$/;

type Section = 'input' | 'filter' | 'output';
type Entry = Record<string, unknown>;

export interface ConfigFacts {
  /** Environment variables the file refers to as `${NAME}`. */
  env: Set<string>;
  problems: string[];
}

export interface CheckOptions {
  /**
   * The working directory Fluent Bit will be started in. `tls.*` files are handed to OpenSSL as
   * written (src/tls/openssl.c, `SSL_CTX_load_verify_locations`), so a relative one is relative to
   * it, not to the config. Defaults to the config's directory (the shipped configs say to run there).
   */
  cwd?: string;
  /** Absolute paths that another step creates before Fluent Bit starts (`npm start` writes the CA). */
  createdBeforeStart?: string[];
}

/**
 * `doc` defaults to the parsed YAML of `file`; pass it to check a config read another way (the
 * classic-format captures). Parsers files may be YAML or classic.
 */
export function checkFluentBitConfig(
  file: string,
  schema: PluginSchema,
  doc: Record<string, unknown> = parse(readFileSync(file, 'utf8')) as Record<string, unknown>,
  options: CheckOptions = {},
): ConfigFacts {
  const problems: string[] = [];
  const env = new Set<string>();
  for (const m of JSON.stringify(doc).matchAll(/\$\{([A-Z0-9_]+)\}/g)) env.add(m[1]!);
  const dir = dirname(file);
  const cwd = options.cwd ?? dir;
  const at = (where: string, msg: string) => problems.push(`${file}: ${where}: ${msg}`);
  const present = (path: string) => existsSync(path) || (options.createdBeforeStart ?? []).includes(path);
  /*
   * parsers_file, plugins_file and a Lua `script` that are relative and not found from the working
   * directory are looked up in the directory of the file given to `-c` (`config->conf_path`, set
   * by flb_service_conf_path_set in src/fluent-bit.c; used by flb_parser_conf_file in
   * src/flb_parser.c and lua_config_create in plugins/filter_lua/lua_config.c). The working
   * directory varies; the config's directory is the one place they are always found, so that is
   * where this check looks.
   */
  const nextToConfig = (where: string, value: unknown): string | undefined => {
    if (typeof value !== 'string' || value === '' || value.includes('${')) return undefined;
    const path = resolve(dir, value);
    if (!present(path)) at(where, `${path} does not exist (relative to the config's directory)`);
    return existsSync(path) ? path : undefined;
  };

  for (const key of Object.keys(doc)) {
    if (!['service', 'pipeline', 'parsers', 'multiline_parsers'].includes(key))
      at(key, 'unknown top-level section');
  }
  const service = lowerKeys((doc.service ?? {}) as Entry);
  for (const key of Object.keys(service)) {
    if (!SERVICE_KEYS.includes(key)) at(`service.${key}`, 'not a service setting of Fluent Bit 5.1');
  }

  const parserNames = new Set<string>();
  const multilineNames = new Set<string>(BUILTIN_MULTILINE);
  for (const parsersFile of asList(service.parsers_file)) {
    const path = nextToConfig('service.parsers_file', parsersFile);
    if (path === undefined) continue;
    const found = /\.ya?ml$/.test(path) ? checkParsers(path, problems) : classicParsers(path);
    for (const name of found.parsers) parserNames.add(name);
    for (const name of found.multiline) multilineNames.add(name);
  }
  nextToConfig('service.plugins_file', service.plugins_file);
  nextToConfig('service.streams_file', service.streams_file);
  if (Array.isArray(doc.parsers) || Array.isArray(doc.multiline_parsers)) {
    const found = checkParsers(file, problems);
    for (const name of found.parsers) parserNames.add(name);
    for (const name of found.multiline) multilineNames.add(name);
  }

  const pipeline = (doc.pipeline ?? {}) as Entry;
  for (const key of Object.keys(pipeline)) {
    if (!['inputs', 'filters', 'outputs'].includes(key)) at(`pipeline.${key}`, 'unknown pipeline section');
  }
  const sections: [string, Section, Plugin[]][] = [
    ['inputs', 'input', schema.inputs],
    ['filters', 'filter', schema.filters],
    ['outputs', 'output', schema.outputs],
  ];
  const netOptions = schema.outputs.flatMap((p) => p.properties.networking ?? []).map((o) => o.name);
  for (const [list, section, plugins] of sections) {
    const entries = (pipeline[list] ?? []) as Entry[];
    entries.forEach((entry, i) => {
      const where = `pipeline.${list}[${i}]`;
      const name = String(entry.name ?? '');
      const plugin = plugins.find((p) => p.name === name);
      if (plugin === undefined) {
        at(where, `no ${section} plugin named "${name}" in Fluent Bit 5.1.1`);
        return;
      }
      const options = Object.values(plugin.properties).flatMap((o) => o ?? []);
      const known = new Map(options.map((o) => [o.name.toLowerCase(), o]));
      for (const [key, value] of Object.entries(entry)) {
        const k = key.toLowerCase();
        const option = known.get(k);
        const prefixed = options.some(
          (o) => o.type === 'prefixed string' && k.startsWith(o.name.toLowerCase()),
        );
        const core =
          k === 'name' ||
          (section === 'output' &&
            (OUTPUT_CORE.includes(k) || (k.startsWith('net.') && netOptions.includes(k))));
        if (option === undefined && !prefixed && !core) {
          at(`${where}.${key}`, `unknown configuration property of ${section} "${name}"`);
          continue;
        }
        if (option !== undefined) checkValue(option, value, (msg) => at(`${where}.${key}`, msg));
      }
      for (const group of [...(REQUIRED[`${section}:*`] ?? []), ...(REQUIRED[`${section}:${name}`] ?? [])]) {
        if (!group.some((k) => entry[k] !== undefined && entry[k] !== '')) {
          at(where, `${name} needs ${group.join(' or ')}`);
        }
      }
      const props = lowerKeys(entry);
      // Fluent Bit logs "parser … is not registered" and runs on, leaving the field unparsed.
      for (const [key, parser] of parserReferences(props)) {
        if (!parserNames.has(parser)) {
          at(`${where}.${key}`, `parser "${parser}" is not defined in the parsers file(s)`);
        }
      }
      for (const p of asList(props['multiline.parser']).flatMap((v) => String(v).split(','))) {
        const ml = p.trim();
        if (!multilineNames.has(ml)) {
          at(`${where}.multiline.parser`, `"${ml}" is neither a built-in nor a multiline parser defined`);
        }
      }
      if (name === 'lua') {
        const script = nextToConfig(`${where}.script`, props.script);
        const source =
          typeof props.code === 'string'
            ? props.code
            : script !== undefined
              ? readFileSync(script, 'utf8')
              : undefined;
        // A missing function makes filter_lua's init fail and Fluent Bit exit at start.
        if (source !== undefined && !luaGlobalFunctions(source).has(String(props.call))) {
          at(`${where}.call`, `the Lua code defines no global function ${String(props.call)}`);
        }
      }
      for (const key of ['tls.ca_file', 'tls.crt_file', 'tls.key_file', 'tls.ca_path']) {
        const value = props[key];
        if (typeof value !== 'string' || value === '' || value.includes('${')) continue;
        const path = resolve(cwd, value);
        if (!present(path))
          at(`${where}.${key}`, `${path} does not exist (relative to the working directory)`);
      }
    });
  }
  for (const msg of routingProblems(pipeline)) at('pipeline', msg);
  return { env, problems };
}

/**
 * Fluent Bit's tag matching (router_match in src/flb_router.c): `*` stands for any run of
 * characters, dots included; everything else compares byte for byte, case-sensitive, over the
 * whole tag. `match_regex` is searched, not anchored (Onigmo; the patterns used here mean the same
 * in JavaScript).
 */
export function tagMatches(tag: string, entry: Entry): boolean {
  const props = lowerKeys(entry);
  if (typeof props.match_regex === 'string') return new RegExp(props.match_regex).test(tag);
  if (typeof props.match !== 'string') return false;
  const glob = props.match
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${glob}$`, 's').test(tag);
}

/** Request paths whose in_http tags stand for "any path a client may POST to". */
export const HTTP_PATH_SAMPLES = [
  '/',
  '/v1/logs',
  '/a/b/c',
  '/logs?x=1',
  '/?only=query',
  '/%2Fencoded%20slash',
  '/weird chars!*[]',
  '/ünïcode',
  '/..',
  '/UPPER.Case_1',
];

/**
 * The tags in_http gives records POSTed to `path` (plugins/in_http/http_prot.c). "/" gets the
 * input's own tag; any other path becomes the tag: the leading "/" removed and every byte other
 * than an ASCII letter, digit, "_" or "." turned into "_". The HTTP/1.1 server percent-decodes the
 * path and cuts the query string first; the HTTP/2-capable server (`http2`, on by default) uses the
 * path as it came. Both results are returned.
 */
export function inHttpTags(path: string, inputTag: string): string[] {
  const toTag = (p: Buffer): string => {
    if (p.length === 1) return inputTag;
    const out = [...p.subarray(1)].map((b) => (isTagByte(b) ? String.fromCharCode(b) : '_'));
    return out.join('');
  };
  const raw = Buffer.from(path, 'utf8');
  const decoded = percentDecode(raw);
  const query = decoded.indexOf('?'.charCodeAt(0));
  const http1 = toTag(query === -1 ? decoded : decoded.subarray(0, query));
  return [...new Set([http1, toTag(raw)])];
}

/** What an input can tag its records with; `open` when clients choose part of the tag. */
export function inputTags(entry: Entry, index: number): { tags: string[]; open: boolean } {
  const props = lowerKeys(entry);
  const name = String(props.name ?? '');
  const tag = typeof props.tag === 'string' ? props.tag : `${name}.${index}`;
  if (name === 'http') {
    // tag_key takes the tag from a field of each record: anything at all.
    const extra = props.tag_key === undefined ? [] : ['value.of.tag_key'];
    return { tags: [...HTTP_PATH_SAMPLES.flatMap((p) => inHttpTags(p, tag)), ...extra], open: true };
  }
  if (name === 'forward' && props.tag === undefined) {
    const prefix = typeof props.tag_prefix === 'string' ? props.tag_prefix : '';
    return { tags: ['app', 'app.requests', 'fluent.logger'].map((t) => prefix + t), open: true };
  }
  // tail expands "*" in its tag to the file's path with "/" as ".".
  return { tags: [tag.replace('*', 'var.log.app.requests.jsonl')], open: false };
}

/**
 * A record whose tag no output matches is accepted by its input (in_http answers 201) and then
 * dropped without a word. A filter or output that no tag reaches is a typo that silently skips it.
 */
function routingProblems(pipeline: Entry): string[] {
  const inputs = (pipeline.inputs ?? []) as Entry[];
  const filters = (pipeline.filters ?? []) as Entry[];
  const outputs = (pipeline.outputs ?? []) as Entry[];
  const problems: string[] = [];
  const all = inputs.map((entry, i) => ({ i, ...inputTags(entry, i) }));
  for (const { i, tags } of all) {
    for (const tag of tags) {
      if (!outputs.some((o) => tagMatches(tag, o))) {
        problems.push(`inputs[${i}] tags records "${tag}", which no output matches: they would be dropped`);
      }
    }
  }
  if (all.some((input) => input.open)) return problems;
  const tags = all.flatMap((input) => input.tags);
  for (const [list, entries] of [
    ['filters', filters],
    ['outputs', outputs],
  ] as const) {
    entries.forEach((entry, i) => {
      if (!tags.some((tag) => tagMatches(tag, entry))) {
        problems.push(`${list}[${i}] matches no input's tag (${tags.join(', ')})`);
      }
    });
  }
  return problems;
}

/** Global functions a Lua chunk defines when it runs: `function f(` and `f = function(`, not `local`. */
export function luaGlobalFunctions(source: string): Set<string> {
  const code = source.replace(/--\[(=*)\[[\s\S]*?\]\1\]/g, '').replace(/--[^\n]*/g, '');
  const names = new Set<string>();
  for (const m of code.matchAll(/(?<!local\s+)\bfunction\s+([A-Za-z_]\w*)\s*\(/g)) names.add(m[1]!);
  for (const m of code.matchAll(/(?<![\w.:]|local\s+)([A-Za-z_]\w*)\s*=\s*function\s*\(/g)) names.add(m[1]!);
  return names;
}

function parserReferences(props: Entry): [string, string][] {
  const refs: [string, string][] = [];
  for (const [key, value] of Object.entries(props)) {
    if (!/^(parser|parser_firstline|docker_mode_parser|parser_\d+)$/.test(key)) continue;
    for (const v of asList(value)) if (typeof v === 'string' && !v.includes('${')) refs.push([key, v]);
  }
  return refs;
}

function isTagByte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x5f ||
    b === 0x2e
  );
}

function percentDecode(bytes: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const hex = bytes.subarray(i + 1, i + 3).toString('latin1');
    if (bytes[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else out.push(bytes[i]!);
  }
  return Buffer.from(out);
}

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Fluent Bit compares property names case-insensitively; the classic captures write `Parser`. */
function lowerKeys(entry: Entry): Entry {
  return Object.fromEntries(Object.entries(entry).map(([k, v]) => [k.toLowerCase(), v]));
}

function checkValue(option: Option, value: unknown, fail: (msg: string) => void): void {
  const text = String(value);
  if (ENV_REF.test(text)) return;
  if (option.type === 'boolean' && !BOOLEAN.test(text)) fail(`expected a boolean, got "${text}"`);
  if (option.type === 'integer' && !INTEGER.test(text)) fail(`expected an integer, got "${text}"`);
  if (option.type === 'size' && !SIZE.test(text)) fail(`expected a size like 512K, got "${text}"`);
  if (option.type === 'deprecated') fail('deprecated in Fluent Bit 5.1');
}

function checkParsers(file: string, problems: string[]): { parsers: string[]; multiline: string[] } {
  const doc = parse(readFileSync(file, 'utf8')) as {
    parsers?: Record<string, unknown>[];
    multiline_parsers?: Record<string, unknown>[];
  };
  const names: string[] = [];
  (doc.parsers ?? []).forEach((parser, i) => {
    const at = (msg: string) => problems.push(`${file}: parsers[${i}]: ${msg}`);
    for (const key of Object.keys(parser)) {
      if (!PARSER_KEYS.includes(key.toLowerCase())) at(`unknown parser key "${key}"`);
    }
    if (typeof parser.name !== 'string') at('needs a name');
    else names.push(parser.name);
    if (!PARSER_FORMATS.includes(String(parser.format)))
      at(`format must be one of ${PARSER_FORMATS.join(', ')}`);
    if (parser.format === 'regex' && typeof parser.regex !== 'string') at('a regex parser needs regex');
    if (typeof parser.types === 'string') {
      for (const pair of parser.types.split(/\s+/)) {
        const type = pair.split(':')[1];
        if (type === undefined || !PARSER_TYPES.includes(type)) at(`types: "${pair}" is not key:type`);
      }
    }
  });
  const multiline = (doc.multiline_parsers ?? []).map((p) => String(p.name));
  return { parsers: names, multiline };
}

/** `[PARSER]` and `[MULTILINE_PARSER]` names of a classic-format parsers file. */
function classicParsers(file: string): { parsers: string[]; multiline: string[] } {
  const found = { parsers: [] as string[], multiline: [] as string[] };
  let list: string[] | undefined;
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    const section = /^\[(\w+)\]$/.exec(line)?.[1]?.toUpperCase();
    if (section !== undefined) {
      list =
        section === 'PARSER' ? found.parsers : section === 'MULTILINE_PARSER' ? found.multiline : undefined;
      continue;
    }
    const name = /^name\s+(\S+)/i.exec(line)?.[1];
    if (list !== undefined && name !== undefined) list.push(name);
  }
  return found;
}
