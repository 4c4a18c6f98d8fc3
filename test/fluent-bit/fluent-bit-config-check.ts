import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * Checks a Fluent Bit YAML config the way Fluent Bit 5.1 does at start-up, and a little stricter:
 * every key of every plugin must be an option of that plugin in `fluent-bit -J` (the schema
 * captured from a real 5.1.1 build) or a property the engine itself handles for every instance;
 * required keys must be set; typed values must parse; parsers, Lua functions and files referred
 * to must exist. Returns one message per problem, naming the file, section and key.
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

export interface ConfigFacts {
  /** Environment variables the file refers to as `${NAME}`. */
  env: Set<string>;
  problems: string[];
}

/**
 * `doc` defaults to the parsed YAML of `file`; pass it to check a config read another way (the
 * classic-format captures). Parser files other than YAML are not looked into.
 */
export function checkFluentBitConfig(
  file: string,
  schema: PluginSchema,
  doc: Record<string, unknown> = parse(readFileSync(file, 'utf8')) as Record<string, unknown>,
): ConfigFacts {
  const problems: string[] = [];
  const env = new Set<string>();
  for (const m of JSON.stringify(doc).matchAll(/\$\{([A-Z0-9_]+)\}/g)) env.add(m[1]!);
  const dir = dirname(file);
  const at = (where: string, msg: string) => problems.push(`${file}: ${where}: ${msg}`);

  for (const key of Object.keys(doc)) {
    if (!['service', 'pipeline', 'parsers'].includes(key)) at(key, 'unknown top-level section');
  }
  const service = (doc.service ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(service)) {
    if (!SERVICE_KEYS.includes(key.toLowerCase()))
      at(`service.${key}`, 'not a service setting of Fluent Bit 5.1');
  }

  const parserNames = new Set<string>();
  const parsersFile = service.parsers_file;
  const yamlParsers = typeof parsersFile === 'string' && /\.ya?ml$/.test(parsersFile);
  if (yamlParsers) {
    const path = resolve(dir, parsersFile);
    if (!existsSync(path)) at('service.parsers_file', `${path} does not exist`);
    else for (const name of checkParsers(path, problems)) parserNames.add(name);
  }
  if (Array.isArray(doc.parsers)) for (const name of checkParsers(file, problems)) parserNames.add(name);

  const pipeline = (doc.pipeline ?? {}) as Record<string, unknown>;
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
    const entries = (pipeline[list] ?? []) as Record<string, unknown>[];
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
      if (
        typeof entry.parser === 'string' &&
        (yamlParsers || parserNames.size > 0) &&
        !parserNames.has(entry.parser)
      ) {
        at(`${where}.parser`, `parser "${entry.parser}" is not defined`);
      }
      const multiline = entry['multiline.parser'];
      if (typeof multiline === 'string') {
        for (const p of multiline.split(',').map((s) => s.trim())) {
          if (!BUILTIN_MULTILINE.includes(p)) at(`${where}.multiline.parser`, `"${p}" is not a built-in`);
        }
      }
      if (name === 'lua' && typeof entry.script === 'string') {
        const script = resolve(dir, entry.script);
        if (!existsSync(script)) at(`${where}.script`, `${script} does not exist`);
        else if (!readFileSync(script, 'utf8').includes(`function ${String(entry.call)}(`)) {
          at(`${where}.call`, `${entry.script} defines no global function ${String(entry.call)}`);
        }
      }
    });
  }
  return { env, problems };
}

function checkValue(option: Option, value: unknown, fail: (msg: string) => void): void {
  const text = String(value);
  if (ENV_REF.test(text)) return;
  if (option.type === 'boolean' && !BOOLEAN.test(text)) fail(`expected a boolean, got "${text}"`);
  if (option.type === 'integer' && !INTEGER.test(text)) fail(`expected an integer, got "${text}"`);
  if (option.type === 'size' && !SIZE.test(text)) fail(`expected a size like 512K, got "${text}"`);
  if (option.type === 'deprecated') fail('deprecated in Fluent Bit 5.1');
}

function checkParsers(file: string, problems: string[]): string[] {
  const doc = parse(readFileSync(file, 'utf8')) as { parsers?: Record<string, unknown>[] };
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
  return names;
}
